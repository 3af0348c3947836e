"""x509/parse.py: PEM or DER in, cryptography objects out, one-line errors."""

import datetime
import random

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.x509.oid import NameOID

from qpki.errors import InputError
from qpki.x509.parse import (certificate_spki_der, composite_module, csr_spki_der,
                             load_certificate, load_certificate_file, load_certificates,
                             load_certificates_file, load_crl, load_crl_file, load_csr,
                             load_csr_file, public_key_of_certificate, public_key_of_csr)

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(cn="parse.example", key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    return (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(START).not_valid_after(START + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))


def _crl():
    key = ec.generate_private_key(ec.SECP256R1())
    return (x509.CertificateRevocationListBuilder().issuer_name(_name("CA"))
            .last_update(START).next_update(START + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))


def _csr(key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    algorithm = None if isinstance(key, mldsa.MLDSA65PrivateKey) else hashes.SHA256()
    return x509.CertificateSigningRequestBuilder().subject_name(_name("req")).sign(key, algorithm)


@pytest.fixture(scope="module")
def cert():
    return _cert()


def test_certificate_pem_and_der(cert):
    assert load_certificate(cert.public_bytes(PEM), "pem") == cert
    assert load_certificate(cert.public_bytes(DER), "der") == cert
    assert load_certificate(cert.public_bytes(PEM).decode(), "str") == cert


def test_pem_with_text_around_it(cert):
    data = b"Certificate:\n  some openssl text\n" + cert.public_bytes(PEM) + b"trailer\n"
    assert load_certificate(data, "annotated") == cert


def test_bundle(cert):
    other = _cert("second")
    bundle = cert.public_bytes(PEM) + b"\n# comment\n" + other.public_bytes(PEM)
    assert load_certificates(bundle, "bundle") == [cert, other]
    assert load_certificates(cert.public_bytes(DER), "der") == [cert]


@pytest.mark.parametrize("data", [
    b"", b"garbage", b"\x30\x82\x01", b"\x00" * 100,
    b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    b"-----BEGIN CERTIFICATE-----\nnot base64 !!!\n-----END CERTIFICATE-----\n",
])
def test_garbage_certificate(data):
    with pytest.raises(InputError) as info:
        load_certificate(data, "file x.crt")
    assert str(info.value) == "file x.crt: not a PEM or DER certificate"


def test_truncated_certificate(cert):
    der = cert.public_bytes(DER)
    pem = cert.public_bytes(PEM)
    for data in (der[:-1], der[: len(der) // 2], pem[: len(pem) // 2], pem[:-30] + pem[-25:]):
        with pytest.raises(InputError, match="^file t: not a PEM or DER certificate$"):
            load_certificate(data, "file t")


def test_bundle_garbage():
    with pytest.raises(InputError, match="^b: not a PEM or DER certificate$"):
        load_certificates(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "b")
    with pytest.raises(InputError, match="^b: not a PEM or DER certificate$"):
        load_certificates(b"junk", "b")


def test_wrong_kind_names_what_was_found(cert):
    with pytest.raises(InputError, match=r"^f: not a PEM or DER certificate \(found PEM X509 CRL\)$"):
        load_certificate(_crl().public_bytes(PEM), "f")
    with pytest.raises(InputError, match=r"^f: not a PEM or DER CRL \(found PEM CERTIFICATE\)$"):
        load_crl(cert.public_bytes(PEM), "f")
    with pytest.raises(InputError, match=r"^f: not a PEM or DER certificate request "
                                         r"\(found PEM CERTIFICATE\)$"):
        load_csr(cert.public_bytes(PEM), "f")


def test_der_of_the_wrong_kind(cert):
    with pytest.raises(InputError, match="^f: not a PEM or DER CRL$"):
        load_crl(cert.public_bytes(DER), "f")
    with pytest.raises(InputError, match="^f: not a PEM or DER certificate$"):
        load_certificate(_crl().public_bytes(DER), "f")


def test_random_bytes_never_escape_as_other_errors():
    rng = random.Random(20260214)
    for dummy in range(200):
        data = bytes(rng.randrange(256) for dummy in range(rng.randrange(0, 300)))
        if rng.random() < 0.3:
            data = b"\x30" + data
        for loader in (load_certificate, load_certificates, load_crl, load_csr):
            with pytest.raises(InputError):
                loader(data, "random")


def test_not_bytes():
    with pytest.raises(InputError, match="^x: not a PEM or DER certificate$"):
        load_certificate(12, "x")


def test_crl_and_csr_pem_and_der():
    crl = _crl()
    assert load_crl(crl.public_bytes(PEM), "p") == crl
    assert load_crl(crl.public_bytes(DER), "d") == crl
    csr = _csr()
    assert load_csr(csr.public_bytes(PEM), "p") == csr
    assert load_csr(csr.public_bytes(DER), "d") == csr
    with pytest.raises(InputError, match="^c: not a PEM or DER CRL$"):
        load_crl(b"junk", "c")
    with pytest.raises(InputError, match="^c: not a PEM or DER certificate request$"):
        load_csr(b"junk", "c")


def test_file_loaders(tmp_path, cert):
    (tmp_path / "a.crt").write_bytes(cert.public_bytes(PEM))
    (tmp_path / "a.der").write_bytes(cert.public_bytes(DER))
    (tmp_path / "a.crl").write_bytes(_crl().public_bytes(DER))
    (tmp_path / "a.csr").write_bytes(_csr().public_bytes(PEM))
    (tmp_path / "bad.crt").write_bytes(b"nope")
    assert load_certificate_file(tmp_path / "a.crt") == cert
    assert load_certificates_file(tmp_path / "a.der") == [cert]
    assert load_crl_file(tmp_path / "a.crl") is not None
    assert load_csr_file(tmp_path / "a.csr") is not None
    with pytest.raises(InputError) as info:
        load_certificate_file(tmp_path / "bad.crt")
    assert str(info.value) == "file %s: not a PEM or DER certificate" % (tmp_path / "bad.crt")
    with pytest.raises(InputError, match=r"^cannot read file .*missing\.crt: file not found"):
        load_certificate_file(tmp_path / "missing.crt")
    with pytest.raises(InputError, match=r"cannot read CRL .*: is a directory"):
        load_crl_file(tmp_path)


def test_spki_extraction_matches_cryptography(cert):
    expected = cert.public_key().public_bytes(DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert certificate_spki_der(cert) == expected
    csr = _csr()
    assert csr_spki_der(csr) == csr.public_key().public_bytes(
        DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_public_keys_cryptography_can_load(cert):
    assert public_key_of_certificate(cert) == cert.public_key()
    key = mldsa.MLDSA65PrivateKey.generate()
    csr = _csr(key)
    assert public_key_of_csr(csr) == key.public_key()


def test_composite_module_is_found():
    module = composite_module()
    assert module is not None and hasattr(module, "params_by_oid")
