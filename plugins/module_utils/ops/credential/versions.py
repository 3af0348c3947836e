"""credential renew, rotate and activate: a credential's certificates over time.

A credential keeps the seed's ``credential.meta.json`` for the version in
use (its ``certificates``, ``not_before``, ``not_after``...) and adds
``active`` and ``versions`` once it has more than one: each version's
certificate entries, dates and status. Every version's certificate and
chain are kept under ``versions/<v>/``; the certificate and chain at the
top of the directory are copies of the active version's.

- renew: a new certificate for the same key (``v1`` -> ``v2``);
- rotate: a new key (``<role>.<algorithm>.<version>.key``, or a new token
  key) and its certificate;
- activate: go back (or forward) to a version; its key must still exist.

The names and extensions come from the current certificate through the
credential's profile, as they would from a CSR. Key files are never
copied or moved: a version names its key file.
"""

from __future__ import annotations

import copy
import datetime
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...algorithms.registry import get_algorithm
from ...errors import InputError
from ...profiles.loader import as_profile
from ...signer.keyfile import read_private_key
from ...store.atomic import ensure_dir, write_file
from ...store.credential_dir import CredentialDir, format_serial
from ...store.lock import ca_lock
from ...store.metafile import utc_text
from ...store.names import safe_component
from ...store.private_key import write_private_key
from ...x509.catalyst_verify import alt_public_key
from ...x509.certificate import utcnow
from ...x509.parse import load_certificates_file, public_key_of_certificate
from . import audit as credential_audit
from ..ca.authority import Authority
from ..ca.keys import KeyRequest, open_hsm_key
from ..cert.commands import csr_sans
from .read import (CredentialFiles, credential_certificate, open_credential,
                   storage_view)
from ..cert.issuance import fingerprint, issue, pem
from ..cert.revoke_target import serial_issued_here
from ..ensure import same_public_key
from .results import CredentialActivated, CredentialRenewed

if TYPE_CHECKING:
    from ...algorithms.key_types import PublicKey


def _version_ids(meta: dict[str, Any]) -> tuple[str, list[str]]:
    active = meta.get("active") or "v1"
    known = list((meta.get("versions") or {}).keys()) or [active]
    return active, known


def _next_id(known: list[str]) -> str:
    numbers = [int(v[1:]) for v in known if v[:1] == "v" and v[1:].isdigit()]
    return f"v{max(numbers, default=0) + 1}"


def _version_dir(cred: CredentialDir, version: str) -> Path:
    return cred.path / "versions" / safe_component(version, "version")


def _snapshot(meta: dict[str, Any]) -> dict[str, Any]:
    """The part of the metadata that belongs to the version in use."""
    fields = ("profiles", "status", "not_before", "not_after", "certificates")
    return {k: copy.deepcopy(meta.get(k)) for k in fields}


def _archive_current(files: CredentialFiles, meta: dict[str, Any], version: str,
                     now: str) -> dict[str, Any]:
    """The versions map with the current version in it (its files copied
    under versions/<v>/ the first time)."""
    versions = copy.deepcopy(meta.get("versions") or {})
    entry = versions.get(version) or dict(_snapshot(meta), created=meta.get("created"),
                                          activated_at=meta.get("created"))
    entry["archived_at"] = now
    versions[version] = entry
    folder = _version_dir(files.cred, version)
    name = os.path.basename(files.cert_path)
    if not (folder / name).is_file():
        ensure_dir(folder, 0o755)
        write_file(folder / name, (files.cred.path / name).read_bytes())
        if os.path.isfile(files.chain_path):
            write_file(folder / "chain.crt", Path(files.chain_path).read_bytes())
    return versions


def _new_software_key(files: CredentialFiles, algorithm: str, version: str,
                      passphrase: bytes | None) -> tuple[Any, dict[str, Any]]:
    key = get_algorithm(algorithm).generate()
    relative = f"{files.role}.{algorithm}.{version}.key"
    write_private_key(files.cred.path / relative, key, passphrase)
    return key.public_key(), {"type": "software", "path": relative}


def credential_renew(ca_dir: str | os.PathLike, cred_root: str | os.PathLike, cred_id: str,
                     new_key: bool = False, key: KeyRequest | None = None,
                     ca_passphrase: bytes | None = None,
                     now: datetime.datetime | None = None) -> CredentialRenewed:
    """A new version of the credential: its key again (renew) or a new key
    (``new_key``: rotate), certified by the CA at ``ca_dir``."""
    with credential_audit.locked(CredentialDir(cred_root, cred_id)):
        return _renew(ca_dir, cred_root, cred_id, new_key, key or KeyRequest(), ca_passphrase, now)


def _renew(ca_dir: str | os.PathLike, cred_root: str | os.PathLike, cred_id: str, new_key: bool,
           key: KeyRequest, ca_passphrase: bytes | None,
           now: datetime.datetime | None) -> CredentialRenewed:
    files = open_credential(cred_root, cred_id)
    meta = files.meta
    if meta.get("status") == "revoked":
        raise InputError(f"credential {files.cred.id} is revoked: enroll a new one")
    cert = credential_certificate(files)
    serial_issued_here(ca_dir, cert, f"credential {files.cred.id}")
    profile = as_profile((meta.get("profiles") or [""])[0])
    rendered = profile.render({}, csr_subject=cert.subject, csr_sans=csr_sans(cert))
    active, known = _version_ids(meta)
    version = _next_id(known)
    storages = copy.deepcopy(files.storage)
    public_key, alt_public = public_key_of_certificate(cert), alt_public_key(cert)
    # The CA is opened (its passphrase checked) before a new key is made, and
    # a new key file is removed again if the CA does not certify it.
    with Authority(ca_dir, ca_passphrase) as authority:
        made: list[Path] = []
        try:
            if new_key:
                public_key, storages[0] = _rotated_key(files, key, version)
                if storages[0].get("type") == "software":
                    made.append(files.cred.resolve(storages[0]["path"]))
                if len(storages) > 1:  # catalyst: a new PQC key too
                    alt_algorithm = meta["certificates"][0]["alt_algorithm"]
                    alt_public, storages[1] = _new_software_key(files, alt_algorithm, version,
                                                                key.passphrase)
                    made.append(files.cred.resolve(storages[1]["path"]))
            with ca_lock(authority.dir.path):
                issued = issue(authority, profile, rendered, public_key, now,
                               alt_public_key=alt_public)
                ca_head = credential_audit.ca_audit_head(authority.dir.path)
        except BaseException:
            for path in made:
                path.unlink(missing_ok=True)
            raise
        ca_subject = issued.issuer.rfc4514_string()
        chain = pem(issued) + b"".join(pem(c) for c in authority.chain_certificates())
    stamp = utc_text(now or utcnow())
    versions = _archive_current(files, meta, active, stamp)
    entry = dict(copy.deepcopy(meta["certificates"][0]), serial=format_serial(issued.serial_number),
                 fingerprint=fingerprint(issued), storage=storages)
    new_meta = dict(meta, status="valid", not_before=utc_text(issued.not_valid_before_utc),
                    not_after=utc_text(issued.not_valid_after_utc), certificates=[entry],
                    active=version)
    versions[version] = dict(_snapshot(new_meta), created=stamp, activated_at=stamp)
    new_meta["versions"] = versions
    folder = _version_dir(files.cred, version)
    ensure_dir(folder, 0o755)
    name = os.path.basename(files.cert_path)
    write_file(folder / name, pem(issued))
    write_file(folder / "chain.crt", chain)
    record = credential_audit.event(
        credential_audit.ROTATE if new_key else credential_audit.RENEW, files.cred.id,
        version=version, previous_version=active, serial=f"{issued.serial_number:X}",
        not_after=new_meta["not_after"], ca=ca_subject, ca_audit=ca_head,
        keys=[credential_audit.key_reference(item) for item in storages])

    def commit() -> None:
        files.cred.write_meta(new_meta)  # the commit point: the copies below follow it
        _publish(files, folder)

    credential_audit.recorded(files.cred, record, commit)
    return CredentialRenewed(changed=True, id=files.cred.id, version=version,
                             previous_version=active, rotated=new_key,
                             serial=f"{issued.serial_number:X}", not_after=new_meta["not_after"],
                             cert_path=files.cert_path,
                             key_storage=storage_view(files.cred, storages)[0])


def _rotated_key(files: CredentialFiles, key: KeyRequest, version: str) -> tuple[PublicKey, dict[str, Any]]:
    current = files.storage[0] if files.storage else {}
    if current.get("type") == "pkcs11":
        if not key.in_hsm or not key.key_label:
            raise InputError(f"credential {files.cred.id}: its key is in a token; a rotation "
                             "needs the HSM configuration and a new key label")
        if key.key_label == current.get("label"):
            raise InputError(f"credential {files.cred.id}: key label {key.key_label!r} is the "
                             "current key's; a rotation needs a new one")
        request = KeyRequest(hsm_config=key.hsm_config, key_label=key.key_label,
                             key_id=key.key_id, generate_key=True)
        signer, storage = open_hsm_key(request, files.algorithm, {})
        try:
            return signer.public_key(), storage
        finally:
            signer.close()
    return _new_software_key(files, files.algorithm, version, key.passphrase)


def _publish(files: CredentialFiles, folder: Path) -> None:
    """The top-level certificate and chain: copies of the active version's."""
    name = os.path.basename(files.cert_path)
    for source, target in ((folder / name, files.cred.path / name),
                           (folder / "chain.crt", files.cred.path / "chain.crt")):
        if source.is_file():
            data = source.read_bytes()
            if not target.is_file() or target.read_bytes() != data:
                write_file(target, data)


def credential_activate(cred_root: str | os.PathLike, cred_id: str, version: str,
                        key_passphrase: bytes | None = None) -> CredentialActivated:
    """Make ``version`` the credential's certificate and key again."""
    with credential_audit.locked(CredentialDir(cred_root, cred_id)):
        return _activate(cred_root, cred_id, version, key_passphrase)


def _activate(cred_root: str | os.PathLike, cred_id: str, version: str,
              key_passphrase: bytes | None) -> CredentialActivated:
    files = open_credential(cred_root, cred_id)
    meta = files.meta
    active, known = _version_ids(meta)
    if version == active:
        return CredentialActivated(changed=False, id=files.cred.id, version=version)
    versions = meta.get("versions") or {}
    if version not in versions:
        raise InputError(f"credential {files.cred.id} has no version {version!r} (versions: "
                         f"{', '.join(known)})")
    chosen = versions[version]
    folder = _version_dir(files.cred, version)
    name = os.path.basename(files.cert_path)
    cert = load_certificates_file(folder / name)[0]
    storage = chosen["certificates"][0]["storage"]
    first = storage[0] if isinstance(storage, list) else storage
    if first.get("type") == "software":  # the key must still be there, and be this one
        private = read_private_key(files.cred.resolve(first["path"]), key_passphrase)
        if not same_public_key(public_key_of_certificate(cert), private.public_key()):
            raise InputError(f"credential {files.cred.id}: the key of version {version} does "
                             "not match its certificate")
    stamp = utc_text(utcnow())
    versions = copy.deepcopy(versions)
    versions[active]["archived_at"] = stamp
    versions[version].pop("archived_at", None)
    versions[version]["activated_at"] = stamp
    new_meta = dict(meta, active=version, versions=versions,
                    **{k: copy.deepcopy(v) for k, v in chosen.items()
                       if k in ("profiles", "status", "not_before", "not_after", "certificates")})
    record = credential_audit.event(credential_audit.ACTIVATE, files.cred.id, version=version,
                                    previous_version=active, serial=f"{cert.serial_number:X}")

    def commit() -> None:
        files.cred.write_meta(new_meta)
        _publish(files, folder)

    credential_audit.recorded(files.cred, record, commit)
    return CredentialActivated(changed=True, id=files.cred.id, version=version,
                               previous_version=active, serial=f"{cert.serial_number:X}")
