"""Building and signing certificate signing requests."""

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from .assemble import CSR, sign_builder


def build_csr(signer, subject, extensions=(), alt_signer=None):
    """A CSR for the signer's own key (proof of possession by that key).
    With ``alt_signer`` it is a catalyst CSR that also proves possession of
    the alternative (PQC) key."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    for ext in extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    # CSR builders take the subject key from the signing key; a key they
    # cannot sign with is put in by the rewrite.
    replace = None if signer.crypto_key() is not None else signer.public_key()
    if alt_signer is not None:
        from .catalyst_sign import sign_catalyst_csr

        return x509.load_der_x509_csr(sign_catalyst_csr(builder, signer, alt_signer, replace))
    return x509.load_der_x509_csr(sign_builder(builder, CSR, signer, replace))
