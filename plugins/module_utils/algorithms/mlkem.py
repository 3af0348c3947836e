"""ML-KEM (FIPS 203) keys, only as subject keys of encryption certificates."""

from .base import Algorithm

# FIPS 203 / RFC 9935 object identifiers (NIST CSOR kems arc).
_OIDS = {
    "ml-kem-512": "2.16.840.1.101.3.4.4.1",
    "ml-kem-768": "2.16.840.1.101.3.4.4.2",
    "ml-kem-1024": "2.16.840.1.101.3.4.4.3",
}


def _classes(name):
    from cryptography.hazmat.primitives.asymmetric import mlkem

    level = name.rsplit("-", 1)[1]
    return (getattr(mlkem, "MLKEM%sPrivateKey" % level, None),
            getattr(mlkem, "MLKEM%sPublicKey" % level, None))


class MlKemAlgorithm(Algorithm):
    family = "ml-kem"
    can_sign = False

    def __init__(self, name):
        super().__init__(name, _OIDS[name])

    def generate(self):
        return _classes(self.name)[0].generate()

    def matches_public_key(self, public_key):
        cls = _classes(self.name)[1]
        return cls is not None and isinstance(public_key, cls)


def mlkem_algorithms():
    # cryptography ships ML-KEM-768 and ML-KEM-1024 only.
    return [MlKemAlgorithm(name) for name in ("ml-kem-768", "ml-kem-1024")]
