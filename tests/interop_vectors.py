"""Where the interop vectors live and how tests damage them.

The vectors are in shared/interop/qpki beside the repository (or wherever
QPKI_SHARED_DIR points). They are required: a missing directory FAILS the
tests, so a broken checkout can never look like a pass.
"""

import datetime
import os
from pathlib import Path

import pytest
from pyasn1.codec.der import decoder

REPO = Path(__file__).resolve().parents[1]

# Inside every window: certificates 2026-02-14 .. 2027-02-14, CRLs 2026-02-14 .. 2026-02-21.
AT = datetime.datetime(2026, 2, 16, 12, 0, tzinfo=datetime.timezone.utc)
AFTER_CRLS = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
AFTER_LEAVES = datetime.datetime(2027, 6, 1, tzinfo=datetime.timezone.utc)


def shared_dir():
    """shared/ beside the repository, or $QPKI_SHARED_DIR; fail when absent."""
    override = os.environ.get("QPKI_SHARED_DIR")
    candidate = Path(override) if override else REPO.parent / "shared"
    if not (candidate / "interop" / "qpki").is_dir():
        origin = "QPKI_SHARED_DIR" if override else "the directory beside the repository"
        pytest.fail("interop vectors not found: %s/interop/qpki (from %s)" % (candidate, origin),
                    pytrace=False)
    return candidate


def flip_signature_byte(der):
    """``der`` with one byte near the end of its signature BIT STRING flipped."""
    outer, rest = decoder.decode(der)
    assert not rest
    signature = outer[2].asOctets()
    assert len(signature) > 16 and der.endswith(signature), "signature is not the last field"
    damaged = bytearray(der)
    damaged[-8] ^= 0x01
    return bytes(damaged)
