"""Composite ML-DSA against the official draft-13 test vectors.

tests/vectors/composite-draft13/testvectors.json is the draft's own
file (18 composites + 3 pure ML-DSA): every composite signature, key and
self-signed certificate must be accepted by our code, byte-exact where the
draft fixes an encoding, and every one-byte corruption must be rejected with
an error naming the broken component.
"""

import base64
import json

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1_modules import rfc5280

from qpki.algorithms.composite import (
    COMPOSITE_ALGORITHMS,
    CompositePrivateKey,
    CompositePublicKey,
    params_by_draft_name,
    params_by_oid,
)
from qpki.errors import VerificationError

from interop_vectors import composite_draft13_file

# Vendored in the repository; when it is missing, collecting this file fails the run.
_DATA = json.loads(composite_draft13_file().read_text())
MESSAGE = base64.b64decode(_DATA["m"])
COMPOSITE_CASES = [t for t in _DATA["tests"] if not t["tcId"].startswith("id-ML-DSA-")]
PURE_CASES = [t for t in _DATA["tests"] if t["tcId"].startswith("id-ML-DSA-")]


def _b(case, field):
    return base64.b64decode(case[field])


def _ids(cases):
    return [c["tcId"] for c in cases]


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def test_vector_file_shape():
    assert MESSAGE == b"The quick brown fox jumps over the lazy dog."
    assert len(COMPOSITE_CASES) == 18
    assert len(PURE_CASES) == 3


def test_every_vector_algorithm_is_registered_and_vice_versa():
    vector_names = {c["tcId"] for c in COMPOSITE_CASES}
    registry_names = {p.draft_name for p in COMPOSITE_ALGORITHMS.values()}
    assert vector_names == registry_names
    assert len(COMPOSITE_ALGORITHMS) == 18


@pytest.fixture(params=COMPOSITE_CASES, ids=_ids(COMPOSITE_CASES))
def case(request):
    c = request.param
    params = params_by_draft_name(c["tcId"])
    assert params is not None, c["tcId"]
    return c, params


# --- the signature `s` over `m` -------------------------------------------

def test_vector_signature_verifies(case):
    c, params = case
    pk = CompositePublicKey.from_bytes(params, _b(c, "pk"))
    pk.verify(_b(c, "s"), MESSAGE)
    pk.verify(_b(c, "s"), MESSAGE, ctx=b"")


def test_vector_public_key_reencodes_exactly(case):
    c, params = case
    pk = CompositePublicKey.from_bytes(params, _b(c, "pk"))
    assert pk.public_bytes_raw() == _b(c, "pk")


def test_vector_signature_mldsa_byte_flipped(case):
    c, params = case
    pk = CompositePublicKey.from_bytes(params, _b(c, "pk"))
    bad = _flip(_b(c, "s"), 100)  # well inside the ML-DSA part
    with pytest.raises(VerificationError) as err:
        pk.verify(bad, MESSAGE)
    msg = str(err.value)
    assert "ML-DSA component" in msg
    assert params.trad.component not in msg
    assert "\n" not in msg


def test_vector_signature_traditional_byte_flipped(case):
    c, params = case
    pk = CompositePublicKey.from_bytes(params, _b(c, "pk"))
    sig = _b(c, "s")
    assert len(sig) > params.mldsa_signature_size
    bad = _flip(sig, len(sig) - 1)  # last byte: inside the traditional part
    with pytest.raises(VerificationError) as err:
        pk.verify(bad, MESSAGE)
    msg = str(err.value)
    assert f"{params.trad.component} component" in msg
    assert "ML-DSA" not in msg


def test_vector_signature_wrong_message_or_ctx_fails_both(case):
    c, params = case
    pk = CompositePublicKey.from_bytes(params, _b(c, "pk"))
    with pytest.raises(VerificationError, match="ML-DSA and .* components do not verify"):
        pk.verify(_b(c, "s"), MESSAGE + b"!")
    with pytest.raises(VerificationError, match="ML-DSA and .* components do not verify"):
        pk.verify(_b(c, "s"), MESSAGE, ctx=b"other context")


# --- the private keys ------------------------------------------------------

def test_vector_sk_loads_reencodes_and_signs(case):
    c, params = case
    sk = CompositePrivateKey.from_private_bytes(params, _b(c, "sk"))
    assert sk.public_key().public_bytes_raw() == _b(c, "pk")
    # The draft fixes the encoding, so ours must be byte-identical.
    assert sk.private_bytes_raw() == _b(c, "sk")
    vector_pk = CompositePublicKey.from_bytes(params, _b(c, "pk"))
    sig = sk.sign(MESSAGE)
    vector_pk.verify(sig, MESSAGE)
    sig = sk.sign(b"another message", ctx=b"qpki")
    vector_pk.verify(sig, b"another message", ctx=b"qpki")


def test_vector_sk_pkcs8_loads_reencodes_and_signs(case):
    c, params = case
    sk = CompositePrivateKey.from_pkcs8(_b(c, "sk_pkcs8"))
    assert sk.params is params
    assert sk.private_bytes_raw() == _b(c, "sk")
    assert sk.private_bytes_pkcs8() == _b(c, "sk_pkcs8")
    vector_pk = CompositePublicKey.from_bytes(params, _b(c, "pk"))
    vector_pk.verify(sk.sign(MESSAGE), MESSAGE)


# --- the self-signed certificates -----------------------------------------

def _parse_cert(der):
    cert, rest = der_decoder.decode(der, asn1Spec=rfc5280.Certificate())
    assert rest == b""
    return cert


def test_vector_certificate_verifies(case):
    c, params = case
    der = _b(c, "x5c")
    cert = x509.load_der_x509_certificate(der)
    assert cert.signature_algorithm_oid.dotted_string == params.oid

    parsed = _parse_cert(der)
    tbs = parsed["tbsCertificate"]
    # signatureAlgorithm and tbsCertificate.signature: composite OID, parameters absent.
    for alg in (parsed["signatureAlgorithm"], tbs["signature"]):
        assert str(alg["algorithm"]) == params.oid
        assert not alg["parameters"].isValue
    assert der_encoder.encode(tbs) == cert.tbs_certificate_bytes

    spki_der = der_encoder.encode(tbs["subjectPublicKeyInfo"])
    assert params_by_oid(str(tbs["subjectPublicKeyInfo"]["algorithm"]["algorithm"])) is params
    pk = CompositePublicKey.from_spki(spki_der)
    assert pk.params is params
    assert pk.public_bytes_raw() == _b(c, "pk")
    assert pk.spki_der() == spki_der

    signature = parsed["signature"].asOctets()
    assert signature == cert.signature
    pk.verify(signature, cert.tbs_certificate_bytes)


def test_vector_certificate_flipped_byte_fails(case):
    c, params = case
    cert = x509.load_der_x509_certificate(_b(c, "x5c"))
    spki = der_encoder.encode(_parse_cert(_b(c, "x5c"))["tbsCertificate"]["subjectPublicKeyInfo"])
    pk = CompositePublicKey.from_spki(spki)
    tbs, sig = cert.tbs_certificate_bytes, cert.signature
    # One flipped byte in the signed TBS (the serial number): both components fail.
    with pytest.raises(VerificationError, match="ML-DSA and"):
        pk.verify(sig, _flip(tbs, 15))
    with pytest.raises(VerificationError, match="ML-DSA component does not verify"):
        pk.verify(_flip(sig, 7), tbs)
    with pytest.raises(VerificationError, match=f"{params.trad.component} component does not verify"):
        pk.verify(_flip(sig, len(sig) - 1), tbs)


# --- the three pure ML-DSA entries -----------------------------------------

@pytest.mark.parametrize("pure", PURE_CASES, ids=_ids(PURE_CASES))
def test_pure_mldsa_certificate(pure):
    cert = x509.load_der_x509_certificate(_b(pure, "x5c"))
    cert.verify_directly_issued_by(cert)
    key = cert.public_key()
    assert key.public_bytes_raw() == _b(pure, "pk")
    key.verify(_b(pure, "s"), MESSAGE)  # pure ML-DSA, empty context
    with pytest.raises(InvalidSignature):
        key.verify(cert.signature, _flip(cert.tbs_certificate_bytes, 15))
    # A pure ML-DSA OID is not a composite.
    assert params_by_oid(cert.signature_algorithm_oid.dotted_string) is None
