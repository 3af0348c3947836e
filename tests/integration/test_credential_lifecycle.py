"""credential list / info / export / revoke and cert revoke --cert, through
the CLI, checked with openssl and cryptography."""

import os
import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

SECRET = "export-pass-7Qz"


def openssl(*args, cwd, env=None):
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, **(env or {})})


def enroll(qpki_cli, family="ec", cn="www.example.com"):
    """A root CA of ``family`` and one TLS-server credential it issued."""
    qpki_cli("ca", "init", "--profile", f"{family}/root-ca", "--var", "cn=Life Root",
             "--ca-dir", "root", check=True)
    return qpki_cli("credential", "enroll", "--ca-dir", "root", "--cred-dir", "creds",
                    "--profile", f"{family}/tls-server", "--var", f"cn={cn}",
                    "--var", f"dns_names={cn}", "--json", check=True).json()


@pytest.fixture
def enrolled(tmp_path, qpki_cli):
    return tmp_path, enroll(qpki_cli)


def test_list_and_info_describe_the_credential_from_its_files(enrolled, qpki_cli):
    work, made = enrolled
    listed = qpki_cli("credential", "list", "--cred-dir", "creds", "--json", check=True).json()
    assert [row["id"] for row in listed["credentials"]] == [made["id"]]
    assert listed["credentials"][0]["status"] == "valid"
    info = qpki_cli("credential", "info", made["id"], "--cred-dir", "creds", "--json",
                    check=True).json()
    cert = x509.load_pem_x509_certificate((work / made["cert_path"]).read_bytes())
    assert info["serial"] == f"{cert.serial_number:X}"
    assert info["subject"] == cert.subject.rfc4514_string()
    assert 0 < info["expires_in_seconds"] <= 398 * 86400
    key_path = info["key_storage"][0]["path"]
    assert (work / key_path).is_file() and key_path.startswith("creds/")
    text = qpki_cli("credential", "info", made["id"], "--cred-dir", "creds", check=True).stdout
    assert made["id"] in text and f"{cert.serial_number:X}" in text


def test_pkcs12_export_is_read_by_openssl_and_holds_the_matching_key(enrolled, qpki_cli):
    work, made = enrolled
    out = qpki_cli("credential", "export", made["id"], "--cred-dir", "creds", "--out", "c.p12",
                   "--export-passphrase-env", "P12_PASS", "--json", env={"P12_PASS": SECRET},
                   check=True)
    assert SECRET not in out.stdout + out.stderr
    result = out.json()
    assert result["key_exported"] is True and result["certificates"] == 2
    assert stat.S_IMODE(os.stat(work / "c.p12").st_mode) == 0o600
    shown = openssl("pkcs12", "-info", "-in", "c.p12", "-passin", "env:P12_PASS", "-nokeys",
                    cwd=work, env={"P12_PASS": SECRET})
    assert shown.returncode == 0, shown.stderr
    assert "subject=CN = www.example.com" in shown.stdout and "Life Root" in shown.stdout
    key, cert, extra = pkcs12.load_key_and_certificates((work / "c.p12").read_bytes(),
                                                        SECRET.encode())
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(*raw) == cert.public_key().public_bytes(*raw)
    assert [c.subject.rfc4514_string() for c in extra] == ["CN=Life Root"]
    wrong = openssl("pkcs12", "-info", "-in", "c.p12", "-passin", "pass:wrong", "-nokeys",
                    cwd=work)
    assert wrong.returncode != 0


def test_a_key_is_never_exported_unencrypted(enrolled, qpki_cli):
    work, made = enrolled
    refused = qpki_cli("credential", "export", made["id"], "--cred-dir", "creds",
                       "--out", "c.p12")
    assert refused.returncode == 1 and "export passphrase" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not (work / "c.p12").exists()
    bundle = qpki_cli("credential", "export", made["id"], "--cred-dir", "creds",
                      "--out", "c.pem", "--format", "pem", "--no-key", "--json", check=True)
    assert bundle.json()["key_exported"] is False
    data = (work / "c.pem").read_bytes()
    assert b"PRIVATE KEY" not in data and data.count(b"BEGIN CERTIFICATE") == 2
    assert stat.S_IMODE(os.stat(work / "c.pem").st_mode) == 0o644


def test_ml_dsa_keys_go_to_an_encrypted_pem_bundle_not_pkcs12(tmp_path, qpki_cli):
    made = enroll(qpki_cli, "ml", "pq.example.com")
    env = {"P12_PASS": SECRET}
    refused = qpki_cli("credential", "export", made["id"], "--cred-dir", "creds",
                       "--out", "c.p12", "--export-passphrase-env", "P12_PASS", env=env)
    assert refused.returncode == 1 and "as pem" in refused.stderr
    assert not (tmp_path / "c.p12").exists()
    qpki_cli("credential", "export", made["id"], "--cred-dir", "creds", "--out", "c.pem",
             "--format", "pem", "--export-passphrase-env", "P12_PASS", env=env, check=True)
    data = (tmp_path / "c.pem").read_bytes()
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in data
    key = serialization.load_pem_private_key(data[data.index(b"-----BEGIN ENCRYPTED"):],
                                             SECRET.encode())
    cert = x509.load_pem_x509_certificate(data)
    raw = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(*raw) == cert.public_key().public_bytes(*raw)


def test_credential_revoke_reaches_the_crl_and_converges(enrolled, qpki_cli):
    work, made = enrolled
    first = qpki_cli("credential", "revoke", made["id"], "--cred-dir", "creds", "--ca-dir", "root",
                     "--reason", "keyCompromise", "--json", check=True).json()
    cert = x509.load_pem_x509_certificate((work / made["cert_path"]).read_bytes())
    assert first["changed"] is True and first["revoked"] == [f"{cert.serial_number:X}"]
    again = qpki_cli("credential", "revoke", made["id"], "--cred-dir", "creds",
                     "--ca-dir", "root", "--json", check=True).json()
    assert again["changed"] is False
    info = qpki_cli("credential", "info", made["id"], "--cred-dir", "creds", "--json",
                    check=True).json()
    assert info["status"] == "revoked"
    qpki_cli("crl", "gen", "--ca-dir", "root", check=True)
    text = openssl("crl", "-in", "root/crl/ca.crl", "-noout", "-text", cwd=work).stdout
    entries = text.split("Serial Number: ")[1:]
    assert [entry.split()[0] for entry in entries] == [f"{cert.serial_number:X}"]
    assert "Key Compromise" in entries[0]


def test_cert_revoke_by_file_checks_the_issuer(enrolled, qpki_cli):
    work, made = enrolled
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Other Root",
             "--ca-dir", "other", check=True)
    foreign = qpki_cli("cert", "revoke", "--cert", "other/ca.crt", "--ca-dir", "root")
    assert foreign.returncode == 1 and "was not issued by the CA" in foreign.stderr
    both = qpki_cli("cert", "revoke", "01", "--cert", made["cert_path"], "--ca-dir", "root")
    assert both.returncode == 2 and "one of them" in both.stderr
    done = qpki_cli("cert", "revoke", "--cert", made["cert_path"], "--ca-dir", "root",
                    "--json", check=True).json()
    cert = x509.load_pem_x509_certificate((work / made["cert_path"]).read_bytes())
    assert done["serial"] == f"{cert.serial_number:X}"
    index = (work / "root/index.txt").read_text()
    assert any(line.startswith("R\t") and done["serial"] in line for line in index.splitlines())


def _cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def _spki(key):
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def test_renew_keeps_the_key_rotate_replaces_it_activate_goes_back(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Life Root",
             "--ca-dir", "root", check=True)
    made = qpki_cli("credential", "enroll", "--ca-dir", "root", "--cred-dir", "creds",
                    "--profile", "ec/tls-server", "--var", "cn=www.example.com",
                    "--var", "dns_names=www.example.com,example.com", "--json",
                    check=True).json()
    cred = tmp_path / "creds" / made["id"]
    leaf = tmp_path / made["cert_path"]
    first = _cert(leaf)

    renewed = qpki_cli("credential", "renew", made["id"], "--cred-dir", "creds",
                       "--ca-dir", "root", "--json", check=True).json()
    second = _cert(leaf)
    assert renewed["version"] == "v2" and renewed["rotated"] is False
    assert second.serial_number != first.serial_number
    assert _spki(second.public_key()) == _spki(first.public_key())
    sans = second.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(sans.get_values_for_type(x509.DNSName)) == ["example.com", "www.example.com"]
    assert second.subject == first.subject
    assert _cert(cred / "versions/v1" / leaf.name) == first
    assert openssl("verify", "-CAfile", "root/ca.crt", str(leaf), cwd=tmp_path).returncode == 0

    rotated = qpki_cli("credential", "rotate", made["id"], "--cred-dir", "creds",
                       "--ca-dir", "root", "--json", check=True).json()
    third = _cert(leaf)
    new_key = tmp_path / rotated["key_storage"]["path"]
    assert rotated["version"] == "v3" and new_key.name.endswith(".v3.key")
    assert stat.S_IMODE(os.stat(new_key).st_mode) == 0o600
    key = serialization.load_pem_private_key(new_key.read_bytes(), None)
    assert _spki(key.public_key()) == _spki(third.public_key()) != _spki(first.public_key())

    info = qpki_cli("credential", "info", made["id"], "--cred-dir", "creds", "--json",
                    check=True).json()
    assert info["active_version"] == "v3"
    assert [(v["id"], v["status"]) for v in info["versions"]] == [
        ("v1", "archived"), ("v2", "archived"), ("v3", "active")]

    back = qpki_cli("credential", "activate", made["id"], "--cred-dir", "creds",
                    "--version", "v1", "--json", check=True).json()
    assert back["changed"] is True and _cert(leaf) == first
    again = qpki_cli("credential", "activate", made["id"], "--cred-dir", "creds",
                     "--version", "v1", "--json", check=True).json()
    assert again["changed"] is False
    missing = qpki_cli("credential", "activate", made["id"], "--cred-dir", "creds",
                       "--version", "v7")
    assert missing.returncode == 1 and "no version 'v7'" in missing.stderr

    revoked = qpki_cli("credential", "revoke", made["id"], "--cred-dir", "creds",
                       "--ca-dir", "root", "--json", check=True).json()
    assert sorted(revoked["revoked"]) == sorted(
        f"{c.serial_number:X}" for c in (first, second, third))
    refused = qpki_cli("credential", "renew", made["id"], "--cred-dir", "creds",
                       "--ca-dir", "root")
    assert refused.returncode == 1 and "is revoked" in refused.stderr
    assert qpki_cli("audit", "verify", "--ca-dir", "root").returncode == 0


def test_named_credential_close_to_expiry_is_renewed_in_place(tmp_path, qpki_cli):
    from qpki.ops.credential.state import credential_ensure

    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Life Root",
             "--ca-dir", "root", check=True)
    ca, creds = str(tmp_path / "root"), str(tmp_path / "creds")
    values = {"cn": "app.example.com"}
    made = credential_ensure(ca, creds, "ec/tls-server", values, credential_id="app").to_dict()
    assert made["changed"] is True
    kept = credential_ensure(ca, creds, "ec/tls-server", values, credential_id="app").to_dict()
    assert kept["changed"] is False and kept["serial"] == made["serial"]
    predicted = credential_ensure(ca, creds, "ec/tls-server", values, credential_id="app",
                                  renew_before="400d", check_mode=True).to_dict()
    assert predicted["changed"] is True and "within renew_before" in predicted["reasons"][0]
    assert credential_ensure(ca, creds, "ec/tls-server", values,
                             credential_id="app").to_dict()["serial"] == made["serial"]
    renewed = credential_ensure(ca, creds, "ec/tls-server", values, credential_id="app",
                                renew_before="400d").to_dict()
    assert renewed["changed"] is True and renewed["version"] == "v2"
    assert renewed["serial"] != made["serial"] and renewed["key_path"] == made["key_path"]
    rotated = credential_ensure(ca, creds, "ec/tls-server", values, credential_id="app",
                                renew_before="400d", rotate=True).to_dict()
    assert rotated["version"] == "v3" and rotated["key_path"] != made["key_path"]
    assert credential_ensure(ca, creds, "ec/tls-server", values,
                             credential_id="app").to_dict()["changed"] is False
