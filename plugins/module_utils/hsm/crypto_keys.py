"""Token keys presented as ``cryptography`` private keys.

``cryptography``'s X.509 builders accept any subclass of
``ec.EllipticCurvePrivateKey`` / ``rsa.RSAPrivateKey`` and call its Python
``sign()``; these subclasses forward that call to the token through a
``sign_digest(digest, hash_algorithm, padding, data)`` callable (``data``:
the message, None when it came prehashed; a token that only hashes and
signs itself needs it). Everything that
would need the private value (numbers, serialisation, ECDH, decryption)
is refused: it never leaves the HSM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Optional, Union

from ..dependencies import missing

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
except ImportError:
    hashes = ec = padding = rsa = utils = missing()

from ..errors import HsmError
from .signing import digest_of

if TYPE_CHECKING:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.padding import AsymmetricPadding
    from cryptography.utils import Buffer

    # sign_digest(digest, hash algorithm, RSA padding or None, the message when known)
    SignDigest = Callable[[bytes, hashes.HashAlgorithm, Optional[AsymmetricPadding], Optional[bytes]], bytes]
    HashChoice = Union[hashes.HashAlgorithm, utils.Prehashed, utils.NoDigestInfo]


def _digest_and_hash(data: Buffer, algorithm: HashChoice) -> tuple[bytes, hashes.HashAlgorithm]:
    """(digest, hash algorithm) for ``data`` hashed with ``algorithm`` or
    already hashed (``utils.Prehashed``)."""
    if isinstance(algorithm, utils.Prehashed):
        hash_algorithm = algorithm._algorithm  # noqa: SLF001 - no public accessor
        if len(data) != hash_algorithm.digest_size:
            raise ValueError("prehashed data has the wrong length for %s" % hash_algorithm.name)
        return bytes(data), hash_algorithm
    if not isinstance(algorithm, hashes.HashAlgorithm):
        raise TypeError("expected a hash algorithm, got %r" % (algorithm,))
    return digest_of(bytes(data), algorithm), algorithm


def _message(data: Buffer, algorithm: HashChoice) -> bytes | None:
    """The message itself, or None when only its digest was given."""
    return None if isinstance(algorithm, utils.Prehashed) else bytes(data)


def _not_exportable(name: str) -> HsmError:
    return HsmError("token key %s cannot be exported or used outside the HSM" % name)


class TokenEcPrivateKey(ec.EllipticCurvePrivateKey):
    """An EC private key held in a token."""

    def __init__(self, public_key: ec.EllipticCurvePublicKey, sign_digest: SignDigest, name: str) -> None:
        self._public_key = public_key
        self._sign_digest = sign_digest
        self._name = name

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public_key.curve

    @property
    def key_size(self) -> int:
        return self._public_key.curve.key_size

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public_key

    def sign(self, data: Buffer, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise TypeError("token EC keys sign with ec.ECDSA only")
        digest, hash_algorithm = _digest_and_hash(data, signature_algorithm.algorithm)
        return self._sign_digest(digest, hash_algorithm, None, _message(data, signature_algorithm.algorithm))

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        raise _not_exportable(self._name)

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        raise _not_exportable(self._name)

    def private_bytes(self, encoding: serialization.Encoding, format: serialization.PrivateFormat,  # noqa: A002
                      encryption_algorithm: serialization.KeySerializationEncryption) -> bytes:
        raise _not_exportable(self._name)

    def __copy__(self) -> TokenEcPrivateKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> TokenEcPrivateKey:
        return self

    def __repr__(self) -> str:
        return "<TokenEcPrivateKey %s %s>" % (self._name, self.curve.name)


class TokenRsaPrivateKey(rsa.RSAPrivateKey):
    """An RSA private key held in a token; honours PKCS1v15 and PSS."""

    def __init__(self, public_key: rsa.RSAPublicKey, sign_digest: SignDigest, name: str) -> None:
        self._public_key = public_key
        self._sign_digest = sign_digest
        self._name = name

    @property
    def key_size(self) -> int:
        return self._public_key.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public_key

    def sign(self, data: Buffer, padding_: AsymmetricPadding, algorithm: HashChoice) -> bytes:
        if not isinstance(padding_, (padding.PKCS1v15, padding.PSS)):
            raise TypeError("token RSA keys sign with PKCS1v15 or PSS padding only")
        digest, hash_algorithm = _digest_and_hash(data, algorithm)
        return self._sign_digest(digest, hash_algorithm, padding_, _message(data, algorithm))

    def decrypt(self, ciphertext: bytes, padding_: AsymmetricPadding) -> bytes:
        raise _not_exportable(self._name)

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        raise _not_exportable(self._name)

    def private_bytes(self, encoding: serialization.Encoding, format: serialization.PrivateFormat,  # noqa: A002
                      encryption_algorithm: serialization.KeySerializationEncryption) -> bytes:
        raise _not_exportable(self._name)

    def __copy__(self) -> TokenRsaPrivateKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> TokenRsaPrivateKey:
        return self

    def __repr__(self) -> str:
        return "<TokenRsaPrivateKey %s RSA-%d>" % (self._name, self.key_size)


def token_private_key(family: str, public_key: object, sign_digest: SignDigest,
                      name: str) -> TokenEcPrivateKey | TokenRsaPrivateKey:
    """The token key of ``family`` (``ec`` or ``rsa``) as a cryptography
    private key whose signatures go to ``sign_digest``."""
    if family == "ec" and isinstance(public_key, ec.EllipticCurvePublicKey):
        return TokenEcPrivateKey(public_key, sign_digest, name)
    if family == "rsa" and isinstance(public_key, rsa.RSAPublicKey):
        return TokenRsaPrivateKey(public_key, sign_digest, name)
    raise HsmError("token key %s: its public key is not a %s key" % (name, family))
