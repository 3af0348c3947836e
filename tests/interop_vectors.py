"""Where the vendored test vectors live and how tests damage them.

The vectors are in tests/vectors/ (see its README: origin and licence of
each folder). They are part of the repository: a missing file FAILS the
test that needs it, so a broken checkout can never look like a pass.
"""

import datetime
from pathlib import Path

import pytest
from pyasn1.codec.der import decoder

VECTORS = Path(__file__).resolve().parent / "vectors"

# Inside every window: certificates 2026-02-14 .. 2027-02-14, CRLs 2026-02-14 .. 2026-02-21.
AT = datetime.datetime(2026, 2, 16, 12, 0, tzinfo=datetime.timezone.utc)
AFTER_CRLS = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
AFTER_LEAVES = datetime.datetime(2027, 6, 1, tzinfo=datetime.timezone.utc)


def vector_path(relative: str, root: Path = VECTORS) -> Path:
    """``tests/vectors/<relative>``; the test fails (never skips) when it is absent."""
    path = root / relative
    if not path.exists():
        pytest.fail(f"test vector missing: {path} (vendored under tests/vectors; "
                    "restore it from git)", pytrace=False)
    return path


def qpki_vectors() -> Path:
    """tests/vectors/qpki: QPKI's certificates, CRLs, CSRs and CA directory."""
    return vector_path("qpki")


def composite_draft13_file() -> Path:
    """tests/vectors/composite-draft13/testvectors.json: the draft's own vectors."""
    return vector_path("composite-draft13/testvectors.json")


def flip_signature_byte(der: bytes) -> bytes:
    """``der`` with one byte near the end of its signature BIT STRING flipped."""
    outer, rest = decoder.decode(der)
    assert not rest
    signature = outer[2].asOctets()
    assert len(signature) > 16 and der.endswith(signature), "signature is not the last field"
    damaged = bytearray(der)
    damaged[-8] ^= 0x01
    return bytes(damaged)
