"""Shared pieces of the hypothesis fuzz tests (tests/unit/test_fuzz_*.py).

Two properties:

- whatever the input, the code under test returns normally or raises a
  one-line ``qpki.errors.QpkiError`` (``attempt``); any other exception
  (ValueError, TypeError, KeyError, IndexError, RecursionError,
  PyAsn1Error, ...) escapes and fails the example;
- verify or refuse: a signed object (CSR, certificate, CRL) that a
  mutation changed may be refused, but when qpki accepts it, what it
  accepted must be exactly what was signed (``assert_same_signed_object``):
  a tampered input that verifies fails the test.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any, Callable

from hypothesis import strategies as st
from pyasn1.codec.der import decoder, encoder


def examples(default):
    """``default`` examples, scaled by QPKI_FUZZ_SCALE (e.g. 20 for a long
    local run: ``QPKI_FUZZ_SCALE=20 HYPOTHESIS_PROFILE=explore pytest ...``)."""
    return max(1, int(default * float(os.environ.get("QPKI_FUZZ_SCALE", "1"))))


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a call did with its input: refused it (a QpkiError) or returned ``value``."""

    refused: bool
    value: Any = None
    error: str = ""


def attempt(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    """Run ``call``; a QpkiError must be one line and is a refusal, any other
    exception fails the example."""
    from qpki.errors import QpkiError

    try:
        return Outcome(refused=False, value=call(*args, **kwargs))
    except QpkiError as exc:
        assert "\n" not in str(exc), repr(str(exc))
        return Outcome(refused=True, error=str(exc))


def signed_parts(der: bytes) -> tuple[bytes, bytes, bytes]:
    """(signed body, signature AlgorithmIdentifier, signature BIT STRING) of a
    DER certificate, CRL or CSR, each re-encoded by pyasn1."""
    outer, rest = decoder.decode(der)
    assert not rest and len(outer) == 3, "not a signed object"
    return tuple(encoder.encode(outer[position]) for position in range(3))


def assert_same_signed_object(accepted: bytes, original: bytes, what: str) -> None:
    """``accepted`` passed a signature check: it must be ``original`` as
    signed (a mutation in the signed body, the algorithm or the signature
    that still verifies is a forgery the check let through)."""
    assert signed_parts(accepted) == signed_parts(original), \
        f"tampered {what} accepted as valid: {accepted.hex()}"


def tbs_field(der: bytes, name: str) -> bytes:
    """The DER of field ``name`` (e.g. subjectPublicKeyInfo) of a certificate's TBS."""
    from pyasn1_modules import rfc5280

    cert, rest = decoder.decode(der, asn1Spec=rfc5280.Certificate())
    assert not rest
    return encoder.encode(cert["tbsCertificate"][name])


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
def sample_csrs() -> dict[str, bytes]:
    """{name: DER} of CSRs the project makes: classical, ML-DSA, SLH-DSA,
    composite and catalyst."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    from qpki.algorithms.registry import get_algorithm
    from qpki.signer.software import SoftwareSigner
    from qpki.x509.csr import build_csr

    def signer(algorithm):
        return SoftwareSigner(get_algorithm(algorithm).generate(), algorithm)

    def der(cn, algorithm, alt=None, dns=()):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        extensions = [x509.Extension(x509.SubjectAlternativeName.oid, False,
                                     x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]))
                      ] if dns else []
        csr = build_csr(signer(algorithm), name, extensions,
                        alt_signer=signer(alt) if alt else None)
        return csr.public_bytes(serialization.Encoding.DER)

    out = {algorithm: der("fuzz.example.com", algorithm, dns=["fuzz.example.com"])
           for algorithm in ("ecdsa-p256", "rsa-2048", "ml-dsa-44", "slh-dsa-sha2-128f",
                             "composite-mldsa44-ecdsa-p256")}
    out["catalyst"] = der("catalyst.example.com", "ecdsa-p256", alt="ml-dsa-65")
    return out
