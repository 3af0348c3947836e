"""`qpki cert verify` and `qpki crl verify` on the other implementation's
artifacts (tests/vectors/qpki), at a fixed time inside their validity, and
on copies with one signature byte flipped."""

import pytest

from interop_vectors import AT, flip_signature_byte, qpki_vectors

FAMILIES = ("classical/ecdsa", "classical/rsa", "pqc/mldsa")
WHEN = AT.isoformat()


def _pem_to_der(path):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(Encoding.DER)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_certificate_verifies_and_a_flipped_one_does_not(family, qpki_cli, tmp_path):
    folder = qpki_vectors() / family
    certs = sorted((folder / "certs").glob("*.crt"))
    assert certs
    for cert in [folder / "ca.crt", *certs]:
        ok = qpki_cli("cert", "verify", cert, "--ca", folder / "ca.crt", "--at", WHEN, "--json")
        assert ok.returncode == 0 and ok.json()["valid"] is True, ok
        damaged = tmp_path / ("bad-" + cert.name)
        damaged.write_bytes(flip_signature_byte(_pem_to_der(cert)))
        bad = qpki_cli("cert", "verify", damaged, "--ca", folder / "ca.crt", "--at", WHEN)
        assert bad.returncode == 1, bad


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("name", ["ca.crl", "ca.crl.der"])
def test_every_crl_verifies_and_a_flipped_one_does_not(family, name, qpki_cli, tmp_path):
    folder = qpki_vectors() / family
    crl = folder / "crl" / name
    ok = qpki_cli("crl", "verify", crl, "--ca", folder / "ca.crt", "--at", WHEN, "--json")
    assert ok.returncode == 0 and ok.json()["valid"] is True, ok
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    data = crl.read_bytes()
    der = data if name.endswith(".der") else \
        x509.load_pem_x509_crl(data).public_bytes(Encoding.DER)
    damaged = tmp_path / "bad.crl"
    damaged.write_bytes(flip_signature_byte(der))
    bad = qpki_cli("crl", "verify", damaged, "--ca", folder / "ca.crt", "--at", WHEN)
    assert bad.returncode == 1, bad
