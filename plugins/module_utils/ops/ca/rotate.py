"""ca rotate, ca activate, ca recertify: a CA's key rollover.

A rotation makes a new version of the CA: a new key (file or token, same or
another profile and algorithm) and a certificate for it with the CA's
subject. A root's new version is self-signed, and the two keys certify each
other (cross-certificates), so that a client that trusts only one of the
two roots can still build a path to certificates issued under the other.
A subordinate's new version is certified by its parent.

Old versions keep their keys and certificates (``versions/<v>/``): they
still sign CRLs for what they issued (``crl gen --version``). The metadata
write is the commit point: files a rotation makes before it are not used
until it names them, and ca.crt / chain.crt are copies of the active
version that are made again if a crash left them behind.
"""

from __future__ import annotations

import datetime
import os
from typing import TYPE_CHECKING, Any

from ...dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ...errors import InputError
from ...profiles.loader import as_profile
from ...store import audit as store_audit
from ...store.atomic import ensure_dir, write_file
from ...store.ca_versions import next_version_id, versioned_data, with_active, with_version
from ...store.metafile import utc_text
from ...store.cert_store import SerialsInUse
from ...store.serials import fresh_serials
from ...x509.certificate import certificate_builder, sign_certificate, utcnow
from ...x509.keyid import key_identifier
from ..audit.trail import audit_ready, key_refs
from ..audit.journal import journaled
from .authority import Authority
from .commands import parent_sign, self_sign
from .keys import KeyRequest, unprotected_key_files
from .publish import publish_version, version_chain_path
from .results import CaActivated, CaPlanned, CaRotated, CaState, CaVersions
from ..keys.hybrid import check_key_request, new_ca_keys, subject_algorithm
from ..cert.issuance import fingerprint, pem

if TYPE_CHECKING:
    from ...profiles.profile import Profile

# A catalyst certificate's own alternative signature is not carried over
# into a cross-certificate (which gets its issuer's, if any).
_ALT_SIGNATURE_OIDS = ("2.5.29.73", "2.5.29.74")


def _subject_record(name: x509.Name) -> dict[str, Any]:
    cn = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return {"common_name": cn[0].value if cn else ""}


def _render_with_subject(profile: Profile, values: dict[str, Any] | None,
                         cert: x509.Certificate) -> Any:
    """The profile rendered for the CA's own subject: a rotation never
    renames the CA (its issued certificates and CRLs name it)."""
    values = dict(values or {})
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if names:
        values.setdefault("cn", names[0].value)
    rendered = profile.render(values)
    rendered.subject = cert.subject
    return rendered


def _copied_extensions(cert: x509.Certificate) -> list:
    return [ext for ext in cert.extensions if ext.oid.dotted_string not in _ALT_SIGNATURE_OIDS]


class _NewVersion:
    """The new version as an issuer of one cross-certificate."""

    def __init__(self, cert: x509.Certificate, signer: Any, alt_signer: Any) -> None:
        self.cert, self.signer, self.alt_signer = cert, signer, alt_signer
        self.key_id = key_identifier(signer.public_key())


def cross_certificate(subject_cert: x509.Certificate, subject_key: Any,
                      issuer: Authority | _NewVersion, serial: int,
                      now: datetime.datetime) -> x509.Certificate:
    """``subject_cert``'s name, key and extensions certified by ``issuer``'s
    key, valid from now until the earlier of the two certificates' ends."""
    not_after = min(subject_cert.not_valid_after_utc, issuer.cert.not_valid_after_utc)
    builder = certificate_builder(
        subject=subject_cert.subject, issuer=issuer.cert.subject, serial=serial,
        not_before=now, not_after=not_after, extensions=_copied_extensions(subject_cert),
        subject_public_key=subject_key, issuer_key_id=issuer.key_id)
    return sign_certificate(builder, issuer.signer, subject_key, alt_signer=issuer.alt_signer)


def _is_root(authority: Authority) -> bool:
    return authority.cert.issuer == authority.cert.subject


def ca_rotate(ca_dir: str | os.PathLike, profile: Profile | str | None = None,
              values: dict | None = None,
              key: KeyRequest | None = None, passphrase: bytes | None = None,
              parent_dir: str | os.PathLike | None = None,
              parent_passphrase: bytes | None = None, activate: bool = True,
              now: datetime.datetime | None = None) -> CaRotated:
    """Make a new version of the CA at ``ca_dir`` (and make it active)."""
    key = key or KeyRequest()
    now = now or utcnow()
    with Authority(ca_dir, passphrase) as old:
        ca = old.dir
        audit_ready(ca.path)
        root = _is_root(old)
        if root and parent_dir is not None:
            raise InputError(f"CA {ca.path} is a root CA: its new version has no parent")
        if not root and parent_dir is None:
            raise InputError(f"CA {ca.path} is a subordinate CA: its new version is certified "
                             "by its parent (give the parent CA directory)")
        profile = as_profile(profile or old.profile)
        if not profile.is_ca:
            raise InputError(f"profile {profile.name} is not a CA profile")
        subject_algorithm(profile)
        check_key_request(profile, key)
        rendered = _render_with_subject(profile, values, old.cert)
        version = next_version_id(old.ca_meta)
        ensure_dir(ca.private_dir / version, 0o700)
        keys = new_ca_keys(ca, profile, key, version)
        try:
            signer = keys[0].signer
            alt_signer = keys[1].signer if len(keys) > 1 else None
            public_key = signer.public_key()
            crosses: dict[str, Any] = {}
            if parent_dir is None:  # a root (checked above)
                cert = self_sign(profile, rendered, signer, public_key, now, alt_signer)
                chain = None
                crosses = _cross_pair(old, cert, public_key, signer, alt_signer, now)
            else:
                with Authority(parent_dir, parent_passphrase) as parent:
                    alt_public = alt_signer.public_key() if alt_signer is not None else None
                    cert = parent_sign(parent, profile, rendered, public_key, now, alt_public)
                    chain = pem(cert) + b"".join(pem(c) for c in parent.chain_certificates())
        finally:
            for made in keys:
                made.signer.close()
        written, cross_paths = _write_version_files(old, version, keys[0].algorithm, cert, chain,
                                                    crosses)
        data = versioned_data(old.ca_meta, _subject_record(old.cert.subject))
        data = with_version(data, version, profile=profile.name,
                            algorithms=[k.algorithm for k in keys],
                            keys=[k.meta() for k in keys], created=utc_text(now),
                            cross_signed_by=[old.version] if crosses else [])
        records = [_rotate_record(version, old.version, profile.name, cert, data)]
        if activate:
            data = with_active(data, version, utc_text(now))
            records.append(_activate_record(version, cert))

        def commit() -> None:
            ca.write_meta(data)
            if activate:
                publish_version(ca, ca.load_ca_meta(), version, cert)

        journaled(ca.path, records, commit)
    return CaRotated(changed=True, ca_dir=str(ca.path), version=version,
                     previous_version=old.version,
                     active_version=version if activate else old.version,
                     profile=profile.name, serial=f"{cert.serial_number:X}",
                     not_after=utc_text(cert.not_valid_after_utc),
                     cross_certificates=cross_paths,
                     unprotected_keys=unprotected_key_files(ca.path, [k.meta() for k in keys],
                                                            key.passphrase),
                     paths=written + [str(ca.meta)] + ([str(ca.cert)] if activate else []))


def _cross_pair(old: Authority, cert: x509.Certificate, public_key: Any, signer: Any,
                alt_signer: Any, now: datetime.datetime) -> dict[str, Any]:
    """Old key certifies the new one and the new key the old one: {path: cert}."""
    used = SerialsInUse(old.store)
    old_signs_new = cross_certificate(cert, public_key, old, fresh_serials(used)[0], now)
    new_issuer = _NewVersion(cert, signer, alt_signer)
    new_signs_old = cross_certificate(old.cert, old.public_key, new_issuer,
                                      fresh_serials(used)[0], now)
    return {"old_signs_new": old_signs_new, "new_signs_old": new_signs_old}


def _write_version_files(old: Authority, version: str, algorithm: str, cert: x509.Certificate,
                         chain: bytes | None,
                         crosses: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The version's certificate, chain and cross-certificates, and the
    previous version's certificate when the CA had none there (a flat CA's
    first rotation). Nothing refers to them until the metadata does.
    Returns (every path written, the cross-certificates' paths)."""
    ca = old.dir
    files = {ca.version_cert(version, algorithm): pem(cert)}
    previous = ca.version_cert(old.version, old.meta["keys"][0]["algorithm"])
    if not previous.is_file():
        files[previous] = pem(old.cert)
        if ca.chain.is_file():
            files[version_chain_path(ca, old.version)] = ca.chain.read_bytes()
    if chain:
        files[version_chain_path(ca, version)] = chain
    cross_files = {}
    if crosses:
        cross_files = {
            ca.version_certs_dir(version) / f"cross-from-{old.version}.pem": crosses["old_signs_new"],
            ca.version_certs_dir(old.version) / f"cross-from-{version}.pem": crosses["new_signs_old"]}
        files.update({path: pem(cross) for path, cross in cross_files.items()})
    for path, data in files.items():
        ensure_dir(path.parent, 0o755)
        write_file(path, data)
    return [str(p) for p in files], [str(p) for p in cross_files]


def _rotate_record(version: str, previous: str, profile_name: str, cert: x509.Certificate,
                   data: dict[str, Any]) -> dict[str, Any]:
    return {"time": utc_text(utcnow()), "op": store_audit.ROTATE, "version": version,
            "previous_version": previous, "profile": profile_name,
            "serial": f"{cert.serial_number:X}", "fingerprint": fingerprint(cert),
            "not_after": utc_text(cert.not_valid_after_utc),
            "keys": key_refs(data["versions"][version]["keys"])}


def _activate_record(version: str, cert: x509.Certificate) -> dict[str, Any]:
    return {"time": utc_text(utcnow()), "op": store_audit.ACTIVATE, "version": version,
            "fingerprint": fingerprint(cert)}


def ca_activate(ca_dir: str | os.PathLike, version: str,
                passphrase: bytes | None = None) -> CaActivated:
    """Make ``version`` the one that signs (its key is opened and checked
    against its certificate first)."""
    with Authority(ca_dir, passphrase, version=version) as chosen:
        ca = chosen.dir
        if chosen.ca_meta.active == version:
            return CaActivated(changed=False, ca_dir=str(ca.path), active_version=version)
        audit_ready(ca.path)
        data = with_active(versioned_data(chosen.ca_meta, _subject_record(chosen.cert.subject)),
                           version, utc_text(utcnow()))

        def commit() -> None:
            ca.write_meta(data)
            publish_version(ca, ca.load_ca_meta(), version, chosen.cert)

        journaled(ca.path, [_activate_record(version, chosen.cert)], commit)
    return CaActivated(changed=True, ca_dir=str(ca.path), active_version=version,
                       previous_version=chosen.ca_meta.active,
                       paths=[str(ca.meta), str(ca.cert)])


def ca_versions_list(ca_dir: str | os.PathLike) -> CaVersions:
    """Every version of the CA, the active one marked (read only)."""
    from .commands import ca_versions

    with Authority(ca_dir, need_signers=False) as authority:
        return CaVersions(changed=False, **ca_versions(authority))


def ca_recertify(ca_dir: str | os.PathLike, parent_dir: str | os.PathLike,
                 parent_passphrase: bytes | None = None, values: dict | None = None,
                 now: datetime.datetime | None = None) -> CaState | CaPlanned:
    """A new certificate for a subordinate CA's current key from its parent's
    active version (after the parent rotated): same key, same subject,
    installed as a renewal (``ca.install``)."""
    from ...x509.catalyst_verify import alt_public_key
    from .state import ca_install

    with Authority(ca_dir, need_signers=False) as sub:
        if _is_root(sub):
            raise InputError(f"CA {sub.dir.path} is a root CA: it has no parent to certify it")
        profile = as_profile(sub.profile)
        rendered = _render_with_subject(profile, values, sub.cert)
        public_key, alt_public = sub.public_key, alt_public_key(sub.cert)
    with Authority(parent_dir, parent_passphrase) as parent:
        cert = parent_sign(parent, profile, rendered, public_key, now or utcnow(), alt_public)
        chain = b"".join(pem(c) for c in parent.chain_certificates())
    result = ca_install(ca_dir, pem(cert), chain, cert_where="the new certificate",
                        chain_where=f"the chain of {parent_dir}")
    result.serial = f"{cert.serial_number:X}"
    return result
