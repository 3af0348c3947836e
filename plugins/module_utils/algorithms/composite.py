"""Composite ML-DSA signatures, exactly as draft-ietf-lamps-pq-composite-sigs-13.

A composite key is an ML-DSA key plus a traditional key (RSA, ECDSA,
Ed25519 or Ed448) used together under one composite OID.  Both component
signatures are computed over the same message representative M' and both
must verify.  Keys and signatures are the raw concatenation
"ML-DSA part || traditional part" (draft-13 section 5); no ASN.1 wrapping.

The components are computed with ``cryptography``: ML-DSA natively (with
the composite Label as the ML-DSA context string), the traditional
algorithms through their usual APIs.  ASN.1 structures around the keys
(RSAPublicKey / RSAPrivateKey / ECPrivateKey, SubjectPublicKeyInfo,
OneAsymmetricKey) are built and parsed with pyasn1.

The ASN.1-wrapped form of the early drafts is handled, read-only, in
composite_legacy.py and re-exported here.
"""

from ..dependencies import missing

try:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, padding, rsa
    from pyasn1.codec.der import decoder as der_decoder
    from pyasn1.codec.der import encoder as der_encoder
    from pyasn1.error import PyAsn1Error
    from pyasn1.type import univ
    from pyasn1_modules import rfc5280, rfc5915, rfc5958, rfc8017
except ImportError:
    InvalidSignature = UnsupportedAlgorithm = hashes = serialization = ec = ed448 = missing()
    ed25519 = mldsa = padding = rsa = der_decoder = der_encoder = PyAsn1Error = univ = missing()
    rfc5280 = rfc5915 = rfc5958 = rfc8017 = missing()

from ..errors import InputError, VerificationError
from .composite_legacy import (  # noqa: F401  (re-exported, read-only legacy support)  # pylint: disable=unused-import
    LegacyCompositeValue,
    is_legacy_encoding,
    parse_legacy_composite_public_key,
    parse_legacy_composite_signature,
)
from .composite_params import (  # noqa: F401  (re-exported)  # pylint: disable=unused-import
    COMPOSITE_ALGORITHMS,
    MLDSA_SEED_SIZE,
    MLDSA_SIZES,
    CompositeParams,
    TradParams,
    composite_for_pair,
    params_by_draft_name,
    params_by_name,
    params_by_oid,
)

# draft-13 section 3.2: the fixed Prefix, ASCII "CompositeAlgorithmSignatures2025".
COMPOSITE_PREFIX = b"CompositeAlgorithmSignatures2025"

MAX_CTX_LENGTH = 255

_MLDSA_PRIVATE = {
    "ml-dsa-44": mldsa.MLDSA44PrivateKey,
    "ml-dsa-65": mldsa.MLDSA65PrivateKey,
    "ml-dsa-87": mldsa.MLDSA87PrivateKey,
}
_MLDSA_PUBLIC = {
    "ml-dsa-44": mldsa.MLDSA44PublicKey,
    "ml-dsa-65": mldsa.MLDSA65PublicKey,
    "ml-dsa-87": mldsa.MLDSA87PublicKey,
}
_CURVES = {
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
}
_ED_SIZES = {  # raw public key, raw private key, signature
    "ed25519": (32, 32, 64),
    "ed448": (57, 57, 114),
}

__all__ = [
    "COMPOSITE_ALGORITHMS",
    "COMPOSITE_PREFIX",
    "CompositeParams",
    "CompositePrivateKey",
    "CompositePublicKey",
    "TradParams",
    "build_message_representative",
    "composite_for_pair",
    "is_legacy_encoding",
    "load_composite_private_key_pkcs8",
    "load_composite_public_key_spki",
    "params_by_draft_name",
    "params_by_name",
    "params_by_oid",
    "parse_legacy_composite_public_key",
    "parse_legacy_composite_signature",
]


# --------------------------------------------------------------------------
# Message representative
# --------------------------------------------------------------------------

def _check_ctx(ctx) -> bytes:
    ctx = bytes(ctx)
    if len(ctx) > MAX_CTX_LENGTH:
        raise InputError(
            f"composite signature context is {len(ctx)} bytes, at most {MAX_CTX_LENGTH} allowed")
    return ctx


def build_message_representative(params: CompositeParams, message: bytes, ctx: bytes = b"") -> bytes:
    """M' for ``params``: Prefix || Label || len(ctx) || ctx || PH(M).

    Built as in draft-13 section 3.2 and step 2 of section 4.2 (Sign) /
    step 3 of section 4.3 (Verify); len(ctx) is one unsigned byte.
    """
    ctx = _check_ctx(ctx)
    digest = hashes.Hash(params.prehash_algorithm())
    digest.update(bytes(message))
    return COMPOSITE_PREFIX + params.label + bytes([len(ctx)]) + ctx + digest.finalize()


# --------------------------------------------------------------------------
# Traditional component helpers
# --------------------------------------------------------------------------

def _trad_sign(trad: TradParams, key, data: bytes) -> bytes:
    if trad.kind == "ecdsa":
        # Ecdsa-Sig-Value DER (draft-13 section 5, ECDSA bullet).
        return key.sign(data, ec.ECDSA(trad.hash()))
    if trad.kind == "rsa":
        return key.sign(data, _rsa_padding(trad), trad.hash())
    return key.sign(data)  # Ed25519 / Ed448, pure mode, no context


def _trad_verify(trad: TradParams, key, signature: bytes, data: bytes) -> bool:
    if trad.kind in _ED_SIZES and len(signature) != _ED_SIZES[trad.kind][2]:
        return False
    if trad.kind == "rsa" and len(signature) != (key.key_size + 7) // 8:
        return False
    try:
        if trad.kind == "ecdsa":
            key.verify(signature, data, ec.ECDSA(trad.hash()))
        elif trad.kind == "rsa":
            key.verify(signature, data, _rsa_padding(trad), trad.hash())
        else:
            key.verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _rsa_padding(trad: TradParams):
    if trad.padding == "pss":
        # Fixed RSASSA-PSS parameters of draft-13 section 7.1 (tables 2 and 3).
        return padding.PSS(mgf=padding.MGF1(trad.hash()), salt_length=trad.salt_length)
    return padding.PKCS1v15()


def _generate_trad(trad: TradParams):
    if trad.kind == "ecdsa":
        return ec.generate_private_key(_CURVES[trad.curve]())
    if trad.kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=trad.key_size)
    if trad.kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ed448.Ed448PrivateKey.generate()


def _check_trad_private(params: CompositeParams, key) -> None:
    trad = params.trad
    ok = {
        "ecdsa": lambda: isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == trad.curve,
        "rsa": lambda: isinstance(key, rsa.RSAPrivateKey) and key.key_size == trad.key_size,
        "ed25519": lambda: isinstance(key, ed25519.Ed25519PrivateKey),
        "ed448": lambda: isinstance(key, ed448.Ed448PrivateKey),
    }[trad.kind]()
    if not ok:
        raise InputError(f"{params.name}: traditional key is not {_trad_desc(trad)}")


def _check_trad_public(params: CompositeParams, key) -> None:
    trad = params.trad
    ok = {
        "ecdsa": lambda: isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == trad.curve,
        "rsa": lambda: isinstance(key, rsa.RSAPublicKey) and key.key_size == trad.key_size,
        "ed25519": lambda: isinstance(key, ed25519.Ed25519PublicKey),
        "ed448": lambda: isinstance(key, ed448.Ed448PublicKey),
    }[trad.kind]()
    if not ok:
        raise InputError(f"{params.name}: traditional public key is not {_trad_desc(trad)}")


def _trad_desc(trad: TradParams) -> str:
    if trad.kind == "ecdsa":
        return f"an ECDSA {trad.curve} key"
    if trad.kind == "rsa":
        return f"a {trad.key_size}-bit RSA key"
    return f"an {trad.component} key"


def _der_decode_exact(data: bytes, spec, what: str):
    """DER-decode ``data`` as ``spec``; reject trailing bytes and non-DER input."""
    try:
        obj, rest = der_decoder.decode(bytes(data), asn1Spec=spec)
    except (PyAsn1Error, OverflowError):  # pyasn1 overflows on >= 2**63 lengths
        raise InputError(f"{what} is not valid DER") from None
    if rest:
        raise InputError(f"{what} has {len(rest)} trailing bytes")
    if der_encoder.encode(obj) != bytes(data):
        raise InputError(f"{what} is not in canonical DER")
    return obj


# Public key encodings (draft-13 section 5): RSA -> RSAPublicKey DER
# (RFC 8017 A.1.1), ECDSA -> uncompressed X9.62 point, EdDSA -> raw RFC 8032.

def _trad_public_bytes(trad: TradParams, key) -> bytes:
    if trad.kind == "ecdsa":
        return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    if trad.kind == "rsa":
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return key.public_bytes_raw()


def _trad_public_from_bytes(params: CompositeParams, data: bytes):
    trad = params.trad
    what = f"{params.name} public key, traditional part"
    if trad.kind == "ecdsa":
        curve = _CURVES[trad.curve]()
        coord = (curve.key_size + 7) // 8
        if len(data) != 1 + 2 * coord or data[:1] != b"\x04":
            raise InputError(f"{what} is not an uncompressed {trad.curve} point")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(curve, data)
        except ValueError:
            raise InputError(f"{what} is not a point on {trad.curve}") from None
    if trad.kind == "rsa":
        obj = _der_decode_exact(data, rfc8017.RSAPublicKey(), what)
        try:
            key = rsa.RSAPublicNumbers(int(obj["publicExponent"]), int(obj["modulus"])).public_key()
        except ValueError:
            raise InputError(f"{what} is not a valid RSA public key") from None
        _check_trad_public(params, key)
        return key
    size = _ED_SIZES[trad.kind][0]
    if len(data) != size:
        raise InputError(f"{what} is {len(data)} bytes, {trad.component} needs {size}")
    cls = ed25519.Ed25519PublicKey if trad.kind == "ed25519" else ed448.Ed448PublicKey
    try:
        return cls.from_public_bytes(data)
    except ValueError:
        raise InputError(f"{what} is not a valid {trad.component} key") from None


# Private key encodings (draft-13 section 5): RSA -> RSAPrivateKey DER
# (RFC 8017 A.1.2, version 0, no otherPrimeInfos); ECDSA -> ECPrivateKey
# (RFC 5915) with the namedCurve parameters and without publicKey; EdDSA ->
# the raw 32 / 57 byte private key.

def _trad_private_bytes(trad: TradParams, key) -> bytes:
    if trad.kind == "ecdsa":
        size = (key.curve.key_size + 7) // 8
        scalar = key.private_numbers().private_value.to_bytes(size, "big")
        ecpk = rfc5915.ECPrivateKey()
        ecpk["version"] = 1
        ecpk["privateKey"] = scalar
        ecpk["parameters"]["namedCurve"] = univ.ObjectIdentifier(trad.curve_oid)
        return der_encoder.encode(ecpk)
    if trad.kind == "rsa":
        # cryptography's "TraditionalOpenSSL" DER for RSA is the PKCS#1
        # RSAPrivateKey structure (two-prime, version 0).
        return key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    return key.private_bytes_raw()


def _trad_private_from_bytes(params: CompositeParams, data: bytes):
    trad = params.trad
    what = f"{params.name} private key, traditional part"
    if trad.kind == "ecdsa":
        obj = _der_decode_exact(data, rfc5915.ECPrivateKey(), what)
        if int(obj["version"]) != 1:
            raise InputError(f"{what}: ECPrivateKey version must be 1")
        if not obj["parameters"].isValue or str(obj["parameters"]["namedCurve"]) != trad.curve_oid:
            raise InputError(f"{what}: ECPrivateKey must name curve {trad.curve}")
        curve = _CURVES[trad.curve]()
        scalar = bytes(obj["privateKey"])
        if len(scalar) != (curve.key_size + 7) // 8:
            raise InputError(f"{what}: private scalar has the wrong length")
        try:
            key = ec.derive_private_key(int.from_bytes(scalar, "big"), curve)
        except ValueError:
            raise InputError(f"{what}: private scalar is out of range") from None
        if obj["publicKey"].isValue:
            # Not written by draft-13 encoders, but tolerated when consistent.
            point = obj["publicKey"].asOctets()
            if point != _trad_public_bytes(trad, key.public_key()):
                raise InputError(f"{what}: embedded public key does not match the private key")
        return key
    if trad.kind == "rsa":
        obj = _der_decode_exact(data, rfc8017.RSAPrivateKey(), what)
        if int(obj["version"]) != 0 or obj["otherPrimeInfos"].isValue:
            raise InputError(f"{what}: only two-prime RSAPrivateKey (version 0) is allowed")
        try:
            public = rsa.RSAPublicNumbers(int(obj["publicExponent"]), int(obj["modulus"]))
            key = rsa.RSAPrivateNumbers(
                p=int(obj["prime1"]), q=int(obj["prime2"]), d=int(obj["privateExponent"]),
                dmp1=int(obj["exponent1"]), dmq1=int(obj["exponent2"]),
                iqmp=int(obj["coefficient"]), public_numbers=public,
            ).private_key()
        except ValueError:
            raise InputError(f"{what} is not a consistent RSA private key") from None
        _check_trad_private(params, key)
        return key
    size = _ED_SIZES[trad.kind][1]
    if len(data) != size:
        raise InputError(f"{what} is {len(data)} bytes, {trad.component} needs {size}")
    cls = ed25519.Ed25519PrivateKey if trad.kind == "ed25519" else ed448.Ed448PrivateKey
    return cls.from_private_bytes(data)


def _check_mldsa(params: CompositeParams, key, private: bool) -> None:
    cls = (_MLDSA_PRIVATE if private else _MLDSA_PUBLIC)[params.mldsa]
    if not isinstance(key, cls):
        raise InputError(f"{params.name}: ML-DSA key is not {params.mldsa.upper()}")


# --------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------

class CompositePublicKey:
    """A composite ML-DSA public key (ML-DSA public key + traditional public key)."""

    def __init__(self, params: CompositeParams, mldsa_key, trad_key):
        _check_mldsa(params, mldsa_key, private=False)
        _check_trad_public(params, trad_key)
        self.params = params
        self.mldsa_key = mldsa_key
        self.trad_key = trad_key

    @classmethod
    def from_bytes(cls, params: CompositeParams, data: bytes) -> "CompositePublicKey":
        """Parse the raw composite public key mldsaPK || tradPK (draft-13 section 5.1)."""
        data = bytes(data)
        split = params.mldsa_public_key_size
        if len(data) <= split:
            raise InputError(
                f"{params.name} public key is {len(data)} bytes, longer than {split} expected")
        try:
            mldsa_key = _MLDSA_PUBLIC[params.mldsa].from_public_bytes(data[:split])
        except ValueError:
            raise InputError(f"{params.name} public key: invalid ML-DSA part") from None
        return cls(params, mldsa_key, _trad_public_from_bytes(params, data[split:]))

    @classmethod
    def from_spki(cls, der: bytes) -> "CompositePublicKey":
        """Parse a SubjectPublicKeyInfo carrying a composite key (draft-13 section 6.1)."""
        spki = _der_decode_exact(der, rfc5280.SubjectPublicKeyInfo(), "SubjectPublicKeyInfo")
        oid = str(spki["algorithm"]["algorithm"])
        params = params_by_oid(oid)
        if params is None:
            raise InputError(f"SubjectPublicKeyInfo algorithm {oid} is not a composite ML-DSA algorithm")
        if spki["algorithm"]["parameters"].isValue:
            raise InputError(f"{params.name} SubjectPublicKeyInfo: algorithm parameters must be absent")
        bits = spki["subjectPublicKey"]
        if len(bits) % 8:
            raise InputError(f"{params.name} SubjectPublicKeyInfo: key BIT STRING has unused bits")
        return cls.from_bytes(params, bits.asOctets())

    def public_bytes_raw(self) -> bytes:
        """mldsaPK || tradPK (draft-13 section 5.1, SerializePublicKey)."""
        return self.mldsa_key.public_bytes_raw() + _trad_public_bytes(self.params.trad, self.trad_key)

    def spki_der(self) -> bytes:
        """SubjectPublicKeyInfo: composite OID with absent parameters and the raw
        key as the BIT STRING contents (draft-13 sections 6.1 and 6.3)."""
        spki = rfc5280.SubjectPublicKeyInfo()
        spki["algorithm"]["algorithm"] = univ.ObjectIdentifier(self.params.oid)
        spki["subjectPublicKey"] = univ.BitString.fromOctetString(self.public_bytes_raw())
        return der_encoder.encode(spki)

    def algorithm_identifier_der(self) -> bytes:
        """AlgorithmIdentifier for signatures made with this key (parameters absent)."""
        return algorithm_identifier_der(self.params)

    def verify(self, signature: bytes, message: bytes, ctx: bytes = b"") -> None:
        """Check a composite signature; raise VerificationError naming the failed component(s).

        Both components must verify (draft-13 section 4.3).  Both are checked
        so that the error can say which one is wrong.
        """
        params = self.params
        ctx = _check_ctx(ctx)
        signature = bytes(signature)
        split = params.mldsa_signature_size
        if len(signature) <= split:
            raise VerificationError(
                f"{params.name} signature is {len(signature)} bytes, too short for "
                f"{params.mldsa.upper()} ({split}) plus a {params.trad.component} signature")
        # DeserializeSignatureValue, draft-13 section 5.3: mldsaSig || tradSig.
        mldsa_sig, trad_sig = signature[:split], signature[split:]
        m_prime = build_message_representative(params, message, ctx)
        failed = []
        try:
            # The Label is the ML-DSA context string (draft-13 sections 3.2, 4.3).
            self.mldsa_key.verify(mldsa_sig, m_prime, params.label)
        except InvalidSignature:
            failed.append("ML-DSA")
        if not _trad_verify(params.trad, self.trad_key, trad_sig, m_prime):
            failed.append(params.trad.component)
        if failed:
            which = " and ".join(failed)
            noun = "components do" if len(failed) > 1 else "component does"
            raise VerificationError(f"{params.name} signature is invalid: {which} {noun} not verify")

    def __eq__(self, other):
        if not isinstance(other, CompositePublicKey):
            return NotImplemented
        return self.params == other.params and self.public_bytes_raw() == other.public_bytes_raw()

    def __hash__(self):
        return hash((self.params.oid, self.public_bytes_raw()))

    def __repr__(self):
        return f"<CompositePublicKey {self.params.name}>"


class CompositePrivateKey:
    """A composite ML-DSA private key (ML-DSA key from a seed + traditional key)."""

    def __init__(self, params: CompositeParams, mldsa_key, trad_key):
        _check_mldsa(params, mldsa_key, private=True)
        _check_trad_private(params, trad_key)
        self.params = params
        self.mldsa_key = mldsa_key
        self.trad_key = trad_key

    @classmethod
    def generate(cls, params: CompositeParams) -> "CompositePrivateKey":
        """Fresh keys for both components (draft-13 section 4.1)."""
        return cls(params, _MLDSA_PRIVATE[params.mldsa].generate(), _generate_trad(params.trad))

    @classmethod
    def from_components(cls, params: CompositeParams, mldsa_key, trad_key) -> "CompositePrivateKey":
        return cls(params, mldsa_key, trad_key)

    @classmethod
    def from_private_bytes(cls, params: CompositeParams, data: bytes) -> "CompositePrivateKey":
        """Parse mldsaSeed || tradSK (draft-13 section 5.2, DeserializePrivateKey)."""
        data = bytes(data)
        if len(data) <= MLDSA_SEED_SIZE:
            raise InputError(f"{params.name} private key is {len(data)} bytes, too short")
        seed, trad = data[:MLDSA_SEED_SIZE], data[MLDSA_SEED_SIZE:]
        mldsa_key = _MLDSA_PRIVATE[params.mldsa].from_seed_bytes(seed)
        return cls(params, mldsa_key, _trad_private_from_bytes(params, trad))

    @classmethod
    def from_pkcs8(cls, der: bytes) -> "CompositePrivateKey":
        """Parse a OneAsymmetricKey / PKCS#8 holding a composite key (draft-13 section 6.3)."""
        return load_composite_private_key_pkcs8(der)

    def public_key(self) -> CompositePublicKey:
        return CompositePublicKey(self.params, self.mldsa_key.public_key(), self.trad_key.public_key())

    def private_bytes_raw(self) -> bytes:
        """mldsaSeed || tradSK (draft-13 section 5.2, SerializePrivateKey)."""
        try:
            seed = self.mldsa_key.private_bytes_raw()
        except (ValueError, UnsupportedAlgorithm):
            raise InputError(f"{self.params.name}: the ML-DSA key has no seed to export") from None
        return seed + _trad_private_bytes(self.params.trad, self.trad_key)

    def private_bytes_pkcs8(self) -> bytes:
        """OneAsymmetricKey v1 (PrivateKeyInfo): composite OID, parameters absent,
        privateKey = the raw composite private key (draft-13 section 6.3)."""
        info = rfc5958.OneAsymmetricKey()
        info["version"] = 0
        info["privateKeyAlgorithm"]["algorithm"] = univ.ObjectIdentifier(self.params.oid)
        info["privateKey"] = self.private_bytes_raw()
        return der_encoder.encode(info)

    def sign(self, message: bytes, ctx: bytes = b"") -> bytes:
        """Composite-ML-DSA.Sign (draft-13 section 4.2); returns mldsaSig || tradSig."""
        params = self.params
        m_prime = build_message_representative(params, message, ctx)
        # Step 4: both components sign M'; ML-DSA gets the Label as its context.
        mldsa_sig = self.mldsa_key.sign(m_prime, params.label)
        trad_sig = _trad_sign(params.trad, self.trad_key, m_prime)
        # Step 6, SerializeSignatureValue (section 5.3): plain concatenation.
        return mldsa_sig + trad_sig

    def __repr__(self):
        return f"<CompositePrivateKey {self.params.name}>"


# --------------------------------------------------------------------------
# ASN.1 containers
# --------------------------------------------------------------------------

def algorithm_identifier_der(params: CompositeParams) -> bytes:
    """AlgorithmIdentifier { composite OID } with parameters absent (draft-13 section 6.3)."""
    alg = rfc5280.AlgorithmIdentifier()
    alg["algorithm"] = univ.ObjectIdentifier(params.oid)
    return der_encoder.encode(alg)


def load_composite_public_key_spki(der: bytes) -> CompositePublicKey:
    """A CompositePublicKey from a DER SubjectPublicKeyInfo."""
    return CompositePublicKey.from_spki(der)


def load_composite_private_key_pkcs8(der: bytes) -> CompositePrivateKey:
    """A CompositePrivateKey from a DER OneAsymmetricKey (v1 or v2)."""
    info = _der_decode_exact(der, rfc5958.OneAsymmetricKey(), "PKCS#8 private key")
    oid = str(info["privateKeyAlgorithm"]["algorithm"])
    params = params_by_oid(oid)
    if params is None:
        raise InputError(f"PKCS#8 private key algorithm {oid} is not a composite ML-DSA algorithm")
    if info["privateKeyAlgorithm"]["parameters"].isValue:
        raise InputError(f"{params.name} PKCS#8 private key: algorithm parameters must be absent")
    key = CompositePrivateKey.from_private_bytes(params, bytes(info["privateKey"]))
    if info["publicKey"].isValue:
        # Optional; when present it must be the matching composite public key.
        if info["publicKey"].asOctets() != key.public_key().public_bytes_raw():
            raise InputError(f"{params.name} PKCS#8 private key: publicKey does not match the private key")
    return key
