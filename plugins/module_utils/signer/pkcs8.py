"""PKCS#8 for keys ``cryptography`` cannot serialise (SLH-DSA, composite).

The private key goes into OneAsymmetricKey (RFC 5958) with the algorithm's
OID and the raw private key as the privateKey octets (RFC 9909 §6 for
SLH-DSA). Encrypted files use PBES2 (RFC 8018): PBKDF2-HMAC-SHA256 and
AES-256-CBC, the same scheme OpenSSL writes for ``-aes256``.
"""

from __future__ import annotations

import os

from ..dependencies import missing

try:
    from cryptography.hazmat.primitives import hashes, padding as sym_padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
    from pyasn1.codec.der import decoder, encoder
    from pyasn1.error import PyAsn1Error
    from pyasn1.type import univ
    from pyasn1_modules import rfc5208, rfc5958, rfc8018
except ImportError:
    hashes = sym_padding = Cipher = algorithms = modes = PBKDF2HMAC = decoder = encoder = missing()  # type: ignore[misc]
    PyAsn1Error = univ = rfc5208 = rfc5958 = rfc8018 = missing()

from ..errors import InputError

_AES256_CBC = univ.ObjectIdentifier("2.16.840.1.101.3.4.1.42")
_PBKDF2_ITERATIONS = 600000


def encode_private_key_info(oid: str, raw_private_key: bytes) -> bytes:
    info = rfc5958.OneAsymmetricKey()
    info["version"] = 0
    info["privateKeyAlgorithm"]["algorithm"] = univ.ObjectIdentifier(oid)
    info["privateKey"] = raw_private_key
    return encoder.encode(info)


def decode_private_key_info(der: bytes) -> tuple[str, bytes]:
    """(oid, raw private key) from an unencrypted PKCS#8 structure."""
    try:
        info, rest = decoder.decode(der, asn1Spec=rfc5958.OneAsymmetricKey())
    except (PyAsn1Error, OverflowError) as exc:  # OverflowError: pyasn1, huge lengths
        raise InputError("not a PKCS#8 private key: %s" % exc) from None
    if rest:
        raise InputError("not a PKCS#8 private key: trailing data")
    return str(info["privateKeyAlgorithm"]["algorithm"]), bytes(info["privateKey"])


def _kdf(passphrase: bytes, salt: bytes, iterations: int) -> bytes:
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt,
                      iterations=iterations).derive(passphrase)


def encrypt_private_key_info(der: bytes, passphrase: bytes) -> bytes:
    salt, iv = os.urandom(16), os.urandom(16)
    key = _kdf(passphrase, salt, _PBKDF2_ITERATIONS)
    padder = sym_padding.PKCS7(128).padder()
    plain = padder.update(der) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(plain) + encryptor.finalize()

    kdf_params = rfc8018.PBKDF2_params()
    kdf_params["salt"]["specified"] = salt
    kdf_params["iterationCount"] = _PBKDF2_ITERATIONS
    kdf_params["prf"]["algorithm"] = rfc8018.id_hmacWithSHA256
    kdf_params["prf"]["parameters"] = univ.Null("")
    pbes2 = rfc8018.PBES2_params()
    pbes2["keyDerivationFunc"]["algorithm"] = rfc8018.id_PBKDF2
    pbes2["keyDerivationFunc"]["parameters"] = kdf_params
    pbes2["encryptionScheme"]["algorithm"] = _AES256_CBC
    pbes2["encryptionScheme"]["parameters"] = univ.OctetString(iv)

    out = rfc5208.EncryptedPrivateKeyInfo()
    out["encryptionAlgorithm"]["algorithm"] = rfc8018.id_PBES2
    out["encryptionAlgorithm"]["parameters"] = encoder.encode(pbes2)
    out["encryptedData"] = ciphertext
    return encoder.encode(out)


def decrypt_private_key_info(der: bytes, passphrase: bytes, where: str) -> bytes:
    try:
        info, dummy = decoder.decode(der, asn1Spec=rfc5208.EncryptedPrivateKeyInfo())
        if info["encryptionAlgorithm"]["algorithm"] != rfc8018.id_PBES2:
            raise InputError("%s: only PBES2-encrypted keys are supported" % where)
        pbes2, dummy = decoder.decode(info["encryptionAlgorithm"]["parameters"],
                                      asn1Spec=rfc8018.PBES2_params())
        kdf, dummy = decoder.decode(pbes2["keyDerivationFunc"]["parameters"],
                                    asn1Spec=rfc8018.PBKDF2_params())
        if pbes2["encryptionScheme"]["algorithm"] != _AES256_CBC:
            raise InputError("%s: only AES-256-CBC encrypted keys are supported" % where)
        iv, dummy = decoder.decode(pbes2["encryptionScheme"]["parameters"],
                                   asn1Spec=univ.OctetString())
        salt = bytes(kdf["salt"]["specified"])
        iterations = int(kdf["iterationCount"])
    except (PyAsn1Error, OverflowError):  # pyasn1 overflows on >= 2**63 lengths
        raise InputError("%s: malformed encrypted private key" % where) from None
    key = _kdf(passphrase, salt, iterations)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(iv))).decryptor()
    try:
        plain = decryptor.update(bytes(info["encryptedData"])) + decryptor.finalize()
        unpadder = sym_padding.PKCS7(128).unpadder()
        return unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        raise InputError("%s: wrong passphrase or corrupted key" % where) from None
