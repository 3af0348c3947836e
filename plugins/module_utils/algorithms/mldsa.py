"""ML-DSA (FIPS 204) through cryptography's native, OpenSSL-backed keys."""

from ..dependencies import missing

try:
    from cryptography.exceptions import InvalidSignature
except ImportError:
    InvalidSignature = missing()

from ..errors import VerificationError
from .base import Algorithm

# FIPS 204 / RFC 9881 object identifiers.
_OIDS = {
    "ml-dsa-44": "2.16.840.1.101.3.4.3.17",
    "ml-dsa-65": "2.16.840.1.101.3.4.3.18",
    "ml-dsa-87": "2.16.840.1.101.3.4.3.19",
}


def _classes(name):
    from cryptography.hazmat.primitives.asymmetric import mldsa

    level = name.rsplit("-", 1)[1]
    return (getattr(mldsa, "MLDSA%sPrivateKey" % level),
            getattr(mldsa, "MLDSA%sPublicKey" % level))


class MlDsaAlgorithm(Algorithm):
    family = "ml-dsa"

    def __init__(self, name):
        super().__init__(name, _OIDS[name])

    def generate(self):
        return _classes(self.name)[0].generate()

    def sign(self, private_key, data, options=None, context=None):
        return private_key.sign(data, context) if context else private_key.sign(data)

    def verify(self, public_key, signature, data, options=None, context=None):
        try:
            if context:
                public_key.verify(signature, data, context)
            else:
                public_key.verify(signature, data)
        except InvalidSignature:
            raise VerificationError("%s signature does not verify" % self.name) from None

    def matches_public_key(self, public_key):
        return isinstance(public_key, _classes(self.name)[1])


def mldsa_algorithms():
    return [MlDsaAlgorithm(name) for name in _OIDS]
