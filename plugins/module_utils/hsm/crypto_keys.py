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

from ..dependencies import missing

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
except ImportError:
    hashes = ec = padding = rsa = utils = missing()

from ..errors import HsmError
from .signing import digest_of


def _digest_and_hash(data, algorithm):
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


def _message(data, algorithm):
    """The message itself, or None when only its digest was given."""
    return None if isinstance(algorithm, utils.Prehashed) else bytes(data)


def _not_exportable(name):
    return HsmError("token key %s cannot be exported or used outside the HSM" % name)


class TokenEcPrivateKey(ec.EllipticCurvePrivateKey):
    """An EC private key held in a token."""

    def __init__(self, public_key, sign_digest, name):
        self._public_key = public_key
        self._sign_digest = sign_digest
        self._name = name

    @property
    def curve(self):
        return self._public_key.curve

    @property
    def key_size(self):
        return self._public_key.curve.key_size

    def public_key(self):
        return self._public_key

    def sign(self, data, signature_algorithm):
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise TypeError("token EC keys sign with ec.ECDSA only")
        digest, hash_algorithm = _digest_and_hash(data, signature_algorithm.algorithm)
        return self._sign_digest(digest, hash_algorithm, None, _message(data, signature_algorithm.algorithm))

    def exchange(self, algorithm, peer_public_key):
        raise _not_exportable(self._name)

    def private_numbers(self):
        raise _not_exportable(self._name)

    def private_bytes(self, encoding, format, encryption_algorithm):
        raise _not_exportable(self._name)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return "<TokenEcPrivateKey %s %s>" % (self._name, self.curve.name)


class TokenRsaPrivateKey(rsa.RSAPrivateKey):
    """An RSA private key held in a token; honours PKCS1v15 and PSS."""

    def __init__(self, public_key, sign_digest, name):
        self._public_key = public_key
        self._sign_digest = sign_digest
        self._name = name

    @property
    def key_size(self):
        return self._public_key.key_size

    def public_key(self):
        return self._public_key

    def sign(self, data, padding_, algorithm):
        if not isinstance(padding_, (padding.PKCS1v15, padding.PSS)):
            raise TypeError("token RSA keys sign with PKCS1v15 or PSS padding only")
        digest, hash_algorithm = _digest_and_hash(data, algorithm)
        return self._sign_digest(digest, hash_algorithm, padding_, _message(data, algorithm))

    def decrypt(self, ciphertext, padding_):
        raise _not_exportable(self._name)

    def private_numbers(self):
        raise _not_exportable(self._name)

    def private_bytes(self, encoding, format, encryption_algorithm):
        raise _not_exportable(self._name)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return "<TokenRsaPrivateKey %s RSA-%d>" % (self._name, self.key_size)


def token_private_key(family, public_key, sign_digest, name):
    """The token key of ``family`` (``ec`` or ``rsa``) as a cryptography
    private key whose signatures go to ``sign_digest``."""
    cls = TokenEcPrivateKey if family == "ec" else TokenRsaPrivateKey
    return cls(public_key, sign_digest, name)
