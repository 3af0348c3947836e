"""x509/signature.py: OID dispatch, key/algorithm agreement, messages."""

import datetime
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, rsa
from cryptography.x509.oid import NameOID

from qpki.errors import VerificationError
from qpki.x509.signature import (SignatureInvalid, describe_name, describe_public_key,
                                 scheme_for_oid, signature_algorithm_name,
                                 verify_crl_signature, verify_csr_signature, verify_signature)

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
DATA = b"to be signed"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def test_labels_for_every_supported_oid():
    assert signature_algorithm_name("1.2.840.10045.4.3.3") == "ecdsa-with-SHA384"
    assert signature_algorithm_name("1.2.840.113549.1.1.13") == "sha512WithRSAEncryption"
    assert signature_algorithm_name("1.2.840.113549.1.1.10") == "RSASSA-PSS"
    assert signature_algorithm_name("1.3.101.112") == "Ed25519"
    assert [signature_algorithm_name("2.16.840.1.101.3.4.3.%d" % n) for n in (17, 18, 19)] == [
        "ML-DSA-44", "ML-DSA-65", "ML-DSA-87"]
    slh = [signature_algorithm_name("2.16.840.1.101.3.4.3.%d" % n) for n in range(20, 32)]
    assert slh[0] == "SLH-DSA-SHA2-128s" and slh[-1] == "SLH-DSA-SHAKE-256f"
    assert len(set(slh)) == 12
    assert signature_algorithm_name("1.3.6.1.5.5.7.6.45") == "composite-mldsa65-ecdsa-p256"
    assert signature_algorithm_name("1.2.3.4") == "1.2.3.4"
    assert scheme_for_oid(x509.oid.SignatureAlgorithmOID.ED25519).kind == "ed25519"


def test_unsupported_algorithms(rsa_key):
    with pytest.raises(VerificationError, match="^unsupported signature algorithm 1.2.3.4$"):
        verify_signature(rsa_key.public_key(), "1.2.3.4", None, b"", DATA)
    # sha1WithRSAEncryption is not accepted.
    with pytest.raises(VerificationError, match="unsupported signature algorithm"):
        verify_signature(rsa_key.public_key(), "1.2.840.113549.1.1.5", None, b"", DATA)


@pytest.mark.parametrize("oid,key_factory,text", [
    ("1.2.840.10045.4.3.2", "rsa", "signature algorithm ecdsa-with-SHA256 does not match "
                                   "issuer key (RSA-2048 key)"),
    ("1.2.840.113549.1.1.11", "p256", "signature algorithm sha256WithRSAEncryption does not "
                                      "match issuer key (EC secp256r1 key)"),
    ("1.3.101.112", "p256", "signature algorithm Ed25519 does not match issuer key "
                            "(EC secp256r1 key)"),
    ("2.16.840.1.101.3.4.3.18", "ed25519", "signature algorithm ML-DSA-65 does not match "
                                           "issuer key (Ed25519 key)"),
    ("2.16.840.1.101.3.4.3.21", "mldsa", "signature algorithm SLH-DSA-SHA2-128f does not "
                                         "match issuer key (ML-DSA-44 key)"),
    ("1.3.6.1.5.5.7.6.45", "p256", "signature algorithm composite-mldsa65-ecdsa-p256 does "
                                   "not match issuer key (EC secp256r1 key)"),
])
def test_key_must_fit_the_algorithm(rsa_key, oid, key_factory, text):
    key = {
        "rsa": lambda: rsa_key,
        "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate,
        "mldsa": mldsa.MLDSA44PrivateKey.generate,
    }[key_factory]().public_key()
    with pytest.raises(VerificationError) as info:
        verify_signature(key, oid, None, b"\x00" * 64, DATA)
    assert str(info.value) == text


def test_each_family_verifies_and_rejects(rsa_key):
    from cryptography.hazmat.primitives.asymmetric import padding

    cases = []
    p384 = ec.generate_private_key(ec.SECP384R1())
    cases.append((p384, "1.2.840.10045.4.3.4", p384.sign(DATA, ec.ECDSA(hashes.SHA512()))))
    cases.append((rsa_key, "1.2.840.113549.1.1.12",
                  rsa_key.sign(DATA, padding.PKCS1v15(), hashes.SHA384())))
    ed = ed25519.Ed25519PrivateKey.generate()
    cases.append((ed, "1.3.101.112", ed.sign(DATA)))
    ed4 = ed448.Ed448PrivateKey.generate()
    cases.append((ed4, "1.3.101.113", ed4.sign(DATA)))
    for cls, oid in ((mldsa.MLDSA44PrivateKey, "2.16.840.1.101.3.4.3.17"),
                     (mldsa.MLDSA87PrivateKey, "2.16.840.1.101.3.4.3.19")):
        key = cls.generate()
        cases.append((key, oid, key.sign(DATA)))
    for key, oid, signature in cases:
        verify_signature(key.public_key(), oid, None, signature, DATA)
        with pytest.raises(SignatureInvalid) as info:
            verify_signature(key.public_key(), oid, None, signature, DATA + b"!")
        assert str(info.value) == "%s signature does not verify" % signature_algorithm_name(oid)
        with pytest.raises(SignatureInvalid):
            verify_signature(key.public_key(), oid, None, signature[:-3], DATA)


def test_ml_dsa_with_a_context_is_not_pure_x509():
    key = mldsa.MLDSA65PrivateKey.generate()
    signature = key.sign(DATA, b"some context")
    with pytest.raises(SignatureInvalid):
        verify_signature(key.public_key(), "2.16.840.1.101.3.4.3.18", None, signature, DATA)


def test_pqc_parameters_must_be_absent():
    key = mldsa.MLDSA65PrivateKey.generate()
    signature = key.sign(DATA)
    with pytest.raises(VerificationError, match="ML-DSA-65: parameters must be absent"):
        verify_signature(key.public_key(), "2.16.840.1.101.3.4.3.18", b"\x05\x00", signature, DATA)


def test_describe_helpers(rsa_key):
    assert describe_public_key(rsa_key.public_key()) == "RSA-2048 key"
    assert describe_public_key(mldsa.MLDSA87PrivateKey.generate().public_key()) == "ML-DSA-87 key"
    assert describe_public_key(
        ec.generate_private_key(ec.BrainpoolP256R1()).public_key()) == "EC brainpoolP256r1 key"
    assert describe_name(_name("x")) == "CN=x"
    assert describe_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Org")])) \
        == "O=Org"
    assert describe_name(x509.Name([])) == "(empty name)"


def test_csr_signature():
    for key, algorithm in ((ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()),
                           (mldsa.MLDSA44PrivateKey.generate(), None)):
        csr = x509.CertificateSigningRequestBuilder().subject_name(_name("req")).sign(
            key, algorithm)
        verify_csr_signature(csr)
        der = bytearray(csr.public_bytes(serialization.Encoding.DER))
        der[-8] ^= 1
        damaged = x509.load_der_x509_csr(bytes(der))
        with pytest.raises(VerificationError, match=r"^certificate request CN=req: signature "
                                                    r"does not verify \("):
            verify_csr_signature(damaged)


def test_crl_signature_message():
    key = ec.generate_private_key(ec.SECP256R1())
    crl = (x509.CertificateRevocationListBuilder().issuer_name(_name("CA"))
           .last_update(START).next_update(START + datetime.timedelta(days=1))
           .sign(key, hashes.SHA256()))
    verify_crl_signature(crl, key.public_key())
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(VerificationError) as info:
        verify_crl_signature(crl, other.public_key())
    assert str(info.value) == "CRL of CN=CA: signature does not verify (ecdsa-with-SHA256)"


# --------------------------------------------------------------------------
# Composite (draft-13)
# --------------------------------------------------------------------------

def _composite_key(name="composite-mldsa65-ecdsa-p256"):
    from qpki.algorithms.composite import CompositePrivateKey, params_by_name

    return CompositePrivateKey.generate(params_by_name(name))


def test_composite_signature_names_the_broken_component():
    key = _composite_key()
    oid = key.params.oid
    signature = key.sign(DATA)
    verify_signature(key.public_key(), oid, None, signature, DATA)
    ml_part = bytearray(signature)
    ml_part[10] ^= 1
    with pytest.raises(SignatureInvalid, match="ML-DSA component does not verify"):
        verify_signature(key.public_key(), oid, None, bytes(ml_part), DATA)
    trad_part = bytearray(signature)
    trad_part[-8] ^= 1
    with pytest.raises(SignatureInvalid, match="ECDSA component does not verify"):
        verify_signature(key.public_key(), oid, None, bytes(trad_part), DATA)


def test_composite_with_another_composite_key_is_a_mismatch():
    key = _composite_key()
    other = _composite_key("composite-mldsa44-ed25519")
    with pytest.raises(VerificationError, match=r"does not match issuer key "
                                                r"\(composite-mldsa44-ed25519 key\)"):
        verify_signature(other.public_key(), key.params.oid, None, key.sign(DATA), DATA)


def test_without_composite_module_composites_are_unsupported(monkeypatch):
    """The lazy import guard: no composite.py means "unsupported algorithm"."""
    from qpki.x509.parse import composite_module

    monkeypatch.setitem(sys.modules, "qpki.algorithms.composite", None)
    assert composite_module() is None
    assert scheme_for_oid("1.3.6.1.5.5.7.6.45") is None
    with pytest.raises(VerificationError, match="^unsupported signature algorithm "
                                                "1.3.6.1.5.5.7.6.45$"):
        verify_signature(object(), "1.3.6.1.5.5.7.6.45", None, b"", DATA)
