"""Shared pieces of the hypothesis fuzz tests (tests/unit/test_fuzz_*.py).

The property is always the same: whatever the input, the code under test
returns normally or raises a ``qpki.errors.QpkiError`` subclass. Any other
exception (ValueError, TypeError, KeyError, IndexError, RecursionError,
PyAsn1Error, ...) escapes ``only_qpki_errors`` and fails the example.
"""

import functools
import os
import tempfile

from hypothesis import strategies as st


def examples(default):
    """``default`` examples, scaled by QPKI_FUZZ_SCALE (e.g. 20 for a long
    local run: ``QPKI_FUZZ_SCALE=20 HYPOTHESIS_PROFILE=explore pytest ...``)."""
    return max(1, int(default * float(os.environ.get("QPKI_FUZZ_SCALE", "1"))))


def only_qpki_errors(call, *args, **kwargs):
    from qpki.errors import QpkiError

    try:
        return call(*args, **kwargs)
    except QpkiError as exc:
        assert "\n" not in str(exc)
        return None


@st.composite
def mutated(draw, seed_bytes):
    """``seed_bytes`` with 1-4 random edits: flipped bytes, a truncation, an
    insertion, a deleted slice or a length byte set to an extreme."""
    data = bytearray(seed_bytes)
    for dummy in range(draw(st.integers(1, 4))):
        if not data:
            data += draw(st.binary(min_size=1, max_size=8))
            continue
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "length"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 32))]
        else:
            data[at] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0x81, 0x84, 0x88, 0xFF]))
    return bytes(data)


@functools.lru_cache(maxsize=None)
def sample_csrs():
    """{name: DER} of CSRs the project makes: classical, ML-DSA, SLH-DSA,
    composite and catalyst."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from qpki.ops.key import csr_gen

    folder = tempfile.mkdtemp(prefix="qpki-fuzz-")
    out = {}
    for algorithm in ("ecdsa-p256", "rsa-2048", "ml-dsa-44", "slh-dsa-sha2-128f",
                      "composite-mldsa44-ecdsa-p256"):
        path = os.path.join(folder, algorithm + ".csr")
        csr_gen(path, "fuzz.example.com", algorithm=algorithm,
                key_out=os.path.join(folder, algorithm + ".key"), dns_names=["fuzz.example.com"])
        out[algorithm] = _der(path, x509, serialization)
    path = os.path.join(folder, "catalyst.csr")
    csr_gen(path, "catalyst.example.com", algorithm="ecdsa-p256",
            key_out=os.path.join(folder, "catalyst.key"), alt_algorithm="ml-dsa-65",
            alt_key_out=os.path.join(folder, "catalyst-alt.key"))
    out["catalyst"] = _der(path, x509, serialization)
    return out


def _der(path, x509, serialization):
    with open(path, "rb") as handle:
        return x509.load_pem_x509_csr(handle.read()).public_bytes(serialization.Encoding.DER)
