"""Building and signing CRLs.

Large CRLs (100,000 entries and more) are built in one pass: every entry is
made once, with one shared CRLReason extension object per reason, and handed
to a single CertificateRevocationListBuilder; adding entries one by one
(``add_revoked_certificate``) copies the whole list each time, which is
quadratic. The signed DER is kept, so callers do not re-encode the CRL.
"""

import datetime

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ..errors import InputError
from .assemble import CRL, sign_builder

_EARLIEST = datetime.datetime(1950, 1, 1)


def _naive_utc(when):
    """``when`` as the naive UTC datetime cryptography stores."""
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return when


def revoked_certificates(revoked):
    """cryptography RevokedCertificate objects for (serial, revocation
    datetime, reason flag or None) tuples, with the checks the builder's
    setters make (positive serial of at most 159 bits, date from 1950)."""
    reasons = {}
    made = []
    make = x509.RevokedCertificateBuilder
    for serial, when, reason in revoked:
        if not isinstance(serial, int) or serial <= 0 or serial.bit_length() >= 160:
            raise InputError("serial %r cannot be listed in a CRL (it must be positive and "
                             "fit in 20 octets)" % (serial,))
        if when.tzinfo is not None:
            when = _naive_utc(when)
        if when < _EARLIEST:
            raise InputError("revocation date %s of serial %X is before 1950"
                             % (when.isoformat(), serial))
        if reason is None or reason == x509.ReasonFlags.unspecified:
            extensions = []
        else:
            extensions = reasons.get(reason)
            if extensions is None:
                extensions = reasons[reason] = [
                    x509.Extension(x509.CRLReason.oid, False, x509.CRLReason(reason))]
        # The constructor takes the values the setters would store; it is
        # the setters' per-entry copying that makes them slow here.
        made.append(make(serial, when, extensions).build())
    return made


def build_crl(*, signer, issuer, issuer_key_id, crl_number, this_update, next_update, revoked,
              alt_signer=None):
    """``revoked``: iterable of (serial, revocation datetime, reason flag or None).
    ``alt_signer``: a catalyst CA's PQC key, adding the alternative signature."""
    return build_crl_der(signer=signer, issuer=issuer, issuer_key_id=issuer_key_id,
                         crl_number=crl_number, this_update=this_update,
                         next_update=next_update, revoked=revoked, alt_signer=alt_signer)[0]


def build_crl_der(*, signer, issuer, issuer_key_id, crl_number, this_update, next_update,
                  revoked, alt_signer=None):
    """(CRL, its DER) for the arguments of ``build_crl``."""
    builder = (x509.CertificateRevocationListBuilder(revoked_certificates=revoked_certificates(revoked))
               .issuer_name(issuer)
               .last_update(this_update)
               .next_update(next_update)
               .add_extension(x509.CRLNumber(crl_number), False)
               .add_extension(x509.AuthorityKeyIdentifier(issuer_key_id, None, None), False))
    if alt_signer is not None:
        from cryptography.hazmat.primitives import serialization

        from .catalyst_sign import sign_catalyst_crl

        crl = sign_catalyst_crl(builder, signer, alt_signer)
        return crl, crl.public_bytes(serialization.Encoding.DER)
    der = sign_builder(builder, CRL, signer)
    return x509.load_der_x509_crl(der), der
