"""Building and signing certificates."""

import datetime

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ..der import content_bounds, element
from .assemble import CERTIFICATE, builder_sign, sign_builder, subject_key_for_builder
from .keyid import authority_key_identifier, key_identifier

_SKI = x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER
_AKI = x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER


def certificate_builder(*, subject, issuer, serial, not_before, not_after,
                        extensions, subject_public_key, issuer_key_id):
    """A builder (without public key) carrying every field and extension,
    SKI and AKI included. ``extensions``: cryptography ``x509.Extension``
    objects (any SKI or AKI among them is replaced). ``issuer_key_id`` None
    means self-signed."""
    own_id = key_identifier(subject_public_key)  # computed once: SKI, and AKI if self-signed
    if not isinstance(issuer_key_id, x509.AuthorityKeyIdentifier):  # else prebuilt per batch
        issuer_key_id = authority_key_identifier(
            issuer_key_id if issuer_key_id is not None else own_id)
    extensions = [ext for ext in extensions if ext.oid != _SKI and ext.oid != _AKI]
    extensions.append(x509.Extension(_SKI, False, x509.SubjectKeyIdentifier(own_id)))
    extensions.append(x509.Extension(_AKI, False, issuer_key_id))
    _reject_duplicates(extensions)
    # The extensions are given to the constructor as one list: add_extension
    # would wrap each value in a new Extension and rescan the list every time.
    # The fields still go through the builder's checking setters.
    return (x509.CertificateBuilder(extensions=extensions)
            .subject_name(subject)
            .issuer_name(issuer)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after))


def _reject_duplicates(extensions):
    """ValueError, as add_extension would raise, if an extension type repeats."""
    if len({ext.oid for ext in extensions}) != len(extensions):
        raise ValueError("This extension has already been set.")


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


def with_signature(der, signature):
    """``der`` (a signed certificate, CRL or CSR) with ``signature`` as its
    signature value instead of the one it has; its to-be-signed part and
    signature algorithm are kept byte for byte."""
    start, end = content_bounds(der)
    if der[0] != 0x30 or end != len(der):
        raise ValueError("not a DER SEQUENCE")
    after_tbs = content_bounds(der, start)[1]
    after_algorithm = content_bounds(der, after_tbs)[1]
    return element(0x30, der[start:after_algorithm] + element(0x03, b"\x00" + signature))
