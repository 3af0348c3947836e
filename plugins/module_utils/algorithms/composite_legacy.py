"""Reading the LEGACY composite encoding (pre-draft-13): recognise, verify, never write.

The early composite-signature drafts (draft-ounsworth-pq-composite-sigs and
draft-ietf-lamps-pq-composite-sigs up to -03/-05) carried composite public
keys and signature values as DER

    CompositeSignaturePublicKey ::= SEQUENCE SIZE (2) OF BIT STRING
    CompositeSignatureValue     ::= SEQUENCE SIZE (2) OF BIT STRING

(ML-DSA component first), over a message representative that changed from
one draft to the next.  Some tools still emit that form.

``is_legacy_encoding`` and the ``parse_*`` functions recognise and split the
structure.  Signatures are verified only under a construction that is
known for the OID (``legacy_construction``): the one QPKI (the Go tool)
uses for its certificates, CRLs and CSRs under the draft-13 OIDs

    M = DER(composite signature OID) || to-be-signed bytes
    ML-DSA component: pure ML-DSA over M, empty context
    ECDSA component:  ECDSA with SHA-512 over M

which holds for QPKI's three pairs (ML-DSA-65 + P-256, ML-DSA-65 + P-384,
ML-DSA-87 + P-521).  For any other algorithm a legacy value is reported as
such and refused: its message representative cannot be told from the bytes.

A ``LegacyCompositePublicKey`` deliberately has no ``public_bytes_raw`` or
``spki_der``: nothing can re-encode it, so no certificate we issue can
carry it.  Draft-13 (raw concatenation) is what composite.py writes.
"""

from dataclasses import dataclass

from ..dependencies import missing

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, mldsa
    from pyasn1.codec.der import decoder as der_decoder
    from pyasn1.codec.der import encoder as der_encoder
    from pyasn1.error import PyAsn1Error
    from pyasn1.type import constraint, univ
except ImportError:
    InvalidSignature = hashes = ec = mldsa = missing()
    der_decoder = der_encoder = PyAsn1Error = constraint = univ = missing()

from ..errors import InputError, VerificationError


class _BitStringPair(univ.SequenceOf):
    """SEQUENCE SIZE (2) OF BIT STRING, as in the early composite drafts."""

    componentType = univ.BitString()
    sizeSpec = constraint.ValueSizeConstraint(2, 2)


@dataclass(frozen=True)
class LegacyCompositeValue:
    """The two components of a legacy-encoded composite key or signature."""

    mldsa_part: bytes
    trad_part: bytes
    kind: str  # "signature" or "public key"
    legacy: bool = True


def _split(data) -> "tuple[bytes, bytes] | None":
    data = bytes(data)
    if not data or data[0] != 0x30:
        return None
    try:
        obj, rest = der_decoder.decode(data, asn1Spec=_BitStringPair())
    except (PyAsn1Error, OverflowError):  # pyasn1 overflows on >= 2**63 lengths
        return None
    if rest or len(obj) != 2:
        return None
    try:
        if der_encoder.encode(obj) != data:
            return None
    except (PyAsn1Error, OverflowError):  # pyasn1 overflows on >= 2**63 lengths
        return None
    parts = []
    for bits in obj:
        if len(bits) % 8:  # component values are whole octets
            return None
        parts.append(bits.asOctets())
    return parts[0], parts[1]


def is_legacy_encoding(data: bytes, params=None, kind: str = "signature") -> bool:
    """True if ``data`` is the legacy DER SEQUENCE of two BIT STRINGs.

    With ``params`` (a CompositeParams) the first component must also have
    the size of that ML-DSA parameter set's signature (``kind="signature"``)
    or public key (``kind="public key"``), which rules out a raw draft-13
    value that merely happens to start like a SEQUENCE.
    """
    parts = _split(data)
    if parts is None:
        return False
    if params is not None:
        expected = params.mldsa_signature_size if kind == "signature" else params.mldsa_public_key_size
        return len(parts[0]) == expected and len(parts[1]) > 0
    return True


def _parse(data, params, kind) -> LegacyCompositeValue:
    if not is_legacy_encoding(data, params, kind):
        where = f" for {params.name}" if params is not None else ""
        raise InputError(f"not a legacy (pre-draft-13) composite {kind}{where}")
    first, second = _split(data)
    return LegacyCompositeValue(mldsa_part=first, trad_part=second, kind=kind)


def parse_legacy_composite_signature(data: bytes, params=None) -> LegacyCompositeValue:
    """Split a legacy CompositeSignatureValue; read-only, no verification."""
    return _parse(data, params, "signature")


def parse_legacy_composite_public_key(data: bytes, params=None) -> LegacyCompositeValue:
    """Split a legacy CompositeSignaturePublicKey; read-only."""
    return _parse(data, params, "public key")


# --------------------------------------------------------------------------
# Verification under a known legacy construction
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class LegacyConstruction:
    """How one producer signed under a composite OID before draft-13:
    M = DER(OID) || data, ML-DSA over M with an empty context, the ECDSA
    component over M with ``trad_hash``."""

    producer: str
    mldsa_public: type
    curve: type
    trad_hash: type


def _constructions() -> "dict[str, LegacyConstruction]":
    # QPKI's three pairs, under the draft-13 OIDs (internal/ca/issue_composite.go,
    # internal/x509util/csr.go): ECDSA always with SHA-512.
    return {
        "1.3.6.1.5.5.7.6.45": LegacyConstruction("QPKI", mldsa.MLDSA65PublicKey, ec.SECP256R1,
                                                 hashes.SHA512),
        "1.3.6.1.5.5.7.6.46": LegacyConstruction("QPKI", mldsa.MLDSA65PublicKey, ec.SECP384R1,
                                                 hashes.SHA512),
        "1.3.6.1.5.5.7.6.54": LegacyConstruction("QPKI", mldsa.MLDSA87PublicKey, ec.SECP521R1,
                                                 hashes.SHA512),
    }


def legacy_construction(params) -> "LegacyConstruction | None":
    """The known legacy construction for a CompositeParams, or None."""
    return _constructions().get(params.oid)


def _message(params, data: bytes) -> bytes:
    return der_encoder.encode(univ.ObjectIdentifier(params.oid)) + bytes(data)


class LegacyCompositePublicKey:
    """A composite public key in the legacy (pre-draft-13) encoding; it can
    verify legacy signatures and cannot be written out again."""

    form = "legacy"  # what x509/legacy.py and the key descriptions report

    def __init__(self, params, construction: LegacyConstruction, mldsa_key, trad_key):
        self.params = params
        self.construction = construction
        self.mldsa_key = mldsa_key
        self.trad_key = trad_key

    @classmethod
    def from_bytes(cls, params, data: bytes) -> "LegacyCompositePublicKey":
        """Parse the legacy SEQUENCE of two BIT STRINGs (ML-DSA key first)."""
        value = parse_legacy_composite_public_key(data, params)
        construction = legacy_construction(params)
        what = f"{params.name} public key in the legacy (pre-draft-13) encoding"
        if construction is None:
            raise InputError(f"{what}: no known legacy construction for this algorithm "
                             f"(read only for QPKI's ML-DSA + ECDSA pairs)")
        try:
            mldsa_key = construction.mldsa_public.from_public_bytes(value.mldsa_part)
        except ValueError:
            raise InputError(f"{what}: invalid ML-DSA part") from None
        try:
            trad_key = ec.EllipticCurvePublicKey.from_encoded_point(
                construction.curve(), value.trad_part)
        except ValueError:
            raise InputError(f"{what}: ECDSA part is not a point on "
                             f"{construction.curve.name}") from None
        return cls(params, construction, mldsa_key, trad_key)

    def verify(self, signature: bytes, message: bytes, ctx: bytes = b"") -> None:
        """Check a legacy composite signature; VerificationError naming the
        component(s) that fail. Both must verify."""
        name = self.params.name
        if ctx:
            raise VerificationError(f"{name} (legacy): a context string is not supported")
        if not is_legacy_encoding(signature, self.params, "signature"):
            raise VerificationError(
                f"{name} signature is not in the legacy encoding (the key is legacy-encoded)")
        value = parse_legacy_composite_signature(signature, self.params)
        m = _message(self.params, message)
        failed = []
        try:
            self.mldsa_key.verify(value.mldsa_part, m, b"")
        except InvalidSignature:
            failed.append("ML-DSA")
        try:
            self.trad_key.verify(value.trad_part, m, ec.ECDSA(self.construction.trad_hash()))
        except (InvalidSignature, ValueError):
            failed.append("ECDSA")
        if failed:
            which = " and ".join(failed)
            noun = "components do" if len(failed) > 1 else "component does"
            raise VerificationError(
                f"{name} legacy signature is invalid: {which} {noun} not verify")

    def __repr__(self) -> str:
        return f"<LegacyCompositePublicKey {self.params.name}>"
