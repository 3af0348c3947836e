"""Per-version CRL distribution points (issue 17, item 2 of the rotation
work): a CRL URL naming ``{version}`` points each version's certificates at
the CRL that version signs, published where the URL says, so relying
parties of certificates issued before a rotation still find a CRL that
openssl can check against their issuer."""

import json
import subprocess
from urllib.parse import urlparse

from cryptography import x509

URL = "http://pki.example/crl/{version}/ca.crl"


def crl_url(path):
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return points[0].full_name[0].value


def published(root, url):
    """The file a web server serving ``root/crl`` at http://pki.example/crl/ answers."""
    return root / urlparse(url).path.lstrip("/")


def openssl_verify(ca_cert, crl, leaf):
    return subprocess.run(["openssl", "verify", "-crl_check", "-CAfile", str(ca_cert),
                           "-CRLfile", str(crl), str(leaf)], capture_output=True, text=True,
                          check=False)


def enroll(qpki_cli, name):
    made = qpki_cli("credential", "enroll", name, "--ca-dir", "root", "--cred-dir", "creds",
                    "--profile", "ec/tls-server", "--var", f"cn={name}.example.com", "--json",
                    check=True).json()
    return made


def test_each_version_s_certificates_find_the_crl_that_version_signs(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Url Root", "--ca-dir", "root",
             "--crl-url", URL, "--unencrypted-key", check=True)
    old_kept, old_gone = enroll(qpki_cli, "old-kept"), enroll(qpki_cli, "old-gone")
    first = qpki_cli("crl", "gen", "--ca-dir", "root", "--json", check=True).json()
    assert "root/crl/v1/ca.crl" in first["paths"]  # the active version's CRL, where its URL says
    qpki_cli("ca", "rotate", "--ca-dir", "root", "--unencrypted-key", check=True)
    new_kept, new_gone = enroll(qpki_cli, "new-kept"), enroll(qpki_cli, "new-gone")
    for made in (old_gone, new_gone):
        qpki_cli("cert", "revoke", "--cert", made["cert_path"], "--ca-dir", "root", check=True)
    qpki_cli("crl", "gen", "--ca-dir", "root", check=True)
    qpki_cli("crl", "gen", "--ca-dir", "root", "--version", "v1", check=True)

    issuers = {v: tmp_path / f"root/versions/{v}/certs/ca.ecdsa-p384.pem" for v in ("v1", "v2")}
    for made, version, revoked in ((old_kept, "v1", False), (old_gone, "v1", True),
                                   (new_kept, "v2", False), (new_gone, "v2", True)):
        leaf = tmp_path / made["cert_path"]
        url = crl_url(leaf)
        assert url == URL.replace("{version}", version)
        crl = published(tmp_path / "root", url)
        result = openssl_verify(issuers[version], crl, leaf)
        if revoked:
            assert result.returncode != 0 and "certificate revoked" in result.stdout + result.stderr
        else:
            assert result.returncode == 0, result.stdout + result.stderr
    # The active version's CRL is also the CA's crl/ca.crl, byte for byte.
    assert (tmp_path / "root/crl/ca.crl").read_bytes() == (
        tmp_path / "root/crl/v2/ca.crl").read_bytes()
    info = qpki_cli("ca", "info", "--ca-dir", "root", "--json", check=True).json()
    assert info["urls"]["crl"] == URL
    assert qpki_cli("ca", "check", "--ca-dir", "root").returncode == 0
    assert qpki_cli("audit", "verify", "--ca-dir", "root").returncode == 0


def test_a_fixed_url_ca_moves_to_per_version_urls_at_its_rotation(tmp_path, qpki_cli):
    """Certificates keep the URL they carry: a CA whose first version's
    certificates name one fixed URL keeps serving that version's CRL
    (crl/v1/ca.crl after the rotation) there, and names the version for the
    next ones."""
    fixed = "http://pki.example/root.crl"
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Url Root", "--ca-dir", "root",
             "--crl-url", fixed, "--unencrypted-key", check=True)
    old = enroll(qpki_cli, "old")
    qpki_cli("cert", "revoke", "--cert", old["cert_path"], "--ca-dir", "root", check=True)
    qpki_cli("ca", "rotate", "--ca-dir", "root", "--unencrypted-key", check=True)
    qpki_cli("ca", "set-urls", "--ca-dir", "root", "--crl-url", URL, check=True)
    new = enroll(qpki_cli, "new")
    assert crl_url(tmp_path / old["cert_path"]) == fixed
    assert crl_url(tmp_path / new["cert_path"]) == URL.replace("{version}", "v2")
    qpki_cli("crl", "gen", "--ca-dir", "root", "--version", "v1", check=True)
    result = openssl_verify(tmp_path / "root/versions/v1/certs/ca.ecdsa-p384.pem",
                            tmp_path / "root/crl/v1/ca.crl", tmp_path / old["cert_path"])
    assert result.returncode != 0 and "certificate revoked" in result.stdout + result.stderr


def test_placeholders_other_than_the_crl_version_are_refused(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Url Root", "--ca-dir", "root",
             "--unencrypted-key", check=True)
    meta = (tmp_path / "root/ca.meta.json").read_bytes()
    for option, value, message in (
            ("--ocsp-url", "http://pki.example/{version}/ocsp",
             "{version} may be named only in the CRL URL"),
            ("--crl-url", "http://pki.example/{serial}.crl", "the only placeholder is {version}")):
        refused = qpki_cli("ca", "set-urls", "--ca-dir", "root", option, value)
        assert refused.returncode == 1 and message in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert (tmp_path / "root/ca.meta.json").read_bytes() == meta
    assert json.loads(meta).get("urls") is None
