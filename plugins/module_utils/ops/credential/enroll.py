"""credential enroll: a key (file or token) and its certificate, in one go."""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from ...dependencies import missing

try:
    from cryptography.x509.oid import NameOID
except ImportError:
    NameOID = missing()  # type: ignore[misc]  # placeholders when a library is absent

from ...algorithms.registry import get_algorithm
from ...errors import InputError
from ...profiles.loader import as_profile
from ...store.private_key import write_private_key
from ...store.atomic import write_file
from ...store.audit import audit_path
from ...store.credential_dir import CredentialDir, make_credential_id, prepare_root
from ...store.lock import ca_lock
from ...store.metafile import utc_text
from ...x509.certificate import utcnow
from . import audit as credential_audit
from ..ca.authority import Authority
from ..ca.keys import KeyRequest, open_hsm_key
from .read import storage_view
from ..keys.hybrid import alt_algorithm, check_key_request, subject_algorithm
from ..cert.issuance import fingerprint, issue, pem

if TYPE_CHECKING:
    from cryptography import x509

    from ...algorithms.base import Algorithm
    from ...profiles.profile import Profile
from .results import Enrolled, EnrolledCredential


def _role(algorithm: Algorithm) -> str:
    return "encryption" if not algorithm.can_sign else "signature"


def _common_name(subject: x509.Name) -> str:
    names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def credential_meta(cred_id: str, cert: x509.Certificate, profile: Profile, role: str,
                    algorithm: Algorithm, alt: Algorithm | None, storages: list[dict[str, Any]],
                    now: datetime.datetime | None = None) -> dict[str, Any]:
    """The ``credential.meta.json`` content of a new one-certificate credential."""
    meta: dict[str, Any] = {
        "id": cred_id,
        "subject": {"common_name": _common_name(cert.subject)},
        "profiles": [profile.name],
        "status": "valid",
        "created": utc_text(now or utcnow()),
        "not_before": utc_text(cert.not_valid_before_utc),
        "not_after": utc_text(cert.not_valid_after_utc),
        "certificates": [{
            "serial": cert.serial_number, "role": role, "profile": profile.name,
            "algorithm": algorithm.name, "fingerprint": fingerprint(cert),
            "storage": storages,
        }],
    }
    if alt is not None:
        # Catalyst: one certificate, two keys (storage lists both, classical
        # first); the PQC algorithm is recorded too.
        meta["certificates"][0]["alt_algorithm"] = alt.name
    return meta


def enroll_record(cred_id: str, cert: x509.Certificate, profile: Profile,
                  storages: list[dict[str, Any]], ca_head: str) -> dict[str, Any]:
    """The first line of a new credential's audit log."""
    return credential_audit.event(
        credential_audit.ENROLL, cred_id, version="v1", serial=f"{cert.serial_number:X}",
        profile=profile.name, not_after=utc_text(cert.not_valid_after_utc),
        ca=cert.issuer.rfc4514_string(), ca_audit=ca_head,
        keys=[credential_audit.key_reference(item) for item in storages])


def staging_log(staging: CredentialDir) -> str:
    return audit_path(staging.path)


def credential_enroll(ca_dir: str | os.PathLike, cred_dir: str | os.PathLike,
                      profile: Profile | str, values: dict[str, Any] | None = None,
                      credential_id: str | None = None, key: KeyRequest | None = None,
                      ca_passphrase: bytes | None = None) -> Enrolled:
    key = key or KeyRequest()
    profile = as_profile(profile)
    if profile.is_ca:
        raise InputError("profile %s is a CA profile: use qpki ca init" % profile.name)
    # The composite key, or the classical key of a catalyst profile (whose
    # PQC key, always a file, goes into subjectAltPublicKeyInfo).
    algorithm = get_algorithm(subject_algorithm(profile))
    alt = alt_algorithm(profile)
    alt = get_algorithm(alt) if alt else None
    check_key_request(profile, key)
    rendered = profile.render(values or {})
    cred_id = credential_id or make_credential_id(_common_name(rendered.subject))
    target = CredentialDir(cred_dir, cred_id)
    if target.exists():
        raise InputError("credential %s already exists in %s" % (cred_id, cred_dir))

    with Authority(ca_dir, ca_passphrase) as authority:
        prepare_root(cred_dir)
        work = tempfile.mkdtemp(prefix=".enroll-", dir=cred_dir)
        signer = None
        try:
            staging = CredentialDir(work, cred_id).create()
            role = _role(algorithm)
            if key.in_hsm:
                # As the seed says: enrolment generates the end-entity key in the token.
                key.generate_key = True
                signer, storage = open_hsm_key(key, algorithm.name, {})
                public_key = signer.public_key()
            else:
                private_key = algorithm.generate()
                write_private_key(staging.key_path(role, algorithm.name), private_key,
                                  key.passphrase)
                public_key = private_key.public_key()
                storage = {"type": "software", "path": staging.key_relpath(role, algorithm.name)}
            storages, alt_public_key = [storage], None
            if alt is not None:
                alt_key = alt.generate()
                write_private_key(staging.key_path(role, alt.name), alt_key, key.passphrase)
                alt_public_key = alt_key.public_key()
                storages.append({"type": "software",
                                 "path": staging.key_relpath(role, alt.name)})
            with ca_lock(authority.dir.path):
                cert = issue(authority, profile, rendered, public_key,
                             alt_public_key=alt_public_key)
                ca_head = credential_audit.ca_audit_head(authority.dir.path)
            write_file(staging.cert_path(role, algorithm.name), pem(cert))
            write_file(staging.chain, b"".join(pem(c) for c in authority.chain_certificates()))
            staging.write_meta(credential_meta(cred_id, cert, profile, role, algorithm, alt,
                                               storages))
            write_file(staging_log(staging), credential_audit.first_line(
                enroll_record(cred_id, cert, profile, storages, ca_head)))
            os.rename(staging.path, target.path)
            os.rmdir(work)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        finally:
            if signer is not None:
                signer.close()
    return Enrolled(changed=True, credential=enrolled_credential(
        target, cert, role, algorithm, alt, storages))


def enrolled_credential(target: CredentialDir, cert: x509.Certificate, role: str,
                        algorithm: Algorithm, alt: Algorithm | None,
                        storages: list[dict[str, Any]]) -> EnrolledCredential:
    """What an enrolment made: the certificate, where the keys are, the files written."""
    files = [target.meta, target.cert_path(role, algorithm.name), target.chain]
    if storages[0]["type"] == "software":
        files.append(target.key_path(role, algorithm.name))
    if alt is not None:
        files.append(target.key_path(role, alt.name))
    return EnrolledCredential(
        id=target.id, serial="%X" % cert.serial_number, subject=cert.subject.rfc4514_string(),
        not_after=utc_text(cert.not_valid_after_utc),
        cert_path=str(target.cert_path(role, algorithm.name)),
        key_storage=storage_view(target, storages[:1])[0],
        alt_algorithm=alt.name if alt is not None else None,
        alt_key_storage=storage_view(target, storages[1:])[0] if alt is not None else None,
        paths=[str(p) for p in files])
