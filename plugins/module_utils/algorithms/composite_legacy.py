"""Read-only recognition of the LEGACY composite encoding (pre-draft-13).

The early composite-signature drafts (draft-ounsworth-pq-composite-sigs and
draft-ietf-lamps-pq-composite-sigs up to -03/-05) carried composite public
keys and signature values as DER

    CompositeSignaturePublicKey ::= SEQUENCE SIZE (2) OF BIT STRING
    CompositeSignatureValue     ::= SEQUENCE SIZE (2) OF BIT STRING

(ML-DSA component first), under prototype OIDs, over a message
representative that changed from one draft to the next (an OID-based
domain separator, with or without a pre-hash or a randomizer).  Some tools
still emit that form.

This module only *recognises and splits* that structure so callers can
report it (flagged ``legacy=True``) instead of failing obscurely.  It never
produces the legacy form and does not verify legacy signatures: the signed
message depends on which early draft produced it, and it cannot be pinned
down from the bytes alone.  Draft-13 (raw concatenation) is what
composite.py writes and verifies.
"""

from dataclasses import dataclass

from ..dependencies import missing

try:
    from pyasn1.codec.der import decoder as der_decoder
    from pyasn1.codec.der import encoder as der_encoder
    from pyasn1.error import PyAsn1Error
    from pyasn1.type import constraint, univ
except ImportError:
    der_decoder = der_encoder = PyAsn1Error = constraint = univ = missing()

from ..errors import InputError


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
