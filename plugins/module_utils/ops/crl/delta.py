"""crl gen --delta: a delta CRL (RFC 5280 §5.2.4) against the CA's current
full CRL, its base.

It lists what changed since the base was made: certificates revoked since
(with their reason and invalidity date) and, with reason removeFromCRL,
certificates the base listed that are no longer revoked (released from
hold). Its CRL number comes from the CA's one counter, so it is above the
base's; the Delta CRL Indicator (critical) names the base's number. A full
CRL made later supersedes it: run ``crl gen`` then ``crl gen --delta``.
Written to ``crl/ca-delta.crl`` and ``.crl.der``; audited like a full CRL.
"""

from __future__ import annotations

import datetime
import os
from typing import Any, cast

from ...der import pem_armor
from ...errors import InputError
from ...revocation import RevocationReason, RevokedEntry
from ...store.atomic import write_file
from ...store.lock import ca_lock
from ...x509.certificate import utcnow
from ...x509.crl import build_crl_der
from ..audit.trail import audit_ready, crl_record
from ..audit.journal import journaled
from ..ca.authority import Authority
from .commands import EncodedCrl, check_crl_days
from .entries import previous_crl
from .results import DeltaCrlSigned
from ..describe.objects import describe_crl


def delta_entries(current: list[RevokedEntry], base_serials: frozenset[int],
                  now: datetime.datetime) -> list[RevokedEntry]:
    """What a delta CRL over a base listing ``base_serials`` holds."""
    added = [entry for entry in current if entry.serial not in base_serials]
    still = {entry.serial for entry in current}
    moment = now.astimezone(datetime.timezone.utc).replace(tzinfo=None) if now.tzinfo else now
    released = [RevokedEntry(serial, moment, RevocationReason.remove_from_crl)
                for serial in sorted(base_serials - still)]
    return added + released


def crl_gen_delta(ca_dir: str | os.PathLike, days: int = 1, passphrase: bytes | None = None,
                  now: datetime.datetime | None = None) -> DeltaCrlSigned:
    check_crl_days(days)
    now = now or utcnow()
    with Authority(ca_dir, passphrase) as authority, ca_lock(authority.dir.path):
        ca = authority.dir
        audit_ready(ca.path)
        base = previous_crl(ca, authority.cert.subject)
        if base is None or base.number is None:
            raise InputError(f"CA {ca.path} has no full CRL to be the base of a delta CRL: "
                             "make one first (qpki crl gen)")
        entries = delta_entries(authority.store.revoked_entries(naive=True), base.serials, now)
        number = authority.store.take_crl_number()
        crl, der = build_crl_der(
            signer=authority.signer, issuer=authority.cert.subject,
            issuer_key_id=authority.key_id, crl_number=number, this_update=now,
            next_update=now + datetime.timedelta(days=days), revoked=entries,
            alt_signer=authority.alt_signer, delta_of=base.number)
        pem_path, der_path = ca.delta_crl_path(), ca.delta_crl_path(der=True)

        def write() -> None:
            write_file(der_path, der)
            write_file(pem_path, pem_armor(der, "X509 CRL"))

        # EncodedCrl stands in for the CRL (same attributes, DER not re-encoded).
        record = crl_record(authority, cast(Any, EncodedCrl(crl, der)), number)
        record["delta_of"] = base.number
        journaled(ca.path, [record], write)
    return DeltaCrlSigned(describe_crl(crl), changed=True, base_crl_number=base.number,
                          paths=[str(pem_path), str(der_path)])
