"""crl gen, crl info, crl verify."""

from __future__ import annotations

import datetime
import os
from typing import TYPE_CHECKING, Any, Iterator, cast

from ...dependencies import missing

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:
    serialization = missing()

from ...der import pem_armor
from ...errors import InputError
from ...progress import ProgressCallback, counted
from ...revocation import RevokedEntry
from ...x509.parse import load_certificates, load_crl
from .copy import check_crl_format, crl_copy
from ..describe.objects import describe_crl

if TYPE_CHECKING:
    from cryptography import x509
from .results import CrlInfo, CrlSigned, CrlVerdict

# crl gen needs the CA and its signers; they are imported in crl_gen so
# that ``qpki crl info`` starts without them.


class EncodedCrl:
    """A CRL plus the DER it was signed as: ``public_bytes(DER)`` returns
    those bytes instead of encoding a large CRL again (for the audit hook)."""

    def __init__(self, crl: x509.CertificateRevocationList, der: bytes) -> None:
        self._crl = crl
        self._der = der

    def public_bytes(self, encoding: serialization.Encoding) -> bytes:
        if encoding == serialization.Encoding.DER:
            return self._der
        return self._crl.public_bytes(encoding)

    def __len__(self) -> int:
        return len(self._crl)

    def __iter__(self) -> Iterator[x509.RevokedCertificate]:
        return iter(self._crl)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._crl, name)


def check_crl_days(days: object) -> None:
    """The one rule for a CRL's lifetime: a whole number of days, at least 1."""
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise InputError(f"the CRL validity must be a positive number of days (got {days!r})")


def crl_gen(ca_dir: str | os.PathLike, days: int = 7, passphrase: bytes | None = None,
            now: datetime.datetime | None = None, drop_expired: bool = False,
            version: str | None = None, out: str | os.PathLike | None = None,
            out_format: str = "pem", progress: ProgressCallback | None = None) -> CrlSigned:
    """Sign the CA's next CRL and write ``crl/ca.crl`` and ``crl/ca.crl.der``
    (and ``out``, when given: the same CRL at another path, in ``out_format``,
    pem or der).
    ``drop_expired``: leave out expired certificates a CRL issued after
    their expiry already listed (default: keep them). ``version``: an
    earlier version of a rotated CA signs, with its key, a CRL of the
    revoked certificates it issued (``crl/<version>/``). ``progress``: told
    of each stage (reading, entries, signing, writing) and of the entries
    built."""
    from ...store.atomic import ensure_dir, write_file
    from ...store.lock import ca_lock
    from ...x509.certificate import utcnow
    from ...x509.crl import build_crl_der
    from ..audit.trail import audit_ready, crl_record
    from ..audit.journal import journaled
    from ..ca.authority import Authority
    from ..ca.urls import CaUrls
    from .entries import issued_with_key, listed_entries, previous_crl

    check_crl_days(days)
    out_format = check_crl_format(out_format)
    now = now or utcnow()
    with Authority(ca_dir, passphrase, version=version) as authority, \
            ca_lock(authority.dir.path):
        ca = authority.dir
        earlier = authority.version if authority.version != authority.ca_meta.active else None
        pem_path, der_path = ca.crl_path(version=earlier), ca.crl_path(der=True, version=earlier)
        copy = crl_copy(out, out_format, pem_path, der_path)
        # A CRL URL naming the version points this version's certificates at crl/<version>/.
        own = [] if earlier or not CaUrls.from_meta(authority.meta).per_version_crl else [
            ca.crl_path(version=authority.version), ca.crl_path(der=True, version=authority.version)]
        audit_ready(ca.path)  # refuse before anything changes if audit.log is missing or damaged
        tell = progress or _silent
        tell(READING, 0, None)
        entries = authority.store.revoked_entries(naive=True, with_expiry=drop_expired)
        if earlier:
            entries = issued_with_key(ca, entries, authority.key_id)
        revoked = listed_entries(ca, entries, previous_crl(ca, authority.cert.subject, earlier),
                                 now, drop_expired)
        tell(READING, len(revoked), len(revoked))
        number = authority.store.take_crl_number()
        # A catalyst CA (alt_signer) signs its CRL with both keys.
        crl, der = build_crl_der(
            signer=authority.signer, issuer=authority.cert.subject,
            issuer_key_id=authority.key_id, crl_number=number,
            this_update=now, next_update=now + datetime.timedelta(days=days),
            revoked=_entries_then_signing(revoked, progress) if progress else revoked,
            alt_signer=authority.alt_signer,
            freshest_url=None if earlier else authority.urls.delta_crl)
        tell(SIGNING, 1, 1)

        def write() -> None:
            ensure_dir(der_path.parent, 0o755)
            write_file(der_path, der)
            write_file(pem_path, pem_armor(der, "X509 CRL"))
            if own:
                ensure_dir(own[0].parent, 0o755)
                write_file(own[1], der)
                write_file(own[0], pem_armor(der, "X509 CRL"))

        tell(WRITING, 0, 1)
        # EncodedCrl stands in for the CRL (same attributes, DER not re-encoded).
        record = crl_record(authority, cast(Any, EncodedCrl(crl, der)), number)
        if earlier:
            record["version"] = earlier
        journaled(ca.path, [record], write)
        if copy is not None:
            copy.write(der)
        tell(WRITING, 1, 1)
    if copy is not None:
        return CrlSigned(describe_crl(crl), changed=True, paths=[copy.path, pem_path, der_path],
                         format=out_format, path=copy.path)
    return CrlSigned(describe_crl(crl), changed=True, paths=[pem_path, der_path, *own],
                     format=out_format, path=pem_path if out_format == "pem" else der_path)


READING, ENTRIES, SIGNING, WRITING = ("reading revocations", "CRL entries", "signing the CRL",
                                      "writing the CRL")


def _silent(stage: str, done: int, total: int | None) -> None:
    return None


def _entries_then_signing(revoked: list[RevokedEntry],
                          tell: ProgressCallback) -> Iterator[RevokedEntry]:
    """The entries, counted as the CRL builder takes them; once it has all
    of them, it signs."""
    yield from counted(revoked, tell, ENTRIES, len(revoked))
    tell(SIGNING, 0, 1)


def crl_info(crl_data: bytes, where: str) -> CrlInfo:
    return CrlInfo(describe_crl(load_crl(crl_data, where), entries=True))


def crl_verify(crl_data: bytes, ca_data: bytes, at: datetime.datetime | None = None,
               where: str = "CRL", classical_only: bool = False,
               strict: bool = False) -> CrlVerdict:
    """Check a CRL against its CA; ``strict`` refuses the legacy composite form."""
    from ...x509.verify import verify_crl
    from ..describe.legacy import legacy_verdict

    crl = load_crl(crl_data, where)
    issuers = load_certificates(ca_data, "--ca")
    result = verify_crl(crl, issuers[0], at=at, check_time=at is not None,
                        classical_only=classical_only)
    return CrlVerdict(**legacy_verdict({"changed": False, "valid": result.valid,
                                        "reason": result.reason, "details": result.details},
                                       result.legacy, strict))
