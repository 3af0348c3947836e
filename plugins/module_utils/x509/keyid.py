"""Key identifiers (RFC 5280 §4.2.1.2 method 1: SHA-1 of the key bits)."""

import hashlib

from cryptography import x509

from ..algorithms.spki import spki_der, split_spki


def key_identifier(public_key):
    _oid, bits = split_spki(spki_der(public_key))
    return hashlib.sha1(bits).digest()


def subject_key_identifier(public_key):
    return x509.SubjectKeyIdentifier(key_identifier(public_key))


def authority_key_identifier(issuer_key_id):
    return x509.AuthorityKeyIdentifier(issuer_key_id, None, None)
