"""Composite ML-DSA (draft-ietf-lamps-pq-composite-sigs-13) as registry entries.

Each draft-13 composite becomes one Algorithm named like
``composite-mldsa65-ecdsa-p256`` whose key OID is also its signature OID
(draft-13 section 7: one OID, parameters absent, for both uses). Keys and
signatures are those of composite.py; an X.509 signature is the composite
signature over the to-be-signed DER with an empty context (draft-13
section 4.2 with ctx = "").
"""

from .base import Algorithm


class CompositeAlgorithm(Algorithm):
    family = "composite"

    def __init__(self, params):
        super().__init__(params.name, params.oid)
        self.params = params

    @property
    def pqc_name(self):
        return self.params.mldsa

    def generate(self):
        from .composite import CompositePrivateKey

        return CompositePrivateKey.generate(self.params)

    def sign(self, private_key, data, options=None):
        return private_key.sign(bytes(data), b"")

    def verify(self, public_key, signature, data, options=None):
        """VerificationError naming the failed component(s)."""
        public_key.verify(signature, bytes(data), b"")

    def matches_public_key(self, public_key):
        params = getattr(public_key, "params", None)
        return (getattr(params, "oid", None) == self.key_oid
                and hasattr(public_key, "public_bytes_raw"))

    def load_public_raw(self, data):
        from .composite import CompositePublicKey

        return CompositePublicKey.from_bytes(self.params, data)

    def load_private_raw(self, data):
        from .composite import CompositePrivateKey

        return CompositePrivateKey.from_private_bytes(self.params, data)


def composite_key_text(public_key):
    """"composite-mldsa65-ecdsa-p256 key", saying so when the key is in the
    legacy (pre-draft-13) encoding."""
    text = "%s key" % public_key.params.name
    if getattr(public_key, "form", None) == "legacy":
        text += " in the legacy pre-draft-13 encoding"
    return text


def composite_algorithms():
    from .composite_params import COMPOSITE_ALGORITHMS

    return [CompositeAlgorithm(params) for params in COMPOSITE_ALGORITHMS.values()]


def composite_name_for(classical_name, pqc_name, options=None):
    """Registry name of the draft-13 composite pairing the two algorithms.
    ``options`` are the profile's signature options (``scheme: pss`` picks
    the RSASSA-PSS variant of an RSA pair)."""
    from .composite_params import composite_for_pair

    scheme = (options or {}).get("scheme")
    pss = None if scheme is None else scheme == "pss"
    return composite_for_pair(classical_name, pqc_name, pss=pss).name
