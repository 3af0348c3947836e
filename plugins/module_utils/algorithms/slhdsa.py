"""SLH-DSA (FIPS 205), pure mode with an empty context, as RFC 9909 uses it
in X.509. Signing and verification run in the compiled ``pqcrypto`` backend;
keys are small value objects with the same shape as cryptography's keys."""

import importlib

from ..errors import InputError, VerificationError
from .base import Algorithm

# FIPS 205 / RFC 9909 object identifiers (NIST CSOR sigAlgs arc).
_OIDS = {
    "slh-dsa-sha2-128s": "2.16.840.1.101.3.4.3.20",
    "slh-dsa-sha2-128f": "2.16.840.1.101.3.4.3.21",
    "slh-dsa-sha2-192s": "2.16.840.1.101.3.4.3.22",
    "slh-dsa-sha2-192f": "2.16.840.1.101.3.4.3.23",
    "slh-dsa-sha2-256s": "2.16.840.1.101.3.4.3.24",
    "slh-dsa-sha2-256f": "2.16.840.1.101.3.4.3.25",
    "slh-dsa-shake-128s": "2.16.840.1.101.3.4.3.26",
    "slh-dsa-shake-128f": "2.16.840.1.101.3.4.3.27",
    "slh-dsa-shake-192s": "2.16.840.1.101.3.4.3.28",
    "slh-dsa-shake-192f": "2.16.840.1.101.3.4.3.29",
    "slh-dsa-shake-256s": "2.16.840.1.101.3.4.3.30",
    "slh-dsa-shake-256f": "2.16.840.1.101.3.4.3.31",
}


def _backend(name):
    return importlib.import_module("pqcrypto.sign." + name.replace("-", "_"))


class SlhDsaPublicKey:
    def __init__(self, algorithm_name, data):
        backend = _backend(algorithm_name)
        if len(data) != backend.PUBLIC_KEY_SIZE:
            raise InputError(
                "%s public key must be %d bytes, got %d"
                % (algorithm_name, backend.PUBLIC_KEY_SIZE, len(data))
            )
        self.algorithm_name = algorithm_name
        self._data = bytes(data)

    def public_bytes_raw(self):
        return self._data

    def verify(self, signature, data):
        try:
            _backend(self.algorithm_name).verify(self._data, data, signature)
        except Exception:
            raise VerificationError(
                "%s signature does not verify" % self.algorithm_name) from None

    def __eq__(self, other):
        return (isinstance(other, SlhDsaPublicKey)
                and other.algorithm_name == self.algorithm_name
                and other._data == self._data)

    def __hash__(self):
        return hash((self.algorithm_name, self._data))


class SlhDsaPrivateKey:
    """SK.seed || SK.prf || PK.seed || PK.root, the FIPS 205 private key."""

    def __init__(self, algorithm_name, data):
        backend = _backend(algorithm_name)
        if len(data) != backend.SECRET_KEY_SIZE:
            raise InputError(
                "%s private key must be %d bytes, got %d"
                % (algorithm_name, backend.SECRET_KEY_SIZE, len(data))
            )
        self.algorithm_name = algorithm_name
        self._data = bytes(data)

    def private_bytes_raw(self):
        return self._data

    def public_key(self):
        # The public key is the second half of the private key (FIPS 205 §9.1).
        half = len(self._data) // 2
        return SlhDsaPublicKey(self.algorithm_name, self._data[half:])

    def sign(self, data):
        return _backend(self.algorithm_name).sign(self._data, data)


class SlhDsaAlgorithm(Algorithm):
    family = "slh-dsa"

    def __init__(self, name):
        super().__init__(name, _OIDS[name])

    def generate(self):
        _public, secret = _backend(self.name).keygen()
        return SlhDsaPrivateKey(self.name, secret)

    def sign(self, private_key, data, options=None):
        return private_key.sign(data)

    def verify(self, public_key, signature, data, options=None):
        public_key.verify(signature, data)

    def matches_public_key(self, public_key):
        return isinstance(public_key, SlhDsaPublicKey) and public_key.algorithm_name == self.name

    def load_public_raw(self, data):
        return SlhDsaPublicKey(self.name, data)

    def load_private_raw(self, data):
        return SlhDsaPrivateKey(self.name, data)


def slhdsa_algorithms():
    return [SlhDsaAlgorithm(name) for name in _OIDS]
