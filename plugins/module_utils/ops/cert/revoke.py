"""cert revoke and cert unhold: a certificate's revocation state in the
CA's database, each change and its audit record in one transaction (see
``store.cert_store``).

Rules (RFC 5280 §5.3.1, §5.3.2):

- removeFromCRL is refused: it only means something in a delta CRL;
- a certificate on hold (certificateHold) is taken off hold with
  ``cert_unhold``, which is the only way back to valid: any other revoked
  certificate stays revoked;
- an invalidity date (when the key is known or suspected to have been
  compromised) goes with keyCompromise and cACompromise, the reasons the
  ``openssl ca`` index can hold it with, and may not be later than the
  revocation.
"""

from __future__ import annotations

import datetime
import os

from ...errors import InputError
from ...revocation import RevocationReason
from ...store.index import REVOKED, IndexEntry, serial_hex
from ...store.index_update import released, revoked
from ...store.lock import ca_lock
from ...store.metafile import utc_text
from ...x509.certificate import utcnow
from ..audit.trail import audit_ready, revoke_record, unhold_record
from ..ca.authority import Authority
from .results import CertReleased, CertRevoked

# What a hold release accepts: qpki's certificateHold, and removeFromCRL,
# with which an ``openssl ca`` user marks a hold to be lifted.
_RELEASABLE = (RevocationReason.certificate_hold, RevocationReason.remove_from_crl)


def parse_serial(serial: int | str) -> int:
    """An int from hex text (``1A2B``, ``0x1a2b``, ``1a:2b``) or an int."""
    if isinstance(serial, int) and not isinstance(serial, bool):
        return serial
    text = str(serial).strip().lower().replace(":", "").removeprefix("0x")
    shown = repr(str(serial)[:40]) + ("..." if len(str(serial)) > 40 else "")
    try:
        value = int(text, 16)
    except ValueError:
        raise InputError(f"serial {shown} is not a hexadecimal number") from None
    if value.bit_length() > 160:  # RFC 5280: at most 20 octets
        raise InputError(f"serial {shown} is longer than 20 octets (RFC 5280 limit)")
    return value


def revocation_request(reason: RevocationReason | str,
                       invalidity_date: datetime.datetime | None = None,
                       when: datetime.datetime | None = None) -> RevocationReason:
    """The reason of a revocation qpki may write; InputError otherwise."""
    reason = RevocationReason.parse(reason)
    if reason.delta_only:
        raise InputError(f"reason {reason} belongs in delta CRLs only (RFC 5280 §5.3.1); "
                         "to take a certificate off hold, release it (qpki cert unhold, or "
                         "released_serials of qpki_crl)")
    if invalidity_date is not None:
        if not reason.allows_invalidity_date:
            raise InputError(f"an invalidity date goes with keyCompromise or cACompromise, "
                             f"not {reason}")
        if invalidity_date > (when or utcnow()):
            raise InputError(f"invalidity date {utc_text(invalidity_date)} is later than the "
                             "revocation")
    return reason


def cert_revoke(ca_dir: str | os.PathLike, serial: int | str,
                reason: RevocationReason | str = RevocationReason.unspecified,
                when: datetime.datetime | None = None,
                invalidity_date: datetime.datetime | None = None) -> CertRevoked:
    """Revoke certificate ``serial`` of the CA at ``ca_dir``."""
    number = parse_serial(serial)
    when = when or utcnow()
    reason = revocation_request(reason, invalidity_date, when)
    with Authority(ca_dir, need_signers=False) as authority, ca_lock(authority.dir.path):
        audit_ready(authority.dir.path)
        dummy, entry = authority.store.change(
            number, lambda entry: revoked(entry, when, reason, invalidity_date),
            lambda before, after: revoke_record(after))
    return CertRevoked(True, f"{number:X}", reason.value, utc_text(entry.revoked_at),
                       [authority.dir.index],
                       utc_text(entry.invalidity_date) if entry.invalidity_date else None)


def releasable(entry: IndexEntry) -> IndexEntry:
    """``entry`` taken off hold; InputError naming why it cannot be."""
    serial = serial_hex(entry.serial)
    if entry.status != REVOKED:
        raise InputError(f"serial {serial} is not on hold (it is not revoked)")
    if entry.reason not in _RELEASABLE:
        shown = entry.reason.value if entry.reason else "no reason"
        raise InputError(f"serial {serial} is revoked ({shown}); only a certificate on hold "
                         "(certificateHold) can be released")
    return released(entry)


def cert_unhold(ca_dir: str | os.PathLike, serial: int | str) -> CertReleased:
    """Take certificate ``serial`` of the CA at ``ca_dir`` off hold: valid
    again, recorded, and left out of the next CRL."""
    number = parse_serial(serial)
    with Authority(ca_dir, need_signers=False) as authority, ca_lock(authority.dir.path):
        audit_ready(authority.dir.path)
        before, dummy = authority.store.change(
            number, releasable, lambda before, after: unhold_record(after, before.revoked_at))
        held_since = before.revoked_at
    return CertReleased(True, f"{number:X}", "valid", utc_text(held_since),
                        [authority.dir.index])
