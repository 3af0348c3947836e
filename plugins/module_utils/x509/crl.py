"""Building and signing CRLs.

Large CRLs (100,000 entries and more) are built in one pass: every entry is
made once, with one shared CRLReason extension object per reason, and handed
to a single CertificateRevocationListBuilder; adding entries one by one
(``add_revoked_certificate``) copies the whole list each time, which is
quadratic. The signed DER is kept, so callers do not re-encode the CRL.
"""

from __future__ import annotations

import datetime
from typing import Iterable

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ..errors import InputError
from ..revocation import RevocationReason, RevokedEntry
from .assemble import CRL, sign_builder

_EARLIEST = datetime.datetime(1950, 1, 1)


def _naive_utc(when):
    """``when`` as the naive UTC datetime cryptography stores."""
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return when


def revoked_certificates(revoked: Iterable[RevokedEntry], delta: bool = False) -> list:
    """cryptography RevokedCertificate objects for the entries of a full
    CRL, with the checks the builder's setters make (positive serial of at
    most 159 bits, dates from 1950). The reason is left out for unspecified
    (RFC 5280 §5.3.1: absent rather than unspecified); removeFromCRL, which
    belongs in delta CRLs only, is refused unless ``delta``."""
    reasons: dict = {}
    made = []
    make = x509.RevokedCertificateBuilder
    for entry in revoked:
        serial = entry.serial
        if not isinstance(serial, int) or serial <= 0 or serial.bit_length() >= 160:
            raise InputError(f"serial {serial!r} cannot be listed in a CRL (it must be positive "
                             "and fit in 20 octets)")
        when = _checked_date(entry.revoked_at, serial, "revocation")
        extensions = _reason_extensions(reasons, entry.reason, serial, delta)
        if entry.invalidity_date is not None:
            invalid = _checked_date(entry.invalidity_date, serial, "invalidity")
            extensions = extensions + [x509.Extension(
                x509.InvalidityDate.oid, False, x509.InvalidityDate(invalid))]
        # The constructor takes the values the setters would store; it is
        # the setters' per-entry copying that makes them slow here.
        made.append(make(serial, when, extensions).build())
    return made


def _checked_date(when: datetime.datetime, serial: int, what: str) -> datetime.datetime:
    if when.tzinfo is not None:
        when = _naive_utc(when)
    if when < _EARLIEST:
        raise InputError(f"{what} date {when.isoformat()} of serial {serial:X} is before 1950")
    return when


def _reason_extensions(cache: dict, reason: RevocationReason | None, serial: int,
                       delta: bool = False) -> list:
    """The entry extensions for ``reason``, one shared list per reason."""
    extensions = cache.get(reason)
    if extensions is None:
        if reason is not None and reason.delta_only and not delta:
            raise InputError(f"serial {serial:X} has reason {reason}, which cannot appear in a "
                             "full CRL (RFC 5280 §5.3.1: delta CRLs only); release it from hold")
        extensions = cache[reason] = [] if reason in (None, RevocationReason.unspecified) \
            else [x509.Extension(x509.CRLReason.oid, False,
                                 x509.CRLReason(x509.ReasonFlags(reason.value)))]
    return extensions


def build_crl(*, signer, issuer, issuer_key_id, crl_number, this_update, next_update, revoked,
              alt_signer=None):
    """``revoked``: iterable of RevokedEntry.
    ``alt_signer``: a catalyst CA's PQC key, adding the alternative signature."""
    return build_crl_der(signer=signer, issuer=issuer, issuer_key_id=issuer_key_id,
                         crl_number=crl_number, this_update=this_update,
                         next_update=next_update, revoked=revoked, alt_signer=alt_signer)[0]


def build_crl_der(*, signer, issuer, issuer_key_id, crl_number, this_update, next_update,
                  revoked, alt_signer=None, delta_of=None, freshest_url=None):
    """(CRL, its DER) for the arguments of ``build_crl``. ``delta_of``: the
    base CRL number of a delta CRL (RFC 5280 §5.2.4, Delta CRL Indicator,
    critical; removeFromCRL allowed). ``freshest_url``: where the delta CRLs
    are (freshestCRL, §5.2.6), for a full CRL of a CA that makes them."""
    entries = revoked_certificates(revoked, delta=delta_of is not None)
    builder = (x509.CertificateRevocationListBuilder(revoked_certificates=entries)
               .issuer_name(issuer)
               .last_update(this_update)
               .next_update(next_update)
               .add_extension(x509.CRLNumber(crl_number), False)
               .add_extension(x509.AuthorityKeyIdentifier(issuer_key_id, None, None), False))
    if delta_of is not None:
        builder = builder.add_extension(x509.DeltaCRLIndicator(delta_of), True)
    if freshest_url:
        builder = builder.add_extension(x509.FreshestCRL([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(freshest_url)], None, None, None)]), False)
    if alt_signer is not None:
        from cryptography.hazmat.primitives import serialization

        from .catalyst_sign import sign_catalyst_crl

        crl = sign_catalyst_crl(builder, signer, alt_signer)
        return crl, crl.public_bytes(serialization.Encoding.DER)
    der = sign_builder(builder, CRL, signer)
    return x509.load_der_x509_crl(der), der
