"""Building and signing CRLs."""

from cryptography import x509

from .assemble import CRL, sign_builder


def build_crl(*, signer, issuer, issuer_key_id, crl_number, this_update, next_update, revoked,
              alt_signer=None):
    """``revoked``: iterable of (serial, revocation datetime, reason flag or None).
    ``alt_signer``: a catalyst CA's PQC key, adding the alternative signature."""
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(issuer)
               .last_update(this_update)
               .next_update(next_update)
               .add_extension(x509.CRLNumber(crl_number), False)
               .add_extension(x509.AuthorityKeyIdentifier(issuer_key_id, None, None), False))
    for serial, when, reason in revoked:
        entry = (x509.RevokedCertificateBuilder()
                 .serial_number(serial)
                 .revocation_date(when))
        if reason is not None and reason != x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(reason), False)
        builder = builder.add_revoked_certificate(entry.build())
    if alt_signer is not None:
        from .catalyst_sign import sign_catalyst_crl

        return sign_catalyst_crl(builder, signer, alt_signer)
    return x509.load_der_x509_crl(sign_builder(builder, CRL, signer))
