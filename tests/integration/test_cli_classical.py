"""Two-tier classical PKIs through the qpki CLI, checked with OpenSSL."""

import subprocess

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

FAMILIES = {
    # family: (openssl -newkey argument for the CSR, expected leaf key check)
    "ec": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "rsa": ["-newkey", "rsa:2048"],
}


def openssl(*args, cwd):
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture(params=sorted(FAMILIES))
def two_tier(request, tmp_path, qpki_cli):
    family = request.param
    qpki_cli("ca", "init", "--profile", f"{family}/root-ca", "--var", "cn=Test Root",
             "--ca-dir", "root", check=True)
    qpki_cli("ca", "init", "--profile", f"{family}/issuing-ca", "--var", "cn=Test Issuing",
             "--ca-dir", "issuing", "--parent", "root", check=True)
    return family, tmp_path


def test_openssl_csr_chain_revocation_and_crl(two_tier, qpki_cli):
    family, work = two_tier
    made = openssl("req", "-new", *FAMILIES[family], "-nodes", "-keyout", "leaf.key",
                   "-subj", "/CN=api.example.com",
                   "-addext", "subjectAltName=DNS:api.example.com,DNS:www.example.com",
                   "-out", "leaf.csr", cwd=work)
    assert made.returncode == 0, made.stderr
    issued = qpki_cli("cert", "issue", "--ca-dir", "issuing", "--profile", f"{family}/tls-server",
                      "--csr", "leaf.csr", "--out", "leaf.crt", "--json", check=True).json()
    assert str(work / "leaf.crt") in [str(work / p) for p in issued["paths"]]

    ok = openssl("verify", "-CAfile", "root/ca.crt", "-untrusted", "issuing/ca.crt", "leaf.crt",
                 cwd=work)
    assert ok.returncode == 0 and "leaf.crt: OK" in ok.stdout, ok.stdout + ok.stderr

    leaf = x509.load_pem_x509_certificate((work / "leaf.crt").read_bytes())
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(sans.get_values_for_type(x509.DNSName)) == ["api.example.com", "www.example.com"]
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]

    issuing = x509.load_pem_x509_certificate((work / "issuing/ca.crt").read_bytes())
    constraints = issuing.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    assert issuing.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign

    serial = "%X" % leaf.serial_number
    qpki_cli("cert", "revoke", serial, "--ca-dir", "issuing", "--reason", "keyCompromise",
             check=True)
    qpki_cli("crl", "gen", "--ca-dir", "issuing", check=True)
    crl_ok = openssl("crl", "-in", "issuing/crl/ca.crl", "-CAfile", "issuing/ca.crt",
                     "-noout", "-verify", cwd=work)
    assert crl_ok.returncode == 0 and "verify OK" in crl_ok.stderr, crl_ok.stderr
    der = openssl("crl", "-inform", "DER", "-in", "issuing/crl/ca.crl.der", "-noout", "-text",
                  cwd=work)
    assert der.returncode == 0 and f"Serial Number: {serial}" in der.stdout

    bundle = work / "trust.pem"
    bundle.write_bytes((work / "root/ca.crt").read_bytes() + (work / "issuing/ca.crt").read_bytes()
                       + (work / "issuing/crl/ca.crl").read_bytes())
    revoked = openssl("verify", "-crl_check", "-CAfile", "trust.pem", "leaf.crt", cwd=work)
    assert revoked.returncode != 0 and "certificate revoked" in revoked.stdout + revoked.stderr

    ours = qpki_cli("cert", "verify", "leaf.crt", "--ca", "root/ca.crt", "--untrusted",
                    "issuing/ca.crt", "--crl", "issuing/crl/ca.crl", "--json")
    assert ours.returncode == 1 and ours.json()["revoked"] is True


def test_credential_enroll_chain_and_files(two_tier, qpki_cli):
    family, work = two_tier
    result = qpki_cli("credential", "enroll", "--ca-dir", "issuing", "--cred-dir", "creds",
                      "--profile", f"{family}/tls-server", "--var", "cn=www.example.com",
                      "--var", "dns_names=www.example.com,example.com", "--json",
                      check=True).json()
    cert_path = work / result["cert_path"]
    ok = openssl("verify", "-CAfile", "root/ca.crt", "-untrusted", "issuing/chain.crt",
                 str(cert_path), cwd=work)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    leaf = x509.load_pem_x509_certificate(cert_path.read_bytes())
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {"www.example.com", "example.com"}
    key_file = [p for p in result["paths"] if p.endswith(".key")]
    assert len(key_file) == 1
    # The private key in the credential matches the certified public key.
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key((work / key_file[0]).read_bytes(), None)
    assert key.public_key() == leaf.public_key()
