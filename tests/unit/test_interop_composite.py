"""Our certificate verifier on the draft-13 composite ML-DSA vectors.

Every entry of tests/vectors/composite-draft13/testvectors.json carries a
self-signed certificate (``x5c``) made by the draft authors: 18 composite
algorithms and 3 pure ML-DSA ones. Each must verify through
parse.public_key_of_certificate + signature.verify_certificate_signature,
and must fail with one signature byte flipped. Composite support is
optional in the verifier (a lazy import), but required by these tests.
"""

import base64
import datetime
import json

import pytest
from cryptography import x509

from qpki.errors import VerificationError
from qpki.x509.parse import composite_module, load_certificate, public_key_of_certificate
from qpki.x509.signature import scheme_for_oid, verify_certificate_signature
from qpki.x509.verify import verify_certificate

from interop_vectors import composite_draft13_file, flip_signature_byte

AT = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)


def test_composite_support_is_present():
    # The verifier imports composite.py lazily; in this tree it must be there.
    assert composite_module() is not None


def _vectors():
    return json.loads(composite_draft13_file().read_text())["tests"]


def _ids():
    # Known at collection time so that a missing file fails in the test, not here.
    try:
        return [t["tcId"] for t in _vectors()]
    except BaseException:  # noqa: BLE001 - the vectors fixture fails the run later
        return ["(vectors missing)"]


@pytest.fixture(scope="module")
def vectors():
    return {t["tcId"]: t for t in _vectors()}


def _certificate(vectors, tc_id):
    if tc_id not in vectors:
        pytest.fail("no vector %s" % tc_id)
    return load_certificate(base64.b64decode(vectors[tc_id]["x5c"]), tc_id)


def test_all_21_vectors_present(vectors):
    assert len(vectors) == 21
    composites = [t for t in vectors if not t.startswith("id-ML-DSA-")]
    assert len(composites) == 18


@pytest.mark.parametrize("tc_id", _ids())
def test_self_signed_certificate_verifies(vectors, tc_id):
    cert = _certificate(vectors, tc_id)
    scheme = scheme_for_oid(cert.signature_algorithm_oid.dotted_string)
    assert scheme is not None
    key = public_key_of_certificate(cert)
    verify_certificate_signature(cert, key)
    assert verify_certificate(cert, [cert], at=AT).valid


@pytest.mark.parametrize("tc_id", _ids())
def test_flipped_signature_fails(vectors, tc_id):
    cert = _certificate(vectors, tc_id)
    key = public_key_of_certificate(cert)
    from cryptography.hazmat.primitives.serialization import Encoding

    damaged = x509.load_der_x509_certificate(flip_signature_byte(cert.public_bytes(Encoding.DER)))
    with pytest.raises(VerificationError, match="signature does not verify") as info:
        verify_certificate_signature(damaged, key)
    if not tc_id.startswith("id-ML-DSA-"):
        # The byte flipped is in the traditional part (the end of mldsaSig || tradSig).
        assert "component does not verify" in str(info.value)
        assert "ML-DSA" not in str(info.value).rsplit("signature is invalid:", maxsplit=1)[-1]


def test_composite_key_in_a_certificate_is_our_object(vectors):
    cert = _certificate(vectors, "id-MLDSA65-ECDSA-P256-SHA512")
    key = public_key_of_certificate(cert)
    assert type(key).__name__ == "CompositePublicKey"
    assert key.params.oid == cert.signature_algorithm_oid.dotted_string


def test_composite_signature_checked_with_a_plain_key_is_a_mismatch(vectors):
    composite = _certificate(vectors, "id-MLDSA65-ECDSA-P256-SHA512")
    plain = _certificate(vectors, "id-ML-DSA-65")
    with pytest.raises(VerificationError, match="does not match issuer key \\(ML-DSA-65 key\\)"):
        verify_certificate_signature(composite, public_key_of_certificate(plain))
