"""ECDSA, RSA (PKCS#1 v1.5 and PSS) and Ed25519 through ``cryptography``."""

from ..dependencies import missing

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
except ImportError:
    InvalidSignature = hashes = ec = ed25519 = padding = rsa = missing()

from ..errors import InputError, VerificationError
from .base import Algorithm
from .hsm_mechanisms import ec_mechanisms, rsa_mechanisms

_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}

# RFC 5758 / RFC 8017 signature OIDs by hash name.
_ECDSA_SIG_OIDS = {
    "sha256": "1.2.840.10045.4.3.2",
    "sha384": "1.2.840.10045.4.3.3",
    "sha512": "1.2.840.10045.4.3.4",
}
_RSA_SIG_OIDS = {
    "sha256": "1.2.840.113549.1.1.11",
    "sha384": "1.2.840.113549.1.1.12",
    "sha512": "1.2.840.113549.1.1.13",
}
RSA_PSS_OID = "1.2.840.113549.1.1.10"


def _hash_option(algorithm, options, default):
    name = (options or {}).get("hash", default)
    if name not in _HASHES:
        raise InputError(
            "algorithm %s: unsupported hash %r (use sha256, sha384 or sha512)"
            % (algorithm.name, name)
        )
    return name


def _invalid(algorithm):
    return VerificationError("%s signature does not verify" % algorithm.name)


class EcdsaAlgorithm(Algorithm):
    family = "ec"
    hsm_capable = True

    def __init__(self, name, curve, default_hash):
        super().__init__(name, "1.2.840.10045.2.1")
        self.curve = curve
        self.key_size = curve.key_size
        self.default_hash = default_hash
        self.hsm_mechanisms = ec_mechanisms(curve.key_size)

    def check_options(self, options):
        unknown = set(options or {}) - {"hash"}
        if unknown:
            raise InputError(
                "algorithm %s: unknown signature option(s) %s"
                % (self.name, ", ".join(sorted(unknown)))
            )
        _hash_option(self, options, self.default_hash)

    def hash_algorithm(self, options=None):
        return _HASHES[_hash_option(self, options, self.default_hash)]()

    def signature_oid(self, options=None):
        return _ECDSA_SIG_OIDS[_hash_option(self, options, self.default_hash)]

    def generate(self):
        return ec.generate_private_key(self.curve)

    def sign(self, private_key, data, options=None):
        return private_key.sign(data, ec.ECDSA(self.hash_algorithm(options)))

    def verify(self, public_key, signature, data, options=None):
        try:
            public_key.verify(signature, data, ec.ECDSA(self.hash_algorithm(options)))
        except InvalidSignature:
            raise _invalid(self) from None

    def matches_public_key(self, public_key):
        return (
            isinstance(public_key, ec.EllipticCurvePublicKey)
            and public_key.curve.name == self.curve.name
        )


class RsaAlgorithm(Algorithm):
    """RSA with PKCS#1 v1.5 by default, RSA-PSS with ``{"scheme": "pss"}``."""

    family = "rsa"
    hsm_capable = True

    def __init__(self, name, key_size, default_hash="sha256"):
        super().__init__(name, "1.2.840.113549.1.1.1")
        self.key_size = key_size
        self.default_hash = default_hash
        self.hsm_mechanisms = rsa_mechanisms(key_size)

    def check_options(self, options):
        options = options or {}
        unknown = set(options) - {"hash", "scheme"}
        if unknown:
            raise InputError(
                "algorithm %s: unknown signature option(s) %s"
                % (self.name, ", ".join(sorted(unknown)))
            )
        if options.get("scheme", "pkcs1v15") not in ("pkcs1v15", "pss"):
            raise InputError(
                "algorithm %s: signature scheme %r is not pkcs1v15 or pss"
                % (self.name, options["scheme"])
            )
        _hash_option(self, options, self.default_hash)

    @staticmethod
    def is_pss(options):
        return (options or {}).get("scheme") == "pss"

    def hash_algorithm(self, options=None):
        return _HASHES[_hash_option(self, options, self.default_hash)]()

    def padding(self, options=None):
        if self.is_pss(options):
            # Salt as long as the digest: what RFC 4055 profiles and OpenSSL expect.
            return padding.PSS(
                mgf=padding.MGF1(self.hash_algorithm(options)),
                salt_length=padding.PSS.DIGEST_LENGTH,
            )
        return padding.PKCS1v15()

    def signature_oid(self, options=None):
        if self.is_pss(options):
            return RSA_PSS_OID
        return _RSA_SIG_OIDS[_hash_option(self, options, self.default_hash)]

    def generate(self):
        return rsa.generate_private_key(public_exponent=65537, key_size=self.key_size)

    def sign(self, private_key, data, options=None):
        return private_key.sign(data, self.padding(options), self.hash_algorithm(options))

    def verify(self, public_key, signature, data, options=None):
        pad = self.padding(options)
        if self.is_pss(options):
            pad = padding.PSS(mgf=padding.MGF1(self.hash_algorithm(options)),
                              salt_length=padding.PSS.AUTO)
        try:
            public_key.verify(signature, data, pad, self.hash_algorithm(options))
        except InvalidSignature:
            raise _invalid(self) from None

    def matches_public_key(self, public_key):
        return isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == self.key_size


class Ed25519Algorithm(Algorithm):
    family = "ed25519"

    def __init__(self):
        super().__init__("ed25519", "1.3.101.112")

    def generate(self):
        return ed25519.Ed25519PrivateKey.generate()

    def sign(self, private_key, data, options=None):
        return private_key.sign(data)

    def verify(self, public_key, signature, data, options=None):
        try:
            public_key.verify(signature, data)
        except InvalidSignature:
            raise _invalid(self) from None

    def matches_public_key(self, public_key):
        return isinstance(public_key, ed25519.Ed25519PublicKey)


def classical_algorithms():
    return [
        EcdsaAlgorithm("ecdsa-p256", ec.SECP256R1(), "sha256"),
        EcdsaAlgorithm("ecdsa-p384", ec.SECP384R1(), "sha384"),
        EcdsaAlgorithm("ecdsa-p521", ec.SECP521R1(), "sha512"),
        RsaAlgorithm("rsa-2048", 2048),
        RsaAlgorithm("rsa-3072", 3072),
        RsaAlgorithm("rsa-4096", 4096),
        Ed25519Algorithm(),
    ]
