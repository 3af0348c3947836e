"""ca init, ca info, ca export."""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from ...errors import InputError, StoreError

if TYPE_CHECKING:
    from cryptography import x509

    from ...profiles.profile import Profile

from ...profiles.loader import as_profile
from ...store.atomic import ensure_dir, write_file
from ...store.ca_dir import CaDir
from ...store.lock import ca_lock
from ...store.metafile import utc_text
from ...x509.certificate import certificate_builder, sign_certificate, utcnow
from .authority import Authority
from .database import claim_database, store_entry_for
from .publish import cross_certificates
from .urls import CaUrls
from .keys import KeyRequest, unprotected_key_files
from ..keys.hybrid import alt_extensions, check_key_request, new_ca_keys, subject_algorithm
from ..cert.issuance import check_can_issue, fingerprint, pem, signature_options, validity_window
from .results import CaCreated, CaExport, CaInfo


def ca_init(ca_dir: str | os.PathLike, profile: Profile | str,
            values: dict[str, Any] | None = None, parent_dir: str | os.PathLike | None = None,
            key: KeyRequest | None = None, passphrase: bytes | None = None,
            parent_passphrase: bytes | None = None, now: datetime.datetime | None = None,
            urls: CaUrls | None = None, store_dsn_env: str | None = None) -> CaCreated:
    """Create a root CA, or a subordinate CA signed by ``parent_dir``.
    ``urls`` (ops.ca.urls.CaUrls): the CRL / OCSP / CA-issuers URLs its
    certificates will carry. ``store_dsn_env``: the environment variable
    holding the connection string of a PostgreSQL database for the CA's
    certificates (default: ``ca.db`` in the CA directory).

    ``key`` is a KeyRequest (HSM key); software keys are generated.
    Everything is built in a temporary directory beside ``ca_dir`` and
    renamed into place, so a failure leaves nothing behind.
    """
    key = key or KeyRequest(passphrase=passphrase)
    target = CaDir(ca_dir)
    if os.path.lexists(ca_dir) and not os.path.isdir(ca_dir):
        raise StoreError("cannot create CA directory %s: a file is in the way" % ca_dir)
    if target.exists():
        raise StoreError("CA directory already exists: %s (refusing to overwrite)" % ca_dir)
    if os.path.isdir(ca_dir) and os.listdir(ca_dir):
        raise StoreError("directory %s is not empty and holds no CA" % ca_dir)
    profile = as_profile(profile)
    if not profile.is_ca:
        raise InputError("profile %s is not a CA profile (basicConstraints ca is not true)"
                         % profile.name)
    subject_algorithm(profile)  # an impossible hybrid pair fails before anything is made
    check_key_request(profile, key)
    rendered = profile.render(values or {})

    parent = Authority(parent_dir, parent_passphrase) if parent_dir else None
    try:
        if parent is not None:  # refused before any key is made; issue() checks again, locked
            check_can_issue(parent, profile)
        return _create(target, profile, rendered, key, parent, now, urls, store_dsn_env)
    finally:
        if parent is not None:
            parent.close()


def _create(target: CaDir, profile: Profile, rendered: Any, key: KeyRequest,
            parent: Authority | None, now: datetime.datetime | None, urls: CaUrls | None = None,
            store_dsn_env: str | None = None) -> CaCreated:
    parent_dir = os.path.dirname(os.path.abspath(target.path)) or "."
    ensure_dir(parent_dir)
    work = tempfile.mkdtemp(prefix=".%s.init-" % os.path.basename(target.path), dir=parent_dir)
    os.chmod(work, 0o755)
    keys = []
    try:
        staging = CaDir(work)
        staging.create_layout()
        # One key ("default"), or "classical" + "pqc" for a catalyst profile.
        keys = new_ca_keys(staging, profile, key)
        signer = keys[0].signer
        alt_signer = keys[1].signer if len(keys) > 1 else None
        public_key = signer.public_key()
        if parent is None:
            cert = self_sign(profile, rendered, signer, public_key, now, alt_signer)
            chain = None
        else:
            alt_public_key = alt_signer.public_key() if alt_signer is not None else None
            cert = parent_sign(parent, profile, rendered, public_key, now, alt_public_key)
            chain = pem(cert) + b"".join(pem(c) for c in parent.chain_certificates())
        write_file(staging.cert, pem(cert))
        if chain:
            write_file(staging.chain, chain)
        meta = {
            "profile": profile.name,
            "created": utc_text(now or utcnow()),
            "keys": [k.meta() for k in keys],
        }
        if urls:  # what the certificates this CA issues will point at (ops/ca/urls.py)
            meta["urls"] = urls.to_meta()
        if parent is not None:  # where to look for this CA's revocation (ops/ca/parent_status.py)
            from .parent_status import parent_reference

            meta["parent"] = parent_reference(target.path, parent.dir.path)
        from ..audit.trail import log_ca_init  # audit.log exists from the start (ops/audit/trail.py)
        log_ca_init(staging.path, cert, meta)
        meta["store"] = store_entry_for(store_dsn_env)
        staging.write_meta(meta)
        claim_database(staging, cert)
        _move_into_place(work, target.path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        for made in keys:
            made.signer.close()
    return CaCreated(**_summary(target, cert, meta, changed=True),
                     unprotected_keys=unprotected_key_files(target.path, meta["keys"],
                                                            key.passphrase))


def self_sign(profile: Profile, rendered: Any, signer: Any, public_key: Any,
              now: datetime.datetime | None, alt_signer: Any = None) -> x509.Certificate:
    not_before, not_after = validity_window(None, rendered.validity, now)
    from ...store.serials import fresh_serials

    builder = certificate_builder(
        subject=rendered.subject, issuer=rendered.subject, serial=fresh_serials(set())[0],
        not_before=not_before, not_after=not_after,
        extensions=list(rendered.extensions) + alt_extensions(
            alt_signer.public_key() if alt_signer is not None else None),
        subject_public_key=public_key, issuer_key_id=None)
    signer.options = signature_options(signer.algorithm, profile)
    # A catalyst root signs itself with both keys (X.509 §9.8).
    return sign_certificate(builder, signer, public_key, alt_signer=alt_signer)


def parent_sign(parent: Authority, profile: Profile, rendered: Any, public_key: Any,
                now: datetime.datetime | None, alt_public_key: Any = None) -> x509.Certificate:
    from ..cert.issuance import issue

    with ca_lock(parent.dir.path):
        return issue(parent, profile, rendered, public_key, now, alt_public_key=alt_public_key)


def _move_into_place(work: str, final: str | os.PathLike) -> None:
    if os.path.isdir(final):
        os.rmdir(final)  # empty: checked before
    os.rename(work, final)


def _summary(ca: CaDir, cert: x509.Certificate, meta: dict[str, Any],
             changed: bool) -> dict[str, Any]:
    """The fields of CaSummary."""
    written = [ca.meta, ca.cert, ca.chain] + [
        ca.path / k["storage"]["path"] for k in meta.get("keys", [])
        if k["storage"].get("type") == "software"]
    return dict(
        changed=changed,
        ca_dir=str(ca.path),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial="%X" % cert.serial_number,
        not_before=utc_text(cert.not_valid_before_utc),
        not_after=utc_text(cert.not_valid_after_utc),
        fingerprint_sha256=fingerprint(cert),
        profile=meta.get("profile"),
        keys=meta.get("keys", []),
        cert_path=str(ca.cert),
        chain_path=str(ca.chain) if ca.chain.exists() else None,
        paths=[str(p) for p in written if p.exists()],
    )


def ca_info(ca_dir: str | os.PathLike) -> CaInfo:
    from ...version import __version__

    with Authority(ca_dir, need_signers=False) as authority:
        remaining = authority.cert.not_valid_after_utc - utcnow()
        return CaInfo(
            **_summary(authority.dir, authority.cert, authority.meta, changed=False),
            expires_in_seconds=max(0, int(remaining.total_seconds())),
            urls=CaUrls.from_meta(authority.meta).to_meta(),  # as recorded ({version} kept)
            counters=_counters(authority.dir, authority.cert.subject),
            qpki_version=__version__, **ca_versions(authority))


def _counters(ca: CaDir, subject: x509.Name) -> dict[str, Any]:
    """How many certificates the CA issued and revoked, and its current CRL."""
    from ...store.cert_store import read_store
    from ..crl.entries import previous_crl

    with read_store(ca) as store:
        issued, revoked = store.counts()
    counters: dict[str, Any] = {"issued": issued, "revoked": revoked, "crl_number": None, "crl_next_update": None}
    current = previous_crl(ca, subject)
    if current is not None:
        counters["crl_number"] = current.number
        if current.next_update is not None:
            counters["crl_next_update"] = utc_text(current.next_update)
    return counters


def ca_versions(authority: Authority) -> dict[str, Any]:
    """The metadata shape, the active version and every version (with its
    certificate files) of an opened CA: QPKI's versioned shape, or the
    seed's flat one read as a single version ``v1``."""
    meta = authority.ca_meta
    versions = []
    for version in meta.versions.values():
        entry = version.summary()
        if meta.shape == "versioned":
            certs = authority.dir.version_certs_dir(version.id)
            entry["certificates"] = sorted(str(p) for p in certs.glob("*.pem")) \
                if certs.is_dir() else []
        else:
            entry["certificates"] = [str(authority.dir.cert)]
        versions.append(entry)
    return {"metadata_shape": meta.shape, "active_version": meta.active, "versions": versions}


def ca_export(ca_dir: str | os.PathLike, bundle: str = "ca",
              out: str | None = None) -> CaExport:
    """PEM of the CA certificate, its chain, or its root."""
    with Authority(ca_dir, need_signers=False) as authority:
        chain = authority.chain_certificates()
        if bundle == "ca":
            certs = [authority.cert]
        elif bundle == "chain":
            # A rotated root's chain also carries the cross-certificate its
            # previous key signed, for clients that trust only the old root;
            # it goes before the self-signed root, which path builders that
            # take the first match would otherwise pick.
            certs = chain[:-1] + cross_certificates(authority.dir, authority.version) + chain[-1:]
        elif bundle == "root":
            certs = [chain[-1]]
        else:
            raise InputError("unknown bundle %r (use ca, chain or root)" % bundle)
    data = b"".join(pem(c) for c in certs)
    if not out:
        return CaExport(changed=False, bundle=bundle, count=len(certs), pem=data.decode())
    write_file(out, data)
    return CaExport(changed=True, bundle=bundle, count=len(certs), pem=data.decode(), paths=[out])
