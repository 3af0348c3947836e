"""Building and signing certificates."""

import datetime

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from .assemble import CERTIFICATE, builder_sign, sign_builder, subject_key_for_builder
from .keyid import authority_key_identifier, key_identifier

_SKI = x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER
_AKI = x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER


def certificate_builder(*, subject, issuer, serial, not_before, not_after,
                        extensions, subject_public_key, issuer_key_id):
    """A builder (without public key) carrying every field and extension,
    SKI and AKI included. ``issuer_key_id`` None means self-signed."""
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer)
               .serial_number(serial)
               .not_valid_before(not_before)
               .not_valid_after(not_after))
    own_id = key_identifier(subject_public_key)  # computed once: SKI, and AKI if self-signed
    for ext in extensions:
        if ext.oid in (_SKI, _AKI):
            continue
        builder = builder.add_extension(ext.value, ext.critical)
    builder = builder.add_extension(x509.SubjectKeyIdentifier(own_id), False)
    if isinstance(issuer_key_id, x509.AuthorityKeyIdentifier):  # prebuilt once per batch
        return builder.add_extension(issuer_key_id, False)
    return builder.add_extension(
        authority_key_identifier(issuer_key_id if issuer_key_id is not None else own_id), False)


def sign_certificate(builder, signer, subject_public_key, alt_signer=None):
    """The signed certificate as a cryptography Certificate. With
    ``alt_signer`` (a catalyst issuer's PQC key) it also carries the
    alternative signature of X.509 §9.8."""
    if alt_signer is not None:
        from .catalyst_sign import sign_catalyst_certificate

        return sign_catalyst_certificate(builder, signer, alt_signer, subject_public_key)
    builder_key, replace_spki = subject_key_for_builder(subject_public_key)
    builder = builder.public_key(builder_key)
    if replace_spki is None and signer.crypto_key() is not None:
        # cryptography signs it as it is: its Certificate is the result (no
        # DER round trip, no second parse)
        return builder_sign(builder, signer)
    der = sign_builder(builder, CERTIFICATE, signer, replace_spki)
    return x509.load_der_x509_certificate(der)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
