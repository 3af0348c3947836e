"""Signing X.509 structures whatever holds the key.

``cryptography``'s builders sign with classical and ML-DSA keys (software
keys or an HSM-backed subclass) directly. For signers it cannot use
(SLH-DSA, composite) and for subject keys it cannot encode, the structure is
first built by ``cryptography`` as a draft, then its to-be-signed part is
decoded with pyasn1, the signature AlgorithmIdentifier and/or the
SubjectPublicKeyInfo are replaced, and our signer signs the result.
"""

from ..dependencies import imported_later, missing

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import (
        ec, ed25519, ed448, mldsa, mlkem, rsa)
except ImportError:
    serialization = ec = ed25519 = ed448 = mldsa = mlkem = rsa = missing()

from ..algorithms.spki import spki_der

# pyasn1 only when a structure is re-signed: imported there, not at start-up
# (cryptography signs the common ones, classical and ML-DSA, by itself).
imported_later("pyasn1", "pyasn1_modules")

_NATIVE_PUBLIC = (ec.EllipticCurvePublicKey, rsa.RSAPublicKey, ed25519.Ed25519PublicKey,
                  ed448.Ed448PublicKey, mldsa.MLDSA44PublicKey, mldsa.MLDSA65PublicKey,
                  mldsa.MLDSA87PublicKey, mlkem.MLKEM768PublicKey, mlkem.MLKEM1024PublicKey)


def _certificate_spec():
    from pyasn1_modules import rfc5280

    return rfc5280.Certificate()


def _crl_spec():
    from pyasn1_modules import rfc5280

    return rfc5280.CertificateList()


def _csr_spec():
    from pyasn1_modules import rfc2986

    return rfc2986.CertificationRequest()


# (function returning an empty ASN.1 spec, to-be-signed field, its
#  signature-algorithm field or None, its SubjectPublicKeyInfo field or None)
# for each signed structure.
CERTIFICATE = (_certificate_spec, "tbsCertificate", "signature", "subjectPublicKeyInfo")
CRL = (_crl_spec, "tbsCertList", "signature", None)
CSR = (_csr_spec, "certificationRequestInfo", None, "subjectPKInfo")

_placeholder = None


def placeholder_key():
    """A throwaway Ed25519 key that signs drafts which are re-signed later."""
    global _placeholder
    if _placeholder is None:
        _placeholder = ed25519.Ed25519PrivateKey.generate()
    return _placeholder


def is_native_public_key(public_key):
    return isinstance(public_key, _NATIVE_PUBLIC)


def builder_sign(builder, signer):
    """Sign a cryptography builder with ``signer`` (which must have a
    crypto_key), using the hash and padding its algorithm and options ask."""
    key = signer.crypto_key()
    algorithm = signer.algorithm
    if algorithm.family == "ec":
        return builder.sign(key, algorithm.hash_algorithm(signer.options))
    if algorithm.family == "rsa":
        return builder.sign(key, algorithm.hash_algorithm(signer.options),
                            rsa_padding=algorithm.padding(signer.options))
    return builder.sign(key, None)


def sign_builder(builder, kind, signer, replace_spki=None, edit=None):
    """DER of ``builder`` signed by ``signer``. ``replace_spki`` is a subject
    public key cryptography cannot encode: the builder then holds a
    placeholder key and the real one is put in before the final signature.
    ``edit`` (optional) is called with the pyasn1 to-be-signed structure,
    its signature AlgorithmIdentifier already final, and may change it in
    place before the signature is made (catalyst CSR attributes).
    """
    if signer.crypto_key() is not None:
        draft = builder_sign(builder, signer)
        if replace_spki is None and edit is None:
            return draft.public_bytes(serialization.Encoding.DER)
        # The draft already carries the real AlgorithmIdentifier; only the key
        # changes (a second signature, paid only for exotic subject keys).
        return _resign(draft, kind, signer, None, replace_spki, edit)
    from pyasn1.type import univ
    from pyasn1_modules import rfc5280

    draft = builder.sign(placeholder_key(), None)
    alg = rfc5280.AlgorithmIdentifier()
    alg["algorithm"] = univ.ObjectIdentifier(signer.algorithm.signature_oid(signer.options))
    return _resign(draft, kind, signer, alg, replace_spki, edit)


def draft_tbs(builder, kind, replace_spki=None):
    """DER of the to-be-signed part ``builder`` would produce, with the real
    subject key put in; its signature AlgorithmIdentifier is a placeholder's
    (callers that need this draft drop that field: catalyst PreTBS)."""
    from pyasn1.codec.der import decoder, encoder

    spec, tbs_field, _alg_field, spki_field = kind
    draft = builder.sign(placeholder_key(), None)
    outer, dummy = decoder.decode(draft.public_bytes(serialization.Encoding.DER), asn1Spec=spec())
    tbs = outer[tbs_field]
    if replace_spki is not None:
        tbs[spki_field] = as_type_of(tbs[spki_field], spki_der(replace_spki))
    return encoder.encode(tbs)


def subject_key_for_builder(public_key):
    """(key to give the builder, key to put in afterwards or None)."""
    if is_native_public_key(public_key):
        return public_key, None
    return placeholder_key().public_key(), public_key


def _resign(draft, kind, signer, alg, subject_public_key, edit=None):
    from pyasn1.codec.der import decoder, encoder
    from pyasn1.type import univ

    spec, tbs_field, alg_field, spki_field = kind
    outer, dummy = decoder.decode(draft.public_bytes(serialization.Encoding.DER), asn1Spec=spec())
    tbs = outer[tbs_field]
    if alg is None:
        alg = outer["signatureAlgorithm"]
    alg_der = encoder.encode(alg)
    if alg_field is not None:
        tbs[alg_field] = as_type_of(tbs[alg_field], alg_der)
    if subject_public_key is not None:
        tbs[spki_field] = as_type_of(tbs[spki_field], spki_der(subject_public_key))
    outer["signatureAlgorithm"] = as_type_of(outer["signatureAlgorithm"], alg_der)
    if edit is not None:
        edit(tbs)
    outer["signature"] = univ.BitString.fromOctetString(signer.sign(encoder.encode(tbs)))
    return encoder.encode(outer)


def as_type_of(component, der):
    """``der`` decoded as the ASN.1 type of ``component`` (rfc2986 and rfc5280
    declare their own, incompatible, copies of the same structures)."""
    from pyasn1.codec.der import decoder

    value, dummy = decoder.decode(der, asn1Spec=type(component)())
    return value
