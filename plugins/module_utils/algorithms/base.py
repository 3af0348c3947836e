"""What every algorithm of the registry provides."""

from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from .hsm_mechanisms import HsmMechanisms


class Algorithm:
    """One signature (or KEM) algorithm known by its registry name.

    Subclasses implement key generation, signing and verification for one
    family. ``key_oid`` is the OID of the SubjectPublicKeyInfo algorithm;
    ``signature_oid(options)`` the one written in signatureAlgorithm.
    """

    family = None
    can_sign = True
    hsm_capable = False
    # An HsmMechanisms (hsm_mechanisms.py) on the algorithms a token may hold.
    hsm_mechanisms: "HsmMechanisms | None" = None

    def __init__(self, name, key_oid):
        self.name = name
        self.key_oid = key_oid

    def __repr__(self):
        return "<Algorithm %s>" % self.name

    def generate(self):
        raise NotImplementedError

    def sign(self, private_key, data, options=None):
        raise NotImplementedError

    def verify(self, public_key, signature, data, options=None):
        """Raise VerificationError when ``signature`` is not valid."""
        raise NotImplementedError

    def matches_public_key(self, public_key):
        """True when ``public_key`` is a key of exactly this algorithm."""
        raise NotImplementedError

    def describe_public_key(self, public_key):
        """Short text naming the key type and size, for error messages."""
        return describe_key(public_key)

    def hash_algorithm(self, options=None):
        """The hash used with this algorithm, or None when it hashes inside."""
        return None

    def signature_oid(self, options=None):
        return self.key_oid

    def check_options(self, options):
        if options:
            raise InputError(
                "algorithm %s takes no signature options (got %s)"
                % (self.name, ", ".join(sorted(options)))
            )


def describe_key(public_key):
    """Short text naming a key type and size: "EC secp256r1 key", "RSA-4096
    key", "ML-DSA-65 key", "slh-dsa-sha2-128f key", "composite-mldsa65-ecdsa-p256 key"."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "EC %s key" % public_key.curve.name
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA-%d key" % public_key.key_size
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519 key"
    name = getattr(public_key, "algorithm_name", None)  # SLH-DSA
    if name:
        return "%s key" % name
    params = getattr(public_key, "params", None)  # composite (and QPKI's legacy form)
    if getattr(params, "name", None):
        from .composite_algorithm import composite_key_text

        return composite_key_text(public_key)
    # ML-DSA, ML-KEM by their registry algorithm, whatever algorithm asks:
    # an error names the key it got, not a Python class.
    from .registry import algorithm_for_public_key

    algorithm = algorithm_for_public_key(public_key)
    if algorithm is not None:
        label = algorithm.name.upper() if algorithm.family in ("ml-dsa", "ml-kem") \
            else algorithm.name
        return "%s key" % label
    return "%s" % type(public_key).__name__
