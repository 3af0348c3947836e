"""What names go into a certificate (issue 13 items 3 and 6), read back by openssl.

- An IP address is never a dNSName: a CN that is an IP address goes to an
  iPAddress SAN; an IP address given as a DNS name is refused, naming the
  variable. Single-label names are refused unless the profile opts in.
- Names given by the operator replace the CSR's; the CSR's names are used
  only when the operator gave none, and only those the profile has a place
  for. At most ``max_names`` SAN entries (default 100) per certificate.
"""

import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from qpki.ops.ca.commands import ca_init
from qpki.ops.cert.state import CertRequest, cert_ensure

EVIL_SUBJECT = "/O=Bank of Evil/L=Nowhere/CN=www.example.com"
EVIL_SANS = "subjectAltName=DNS:www.example.com,DNS:*.google.com,IP:8.8.8.8,email:ceo@evil.example"


def openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)


def make_csr(work: Path, name: str, subject: str, sans: str | None = None) -> str:
    extra = ["-addext", sans] if sans else []
    made = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                   "-nodes", "-keyout", f"{name}.key", "-subj", subject, *extra,
                   "-out", f"{name}.csr", cwd=work)
    assert made.returncode == 0, made.stderr
    return f"{name}.csr"


def names_of(work: Path, cert: str) -> tuple[str, str]:
    """(subject in RFC 2253 form, subjectAltName text) as openssl prints them."""
    shown = openssl("x509", "-in", cert, "-noout", "-subject", "-nameopt", "RFC2253",
                    "-ext", "subjectAltName", cwd=work)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    subject = lines[0].removeprefix("subject=")
    sans = lines[-1].strip() if len(lines) > 2 else ""
    return subject, sans


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    ca_init(str(tmp_path / "ca"), "ec/root-ca", {"cn": "Names Root"})
    return tmp_path / "ca"


def refused(result, tree_before, tree_after, *fragments: str) -> None:
    assert result.returncode == 1, result
    assert len(result.stderr.strip().splitlines()) == 1, result
    for fragment in fragments:
        assert fragment in result.stderr, result
    assert tree_before == tree_after


# ---------------------------------------------------------------- item 3

@pytest.mark.parametrize("address, shown", [
    ("192.0.2.10", "IP Address:192.0.2.10"),
    ("2001:db8::10", "IP Address:2001:DB8:0:0:0:0:0:10"),  # openssl's spelling
])
def test_an_ip_cn_becomes_an_ip_address_san_never_a_dns_name(ca, tmp_path, qpki_cli, address,
                                                             shown):
    csr = make_csr(tmp_path, "ip", "/CN=ignored.example.com")
    qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", csr,
             "--var", f"cn={address}", "--out", "ip.crt", check=True)
    assert names_of(tmp_path, "ip.crt") == (f"CN={address}", shown)


@pytest.mark.parametrize("value, detail", [
    ("192.0.2.10", "is an IP address, not a DNS name"),
    ("2001:db8::1", "is an IP address, not a DNS name"),
    ("10.1", "ends in a numeric label"),
    ("host.0x7f", "ends in a numeric label"),
    ("com", "is a single-label name"),
    ("localhost", "is a single-label name"),
])
def test_a_dns_names_entry_that_is_no_dns_name_is_refused(ca, tmp_path, qpki_cli, tree_snapshot,
                                                          value, detail):
    csr = make_csr(tmp_path, "bad", "/CN=www.example.com")
    before = tree_snapshot(ca)
    result = qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server",
                      "--csr", csr, "--var", "cn=www.example.com",
                      "--var", f"dns_names=www.example.com,{value}")
    refused(result, before, tree_snapshot(ca), "variable dns_names", f'"{value}" {detail}')


@pytest.mark.parametrize("cn", ["localhost", "com"])
def test_a_single_label_cn_is_refused_by_a_tls_server_profile(ca, tmp_path, qpki_cli,
                                                              tree_snapshot, cn):
    csr = make_csr(tmp_path, "single", f"/CN={cn}")
    before = tree_snapshot(ca)
    from_var = qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server",
                        "--csr", csr, "--var", f"cn={cn}")
    refused(from_var, before, tree_snapshot(ca), "subjectAltName.dns_include_cn",
            f'"{cn}" is a single-label name')
    from_csr = qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server",
                        "--csr", csr)
    refused(from_csr, before, tree_snapshot(ca), "is a single-label name")


def test_a_profile_may_allow_single_label_names_but_never_ip_addresses(ca, tmp_path, qpki_cli,
                                                                       tree_snapshot):
    (tmp_path / "intranet.yaml").write_text(
        "name: t/intranet\nalgorithm: ecdsa-p256\nvalidity: 30d\n"
        "variables:\n  cn: {required: true}\n"
        "  hosts: {type: dns_names, allow_single_label: true}\n"
        "subject: {cn: '{{ cn }}'}\n"
        "extensions:\n  extKeyUsage: [serverAuth]\n"
        "  subjectAltName: {dns: ['{{ hosts }}'], dns_include_cn: true}\n")
    csr = make_csr(tmp_path, "intranet", "/CN=wiki")
    qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "intranet.yaml", "--csr", csr,
             "--var", "cn=wiki", "--var", "hosts=intranet", "--out", "wiki.crt", check=True)
    assert names_of(tmp_path, "wiki.crt")[1] == "DNS:wiki, DNS:intranet"
    before = tree_snapshot(ca)
    result = qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "intranet.yaml",
                      "--csr", csr, "--var", "cn=wiki", "--var", "hosts=192.0.2.7")
    refused(result, before, tree_snapshot(ca), "variable hosts", "is an IP address")


# ---------------------------------------------------------------- item 6

def test_names_given_by_the_operator_replace_the_csr_names(ca, tmp_path, qpki_cli):
    """The CSR asks for *.google.com, 8.8.8.8, an email and O=Bank of Evil;
    the operator names the certificate: none of the CSR's names survive, in
    a single issue and in a batch."""
    evil = make_csr(tmp_path, "evil", EVIL_SUBJECT, EVIL_SANS)
    other = make_csr(tmp_path, "evil2", EVIL_SUBJECT, EVIL_SANS)
    given = ["--var", "cn=api.example.com", "--var", "dns_names=api.example.com,app.example.com"]
    qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", evil,
             *given, "--out", "single.crt", check=True)
    qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", evil,
             "--csr", other, *given, "--out-dir", "batch", check=True)
    outputs = ["single.crt"] + sorted(f"batch/{p.name}" for p in (tmp_path / "batch").iterdir())
    assert len(outputs) == 3
    for cert in outputs:
        assert names_of(tmp_path, cert) == ("CN=api.example.com",
                                            "DNS:api.example.com, DNS:app.example.com"), cert


def test_the_module_path_drops_the_csr_names_too(ca, tmp_path):
    """qpki_cert's engine (cert_ensure), check mode and real run."""
    make_csr(tmp_path, "evil", EVIL_SUBJECT, EVIL_SANS)
    csr = (tmp_path / "evil.csr").read_bytes()
    request = CertRequest("ec/tls-server", csr, str(tmp_path / "mod.crt"),
                          {"cn": "api.example.com", "dns_names": ["api.example.com"]})
    predicted = cert_ensure(str(ca), [request], check_mode=True).results[0]
    assert predicted.subject == "CN=api.example.com"
    assert predicted.sans == ["api.example.com"]
    cert_ensure(str(ca), [request])
    assert names_of(tmp_path, "mod.crt") == ("CN=api.example.com", "DNS:api.example.com")


def test_csr_names_fill_only_the_places_the_profile_has(ca, tmp_path, qpki_cli):
    """No operator names: the CSR's are used, but only the subject attributes
    and SAN types the profile lists (tls-client: cn, o, ou, c and one
    email; not L, not DNS or IP SANs)."""
    csr = make_csr(tmp_path, "client", EVIL_SUBJECT,
                   "subjectAltName=DNS:www.example.com,IP:8.8.8.8,email:alice@example.com")
    qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-client", "--csr", csr,
             "--out", "client.crt", check=True)
    assert names_of(tmp_path, "client.crt") == ("CN=www.example.com,O=Bank of Evil",
                                                "email:alice@example.com")


# ---------------------------------------------------------------- SAN cap

def dns_list(count: int) -> str:
    return ",".join(f"h{number}.example.com" for number in range(count))


def test_more_than_100_names_are_refused_on_every_issue_path(ca, tmp_path, qpki_cli,
                                                             tree_snapshot):
    many = dns_list(100)  # + the CN: 101 entries
    csr = make_csr(tmp_path, "many", "/CN=www.example.com")
    crowded = make_csr(tmp_path, "crowded", "/CN=www.example.com",
                       "subjectAltName=" + ",".join(f"DNS:{n}" for n in many.split(",")))
    before = tree_snapshot(ca)
    attempts = {
        "issue": ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", csr,
                  "--var", "cn=www.example.com", "--var", f"dns_names={many}"],
        "issue from the CSR's names": ["cert", "issue", "--ca-dir", "ca", "--profile",
                                       "ec/tls-server", "--csr", crowded],
        "batch": ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", csr,
                  "--csr", crowded, "--out-dir", "out"],
        "enroll": ["credential", "enroll", "--ca-dir", "ca", "--cred-dir", "creds", "--profile",
                   "ec/tls-server", "--var", "cn=www.example.com", "--var", f"dns_names={many}"],
    }
    for label, argv in attempts.items():
        result = qpki_cli(*argv)
        assert result.returncode == 1, (label, result)
        assert "extensions.subjectAltName.max_names: 101 names for one certificate, at most " \
               "100 allowed" in result.stderr, (label, result)
    assert tree_snapshot(ca) == before
    assert not (tmp_path / "creds").exists() or not any((tmp_path / "creds").iterdir())


def test_a_profile_can_raise_the_cap(ca, tmp_path, qpki_cli):
    (tmp_path / "wide.yaml").write_text(
        "name: t/wide\nalgorithm: ecdsa-p256\nvalidity: 30d\n"
        "variables:\n  cn: {required: true}\n  dns_names: {type: dns_names}\n"
        "subject: {cn: '{{ cn }}'}\n"
        "extensions:\n  subjectAltName: {dns: ['{{ dns_names }}'], dns_include_cn: true,"
        " max_names: 150}\n")
    csr = make_csr(tmp_path, "wide", "/CN=www.example.com")
    qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "wide.yaml", "--csr", csr,
             "--var", "cn=www.example.com", "--var", f"dns_names={dns_list(120)}",
             "--out", "wide.crt", check=True)
    cert = x509.load_pem_x509_certificate((tmp_path / "wide.crt").read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert len(sans.get_values_for_type(x509.DNSName)) == 121
    assert names_of(tmp_path, "wide.crt")[1].count("DNS:") == 121
