"""CA-level CRL / OCSP / CA-issuers URLs (issue 16, item 1): recorded at
ca init or with ca set-urls, carried by every certificate the CA issues
unless the call gives its own, never by OCSP-responder certificates, and
part of what the declarative ops compare (no re-issue on the next run)."""

import json
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

CRL, OCSP, ISSUERS = "http://pki.test/crl/issuing.crl", "http://ocsp.pki.test/", \
    "http://pki.test/issuing.crt"


def csr(cn, curve=ec.SECP256R1):
    key = ec.generate_private_key(curve())
    return x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])).sign(
            key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def urls_of(path):
    """(CDP URIs, OCSP URIs, caIssuers URIs) as openssl prints them."""
    text = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-ext",
                           "crlDistributionPoints,authorityInfoAccess"],
                          capture_output=True, text=True, check=True).stdout
    cdp = [line.split("URI:", 1)[1].strip() for line in text.splitlines()
           if "URI:" in line and "OCSP" not in line and "CA Issuers" not in line]
    ocsp = [line.split("URI:", 1)[1].strip() for line in text.splitlines() if "OCSP - URI:" in line]
    issuers = [line.split("URI:", 1)[1].strip() for line in text.splitlines()
               if "CA Issuers - URI:" in line]
    return cdp, ocsp, issuers


def issue(qpki_cli, work, name, *extra, profile="ec/tls-server"):
    curve = ec.SECP384R1 if profile == "ec/ocsp-responder" else ec.SECP256R1
    (work / f"{name}.csr").write_bytes(csr(f"{name}.example.com", curve))
    qpki_cli("cert", "issue", "--ca-dir", "issuing", "--profile", profile, "--csr",
             f"{name}.csr", "--var", f"cn={name}.example.com", *extra, "--out", f"{name}.crt",
             check=True)
    return work / f"{name}.crt"


def test_every_certificate_carries_the_ca_urls_unless_told_otherwise(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=URL Root", "--ca-dir", "root",
             check=True)
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=URL Issuing",
             "--ca-dir", "issuing", "--parent", "root", "--crl-url", CRL, "--ocsp-url", OCSP,
             "--ca-issuers-url", ISSUERS, check=True)
    assert json.loads((tmp_path / "issuing/ca.meta.json").read_text())["urls"] == {
        "crl": CRL, "ocsp": OCSP, "ca_issuers": ISSUERS}
    assert urls_of(tmp_path / "issuing/ca.crt") == ([], [], [])  # the root has none set
    assert urls_of(issue(qpki_cli, tmp_path, "plain")) == ([CRL], [OCSP], [ISSUERS])
    own = issue(qpki_cli, tmp_path, "own", "--var", "crl_url=http://other.test/x.crl")
    assert urls_of(own)[0] == ["http://other.test/x.crl"] and urls_of(own)[1] == [OCSP]
    responder = issue(qpki_cli, tmp_path, "responder", profile="ec/ocsp-responder")
    assert urls_of(responder) == ([], [], [])
    cert = x509.load_pem_x509_certificate(responder.read_bytes())
    assert cert.extensions.get_extension_for_class(x509.OCSPNoCheck)

    qpki_cli("ca", "set-urls", "--ca-dir", "issuing", "--ocsp-url", "", check=True)
    assert urls_of(issue(qpki_cli, tmp_path, "later")) == ([CRL], [], [ISSUERS])
    before = (tmp_path / "issuing/ca.meta.json").read_bytes()
    bad = qpki_cli("ca", "set-urls", "--ca-dir", "issuing", "--crl-url", "ftp://pki.test/x")
    assert bad.returncode == 1 and "not an http, https or ldap URL" in bad.stderr
    assert (tmp_path / "issuing/ca.meta.json").read_bytes() == before
    same = qpki_cli("ca", "set-urls", "--ca-dir", "issuing", "--crl-url", CRL, "--json",
                    check=True).json()
    assert same["changed"] is False


def test_declarative_issuance_is_idempotent_with_ca_urls(tmp_path, qpki_cli):
    from qpki.ops.cert.state import CertRequest, cert_ensure
    from qpki.ops.credential.state import credential_ensure

    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=URL Issuing",
             "--ca-dir", "issuing", "--crl-url", CRL, "--ocsp-url", OCSP, check=True)
    (tmp_path / "a.csr").write_bytes(csr("a.example.com"))
    ca, csr_data = str(tmp_path / "issuing"), (tmp_path / "a.csr").read_bytes()

    def ensure():
        return cert_ensure(ca, [CertRequest("ec/tls-server", csr_data, str(tmp_path / "a.crt"),
                                            {"cn": "a.example.com"})])

    first, again = ensure(), ensure()
    assert first.changed is True and again.changed is False
    leaf = x509.load_pem_x509_certificate((tmp_path / "a.crt").read_bytes())
    access = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [a.access_location.value for a in access
            if a.access_method == AuthorityInformationAccessOID.OCSP] == [OCSP]
    made = credential_ensure(ca, str(tmp_path / "creds"), "ec/tls-server", {"cn": "b.example.com"},
                             credential_id="b").to_dict()
    kept = credential_ensure(ca, str(tmp_path / "creds"), "ec/tls-server",
                             {"cn": "b.example.com"}, credential_id="b").to_dict()
    assert made["changed"] is True and kept["changed"] is False
