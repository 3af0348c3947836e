"""Which certificates the next CRL lists (issue 13, item 8).

The index's revoked entries, and never fewer than the previous CRL
(``crl/ca.crl.der``) listed, except for

- a certificate taken off hold: the audit log's last record about it is
  its release (``cert.unhold``);
- with ``drop_expired``, a certificate that expired and was already listed
  by a CRL issued after its expiry (RFC 5280 §3.3). The default keeps
  expired entries for ever.

Anything else the previous CRL listed and the index no longer shows
revoked is a revocation undone behind qpki's back (an edited index.txt, a
deleted line): ``crl gen`` refuses it rather than publish a CRL that
forgets the revocation.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ...dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ...errors import StoreError
from ...revocation import RevokedEntry
from ...store import audit as store_audit
from ...store.ca_dir import CaDir
from ...store.index import serial_hex
from ..audit.replay import replay


@dataclass(frozen=True)
class PreviousCrl:
    """The serials the CA's current CRL lists, its number, thisUpdate and
    nextUpdate (naive UTC)."""

    serials: frozenset[int]
    number: int | None
    this_update: datetime.datetime
    path: str
    next_update: datetime.datetime | None = None


def previous_crl(ca: CaDir, issuer: x509.Name, version: str | None = None) -> PreviousCrl | None:
    """The CA's current CRL, or an earlier version's (None when there is
    none this CA issued)."""
    for path in (ca.crl_path(der=True, version=version), ca.crl_path(version=version)):
        try:
            data = path.read_bytes()
            crl = (x509.load_der_x509_crl(data) if path.suffix == ".der"
                   else x509.load_pem_x509_crl(data))
        except (OSError, ValueError):
            continue
        if crl.issuer != issuer:
            continue
        try:
            number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        except x509.ExtensionNotFound:
            number = None
        next_update = crl.next_update_utc
        return PreviousCrl(frozenset(entry.serial_number for entry in crl), number,
                           crl.last_update_utc.replace(tzinfo=None), str(path),
                           next_update.replace(tzinfo=None) if next_update else None)
    return None


def issued_with_key(ca: CaDir, entries: list[RevokedEntry], key_id: bytes) -> list[RevokedEntry]:
    """Those of ``entries`` whose certificate names ``key_id`` as its
    authority key: what one version of a rotated CA issued."""
    kept = []
    for entry in entries:
        try:
            cert = x509.load_pem_x509_certificate(ca.cert_path(entry.serial).read_bytes())
            aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        except (OSError, ValueError, x509.ExtensionNotFound):
            continue
        if aki.key_identifier == key_id:
            kept.append(entry)
    return kept


def expired_to_drop(entries: list[RevokedEntry], previous: PreviousCrl | None,
                    now: datetime.datetime) -> set[int]:
    """Serials of ``entries`` that expired before ``now`` and that the
    previous CRL, issued after their expiry, listed."""
    if previous is None:
        return set()
    limit = min(_naive(now), previous.this_update)
    return {entry.serial for entry in entries
            if entry.expires is not None and _naive(entry.expires) < limit
            and entry.serial in previous.serials}


def listed_entries(ca: CaDir, entries: list[RevokedEntry], previous: PreviousCrl | None,
                   now: datetime.datetime, drop_expired: bool = False) -> list[RevokedEntry]:
    """The entries of the next CRL; StoreError if it would drop a serial the
    previous CRL listed without a release or an allowed expiry."""
    dropped = expired_to_drop(entries, previous, now) if drop_expired else set()
    listed = [entry for entry in entries if entry.serial not in dropped]
    if previous is None:
        return listed
    missing_now = previous.serials - {entry.serial for entry in listed} - dropped
    if missing_now:
        unexplained = sorted(missing_now - released_serials(ca, missing_now))
        if unexplained:
            more = f" (and {len(unexplained) - 1} more)" if len(unexplained) > 1 else ""
            raise StoreError(
                f"serial {serial_hex(unexplained[0])}{more} would drop off the next CRL: "
                f"CRL {previous.number} ({previous.path}) lists it, {ca.index.name} no longer "
                "shows it revoked and the audit log records no release from hold; no CRL is "
                f"made until {ca.index.name} is restored (qpki audit verify shows what changed)")
    return listed


def released_serials(ca: CaDir, serials: set[int] | frozenset[int]) -> set[int]:
    """Those of ``serials`` whose last revocation record in the audit log is
    a release from hold. Only the revoke / unhold lines are parsed."""
    marks = (f'"{store_audit.REVOKE}"'.encode(), f'"{store_audit.UNHOLD}"'.encode())
    lines, dummy = store_audit.read_lines(store_audit.audit_path(ca.path))
    records = []
    for raw in lines:
        if marks[0] in raw or marks[1] in raw:
            try:
                records.append(store_audit.parse_line(raw))
            except (ValueError, UnicodeDecodeError):
                continue
    states = replay(records)[0]
    return {serial for serial in serials if serial in states and not states[serial].revoked}


def _naive(when: datetime.datetime) -> datetime.datetime:
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return when
