"""Signing a digest with a token private key.

Data is always hashed in software; the token only sees the digest:

* ECDSA: ``CKM_ECDSA`` on the digest; the token's raw ``r || s`` becomes a
  DER ``ECDSA-Sig-Value``.
* RSA PKCS#1 v1.5: ``CKM_RSA_PKCS`` on the DER ``DigestInfo``.
* RSA-PSS: ``CKM_RSA_PKCS_PSS`` on the digest, with the hash, MGF1 hash and
  salt length in ``CK_RSA_PKCS_PSS_PARAMS``.

A token that offers none of these raw mechanisms but a hash-and-sign one
(``CKM_ECDSA_SHA384``, ``CKM_SHA256_RSA_PKCS``...) gets the whole message
instead (:func:`hash_and_sign`); ``hsm.capabilities`` decides which.

Every token signature goes through :func:`token_sign`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import HsmError
from .library import describe_pkcs11_error

if TYPE_CHECKING:
    import pkcs11
    from cryptography.hazmat.primitives.asymmetric.padding import AsymmetricPadding
    from cryptography.hazmat.primitives.hashes import HashAlgorithm

    from ..algorithms.base import Algorithm

_HASH_OIDS = {
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sha384": "2.16.840.1.101.3.4.2.2",
    "sha512": "2.16.840.1.101.3.4.2.3",
}


def token_sign(private_key: pkcs11.SignMixin, data: bytes, mechanism: pkcs11.Mechanism,
               mechanism_param: object = None) -> bytes:
    """One ``C_Sign`` with the token key (the single place this package
    signs with a token)."""
    return private_key.sign(data, mechanism=mechanism, mechanism_param=mechanism_param)


def digest_of(data: bytes, hash_algorithm: HashAlgorithm) -> bytes:
    from cryptography.hazmat.primitives import hashes

    context = hashes.Hash(hash_algorithm)
    context.update(data)
    return context.finalize()


def ecdsa_sign_digest(private_key: pkcs11.SignMixin, digest: bytes, key_size: int, name: str = "key") -> bytes:
    """DER ECDSA signature of ``digest`` (``key_size``: curve bits)."""
    import pkcs11
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    raw = _call(name, token_sign, private_key, digest, pkcs11.Mechanism.ECDSA)
    half = (key_size + 7) // 8
    if len(raw) != 2 * half:
        raise HsmError("token key %s returned a %d-byte ECDSA signature (expected %d)"
                       % (name, len(raw), 2 * half))
    r = int.from_bytes(raw[:half], "big")
    s = int.from_bytes(raw[half:], "big")
    return encode_dss_signature(r, s)


def rsa_pkcs1_sign_digest(private_key: pkcs11.SignMixin, digest: bytes, hash_algorithm: HashAlgorithm,
                          name: str = "key") -> bytes:
    """RSASSA-PKCS1-v1_5 signature of ``digest``."""
    import pkcs11

    info = digest_info(digest, hash_algorithm)
    return _call(name, token_sign, private_key, info, pkcs11.Mechanism.RSA_PKCS)


def rsa_pss_sign_digest(private_key: pkcs11.SignMixin, digest: bytes, hash_algorithm: HashAlgorithm,
                        mgf_hash: HashAlgorithm, salt_length: int, name: str = "key") -> bytes:
    """RSASSA-PSS signature of ``digest``."""
    import pkcs11

    param = (_hash_mechanism(hash_algorithm), _mgf(mgf_hash), salt_length)
    return _call(name, token_sign, private_key, digest,
                 pkcs11.Mechanism.RSA_PKCS_PSS, param)


def hash_and_sign(private_key: pkcs11.SignMixin, data: bytes | None, mechanism_name: str, algorithm: Algorithm,
                  hash_algorithm: HashAlgorithm, pad: AsymmetricPadding | None, name: str = "key") -> bytes:
    """Signature of the message ``data`` by a mechanism that hashes inside
    the token (its name from ``capabilities.signing_mechanism``)."""
    import pkcs11
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from ..algorithms.classical import RsaAlgorithm

    if data is None:
        raise HsmError("token key %s signs whole messages only (%s), not a precomputed digest"
                       % (name, mechanism_name))
    mechanism = getattr(pkcs11.Mechanism, mechanism_name)
    param = None
    if isinstance(pad, padding.PSS):
        if not isinstance(algorithm, RsaAlgorithm):
            raise HsmError("token key %s: PSS signatures need an RSA key, not %s" % (name, algorithm.name))
        salt = pss_salt_length(pad._salt_length, hash_algorithm, algorithm.key_size)  # noqa: SLF001
        mgf_hash = getattr(pad.mgf, "_algorithm", hash_algorithm)
        param = (_hash_mechanism(hash_algorithm), _mgf(mgf_hash), salt)
    raw = _call(name, token_sign, private_key, data, mechanism, param)
    if algorithm.family != "ec":
        return raw
    half = len(raw) // 2
    return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))


def digest_info(digest: bytes, hash_algorithm: HashAlgorithm) -> bytes:
    """DER ``DigestInfo`` (RFC 8017 section 9.2) for ``digest``."""
    from pyasn1.codec.der import encoder
    from pyasn1.type import univ
    from pyasn1_modules import rfc8017

    oid = _HASH_OIDS.get(hash_algorithm.name)
    if oid is None:
        raise HsmError("hash %s is not supported for HSM RSA signatures" % hash_algorithm.name)
    info = rfc8017.DigestInfo()
    info["digestAlgorithm"]["algorithm"] = univ.ObjectIdentifier(oid)
    info["digestAlgorithm"]["parameters"] = univ.Any(encoder.encode(univ.Null("")))
    info["digest"] = digest
    return encoder.encode(info)


def pss_salt_length(salt_length: object, hash_algorithm: HashAlgorithm, key_size: int) -> int:
    """Resolve ``cryptography``'s PSS salt length markers to a number."""
    from cryptography.hazmat.primitives.asymmetric import padding

    if isinstance(salt_length, int):
        return salt_length
    if isinstance(salt_length, type(padding.PSS.DIGEST_LENGTH)):
        return hash_algorithm.digest_size
    if isinstance(salt_length, type(padding.PSS.MAX_LENGTH)):
        em_len = (key_size - 1 + 7) // 8
        return em_len - hash_algorithm.digest_size - 2
    raise HsmError("PSS salt length %r cannot be used for signing" % (salt_length,))


def _hash_mechanism(hash_algorithm: HashAlgorithm) -> pkcs11.Mechanism:
    import pkcs11

    table = {"sha256": pkcs11.Mechanism.SHA256, "sha384": pkcs11.Mechanism.SHA384,
             "sha512": pkcs11.Mechanism.SHA512}
    try:
        return table[hash_algorithm.name]
    except KeyError:
        raise HsmError("hash %s is not supported for HSM RSA-PSS signatures"
                       % hash_algorithm.name) from None


def _mgf(hash_algorithm: HashAlgorithm) -> pkcs11.MGF:
    import pkcs11

    table = {"sha256": pkcs11.MGF.SHA256, "sha384": pkcs11.MGF.SHA384,
             "sha512": pkcs11.MGF.SHA512}
    try:
        return table[hash_algorithm.name]
    except KeyError:
        raise HsmError("MGF1 with %s is not supported for HSM RSA-PSS signatures"
                       % hash_algorithm.name) from None


def _call(name: str, function: Callable[..., bytes], *args: object) -> bytes:
    import pkcs11

    try:
        return function(*args)
    except pkcs11.PKCS11Error as exc:
        raise HsmError("signing with token key %s failed: %s"
                       % (name, describe_pkcs11_error(exc))) from None
