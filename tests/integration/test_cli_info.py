"""`cert info` and `crl info` show what extensions and CRL entries hold
(issue 13, item 5), and never print text from input raw (item 14).

The certificate and the CRL are made by openssl (req -x509 with an extension
section, `openssl ca -revoke` / `-gencrl`), and the CRL entries are compared
with what `openssl crl -text` reads from the same file.
"""

from __future__ import annotations

import datetime
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

EXTENSIONS_CNF = """\
[req]
distinguished_name = dn
prompt = no
x509_extensions = ext
[dn]
CN = Extension Test
[ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectAltName = DNS:www.example.com,IP:192.0.2.7,email:ops@example.com,URI:https://example.com/
crlDistributionPoints = URI:http://crl.example.com/ca.crl,URI:ldap://ldap.example.com/cn=ca
authorityInfoAccess = OCSP;URI:http://ocsp.example.com/,caIssuers;URI:http://ca.example.com/ca.crt
certificatePolicies = 2.23.140.1.2.1,@pol
nameConstraints = critical,permitted;DNS:example.com,permitted;IP:192.0.2.0/255.255.255.0,excluded;DNS:bad.example.com
policyConstraints = requireExplicitPolicy:0
inhibitAnyPolicy = 2
1.3.6.1.4.1.55555.1 = DER:0403010203
[pol]
policyIdentifier = 1.3.6.1.4.1.55555.7
CPS.1 = https://example.com/cps
userNotice.1 = @notice
[notice]
explicitText = "Test notice"
organization = "Example Org"
noticeNumbers = 1,2
"""

CA_CNF = """\
[ca]
default_ca = testca
[testca]
database = ./index.txt
crlnumber = ./crlnumber
certificate = ./ca.pem
private_key = ./ca.key
default_md = sha256
default_crl_days = 7
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
"""

CLASS_NAMES = ("CRLDistributionPoints", "AuthorityInformationAccess", "CertificatePolicies",
               "NameConstraints", "UnrecognizedExtension", "PolicyConstraints")


def openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def openssl_ca(tmp_path: Path) -> Path:
    """An openssl-made CA certificate with many extensions, three revoked
    leaves and a CRL, in tmp_path."""
    (tmp_path / "ext.cnf").write_text(EXTENSIONS_CNF)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-config", "ext.cnf", "-days", "30",
            cwd=tmp_path)
    (tmp_path / "ca.cnf").write_text(CA_CNF)
    (tmp_path / "index.txt").write_text("")
    (tmp_path / "crlnumber").write_text("1000\n")
    revoke = {1: ["-crl_reason", "keyCompromise"], 2: ["-crl_compromise", "20240101120000Z"],
              3: ["-crl_reason", "superseded"]}
    for number, how in revoke.items():
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", f"l{number}.key", "-out", f"l{number}.pem", "-subj",
                f"/CN=leaf {number}", "-days", "5", cwd=tmp_path)
        openssl("ca", "-config", "ca.cnf", "-revoke", f"l{number}.pem", *how, cwd=tmp_path)
    openssl("ca", "-config", "ca.cnf", "-gencrl", "-out", "crl.pem", cwd=tmp_path)
    return tmp_path


def _by_oid(info: dict, oid: str) -> dict:
    found = [e for e in info["extensions"] if e["oid"] == oid]
    assert len(found) == 1, info["extensions"]
    return found[0]


def test_cert_info_shows_urls_oids_and_subtrees(openssl_ca, qpki_cli):
    info = qpki_cli("cert", "info", "ca.pem", "--json", check=True).json()
    assert _by_oid(info, "2.5.29.31")["value"] == [  # openssl: one point per URI
        {"full_name": ["URI:http://crl.example.com/ca.crl"]},
        {"full_name": ["URI:ldap://ldap.example.com/cn=ca"]}]
    assert _by_oid(info, "1.3.6.1.5.5.7.1.1")["value"] == [
        {"method": "OCSP", "location": "URI:http://ocsp.example.com/"},
        {"method": "caIssuers", "location": "URI:http://ca.example.com/ca.crt"}]
    assert _by_oid(info, "2.5.29.32")["value"] == [
        {"policy": "2.23.140.1.2.1"},
        {"policy": "1.3.6.1.4.1.55555.7", "cps": ["https://example.com/cps"],
         "user_notices": [{"organization": "Example Org", "notice_numbers": [1, 2],
                           "explicit_text": "Test notice"}]}]
    constraints = _by_oid(info, "2.5.29.30")
    assert constraints["critical"] is True
    assert constraints["value"] == {"permitted": ["DNS:example.com", "IP:192.0.2.0/24"],
                                    "excluded": ["DNS:bad.example.com"]}
    assert _by_oid(info, "2.5.29.17")["value"] == [
        "DNS:www.example.com", "IP:192.0.2.7", "email:ops@example.com", "URI:https://example.com/"]
    assert _by_oid(info, "2.5.29.36")["value"] == {"require_explicit_policy": 0}
    assert _by_oid(info, "2.5.29.54")["value"] == {"skip_certs": 2}
    assert _by_oid(info, "2.5.29.19")["value"] == {"ca": True, "path_length": 0}
    assert _by_oid(info, "1.3.6.1.4.1.55555.1")["value"] == {"der": "0403010203"}

    text = qpki_cli("cert", "info", "ca.pem", check=True).stdout
    for shown in ("URI:http://crl.example.com/ca.crl", "URI:http://ocsp.example.com/",
                  "caIssuers", "1.3.6.1.4.1.55555.7", "https://example.com/cps",
                  "Test notice", "IP:192.0.2.0/24", "DNS:bad.example.com",
                  "1.3.6.1.4.1.55555.1", "0403010203", "nameConstraints (2.5.29.30, critical)"):
        assert shown in text, (shown, text)
    for name in CLASS_NAMES:
        assert name not in text and name not in str(info), name


def _openssl_entries(crl_text: str) -> dict:
    """{serial: {"reason", "invalidity"}} as `openssl crl -text` reads them."""
    entries, serial = {}, None
    lines = iter(crl_text.splitlines())
    for line in lines:
        line = line.strip()
        if line.startswith("Serial Number:"):
            serial = int(line.split(":", 1)[1].strip(), 16)
            entries[serial] = {}
        elif line.startswith("X509v3 CRL Reason Code:"):
            entries[serial]["reason"] = next(lines).strip()
        elif line.startswith("Invalidity Date:"):
            entries[serial]["invalidity"] = next(lines).strip()
    return entries


def test_crl_info_lists_entries_and_extensions(openssl_ca, qpki_cli):
    info = qpki_cli("crl", "info", "crl.pem", "--json", check=True).json()
    expected = _openssl_entries(openssl("crl", "-in", "crl.pem", "-noout", "-text",
                                        cwd=openssl_ca).stdout)
    assert len(expected) == 3 and len(info["entries"]) == 3
    spelled = {"Key Compromise": "keyCompromise", "Superseded": "superseded"}
    for entry in info["entries"]:
        seen = expected[int(entry["serial"], 16)]
        assert entry["reason"] == spelled[seen["reason"]]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["revocation_date"])
        if "invalidity" in seen:
            assert seen["invalidity"] == "Jan  1 12:00:00 2024 GMT"
            assert entry["invalidity_date"] == "2024-01-01T12:00:00Z"
        else:
            assert "invalidity_date" not in entry
    names = {e["name"]: e["value"] for e in info["extensions"]}
    assert names["cRLNumber"] == 0x1000
    ca = x509.load_pem_x509_certificate((openssl_ca / "ca.pem").read_bytes())
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert names["authorityKeyIdentifier"] == {"key_identifier": ski.hex()}

    text = qpki_cli("crl", "info", "crl.pem", check=True).stdout
    for serial in expected:
        assert f"serial: {serial:X}" in text
    assert "invalidity date: 2024-01-01T12:00:00Z" in text
    assert "reason: superseded" in text and "cRLNumber (2.5.29.20): 4096" in text


def test_catalyst_extensions_are_described(qpki_cli):
    qpki_cli("ca", "init", "--profile", "hybrid/catalyst/root-ca", "--var", "cn=Cat",
             "--ca-dir", "cat", check=True)
    info = qpki_cli("cert", "info", "cat/ca.crt", "--json", check=True).json()
    assert _by_oid(info, "2.5.29.72")["value"]["algorithm"] == "ML-DSA-87"
    assert _by_oid(info, "2.5.29.73")["value"] == {"algorithm": "ML-DSA-87"}
    assert _by_oid(info, "2.5.29.74")["value"]["signature_bytes"] == 4627  # FIPS 204, ML-DSA-87
    qpki_cli("crl", "gen", "--ca-dir", "cat", check=True)
    crl = qpki_cli("crl", "info", "cat/crl/ca.crl", "--json", check=True).json()
    assert {e["name"] for e in crl["extensions"]} >= {"altSignatureAlgorithm",
                                                      "altSignatureValue", "cRLNumber"}


# ------------------------------------------------------------------ hostile text

HOSTILE = "evil\x1b[2J\x07\r\nfake: line\u202eabc\x9b"
RAW = ("\x1b", "\x07", "\r", "\u202e", "\x9b")


def _hostile_certificate(path: Path) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTILE)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(5).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("a\x1b]0;title\x07.example.com"),
                x509.UniformResourceIdentifier("http://x/\x1b[31m")]), critical=False)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    crl = (x509.CertificateRevocationListBuilder().issuer_name(name).last_update(now)
           .next_update(now + datetime.timedelta(days=1))
           .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(7)
                                    .revocation_date(now).build())
           .sign(key, hashes.SHA256()))
    path.with_suffix(".crl").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return cert


def _assert_escaped(output: str, exact: bool = True) -> None:
    for char in RAW:
        assert char not in output, repr(output)
    if exact:  # errors turn the line break into a space before escaping
        assert "\\x1b[2J\\x07\\x0d\\x0afake: line\\u202eabc\\x9b" in output
    assert "\\x1b[2J\\x07" in output and "\\u202eabc\\x9b" in output
    assert not any(line.startswith("fake") for line in output.splitlines())


def test_hostile_certificate_and_crl_text_is_escaped(qpki_cli, tmp_path):
    _hostile_certificate(tmp_path / "evil.pem")
    shown = qpki_cli("cert", "info", "evil.pem", check=True).stdout
    _assert_escaped(shown)
    assert "DNS:a\\x1b]0;title\\x07.example.com" in shown and "URI:http://x/\\x1b[31m" in shown
    _assert_escaped(qpki_cli("crl", "info", "evil.crl", check=True).stdout)
    # JSON keeps the exact value, escaped the JSON way
    assert qpki_cli("cert", "info", "evil.pem", "--json", check=True).json()["subject"] == \
        f"CN={HOSTILE}"


def test_hostile_text_in_errors_is_escaped(qpki_cli, tmp_path):
    _hostile_certificate(tmp_path / "evil.pem")
    for argv in (["ca", "info", "--ca-dir", HOSTILE], ["profile", "show", HOSTILE],
                 ["cert", "info", HOSTILE], [HOSTILE],
                 ["cert", "verify", "evil.pem", "--ca", "evil.pem", "--at", HOSTILE]):
        result = qpki_cli(*argv)
        assert result.returncode in (1, 2), result
        _assert_escaped(result.stdout + result.stderr, exact=False)
    verify = qpki_cli("cert", "verify", "evil.pem", "--ca", "evil.pem")
    for char in RAW:
        assert char not in verify.stdout + verify.stderr
