"""``x509.certificate.with_signature``: the signature value of a signed DER
structure replaced, the rest kept byte for byte (how a batch worker's
certificate gets the signature the parent's HSM session made)."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from qpki.x509.certificate import with_signature


def _certificate(key, cn="with-signature.example"):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)))
    return builder.sign(key, hashes.SHA256())


@pytest.mark.parametrize("key", [ec.generate_private_key(ec.SECP256R1()),
                                 ec.generate_private_key(ec.SECP384R1()),
                                 rsa.generate_private_key(65537, 4096)],
                         ids=["p256", "p384", "rsa4096"])
def test_placeholder_then_real_signature(key):
    """As a batch does it: a one-byte placeholder first, then the real
    signature (512 bytes for RSA-4096: long DER lengths on both sides)."""
    cert = _certificate(key)
    tbs = cert.tbs_certificate_bytes
    placeholder = x509.load_der_x509_certificate(
        with_signature(cert.public_bytes(Encoding.DER), b"\x00"))
    assert placeholder.signature == b"\x00" and placeholder.tbs_certificate_bytes == tbs
    if isinstance(key, rsa.RSAPrivateKey):
        real = key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    else:
        real = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    rebuilt = x509.load_der_x509_certificate(
        with_signature(placeholder.public_bytes(Encoding.DER), real))
    assert rebuilt.signature == real and rebuilt.tbs_certificate_bytes == tbs
    assert rebuilt.signature_algorithm_oid == cert.signature_algorithm_oid
    rebuilt.verify_directly_issued_by(rebuilt)  # self-signed: checks the new signature


def test_not_a_sequence_is_refused():
    with pytest.raises(ValueError):
        with_signature(b"\x04\x03abc", b"sig")
