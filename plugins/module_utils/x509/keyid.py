"""Key identifiers (RFC 5280 §4.2.1.2 method 1: SHA-1 of the key bits)."""

import hashlib

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ..algorithms.spki import spki_der, split_spki


def key_identifier(public_key):
    # cryptography computes the same method-1 value for the keys it knows,
    # without an ASN.1 round trip; other keys (SLH-DSA, composite) are split
    # with pyasn1.
    if not hasattr(public_key, "spki_der") and not hasattr(public_key, "algorithm_name"):
        try:
            return x509.SubjectKeyIdentifier.from_public_key(public_key).digest
        except (TypeError, ValueError):
            pass
    _oid, bits = split_spki(spki_der(public_key))
    return hashlib.sha1(bits).digest()


def subject_key_identifier(public_key):
    return x509.SubjectKeyIdentifier(key_identifier(public_key))


def authority_key_identifier(issuer_key_id):
    return x509.AuthorityKeyIdentifier(issuer_key_id, None, None)


def certificate_key_id(cert, public_key=None):
    """The key identifier a certificate's issued certificates and CRLs name
    in their AKI: its SubjectKeyIdentifier, or one computed from its key."""
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        from .parse import public_key_of_certificate

        return key_identifier(public_key if public_key is not None
                              else public_key_of_certificate(cert))
