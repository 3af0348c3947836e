"""A profile's validity is the whole period, both ends included (issue 13 item 4).

RFC 5280 §4.1.2.5 counts notBefore..notAfter inclusively, so a ``365d``
profile must give notAfter = notBefore + 365 days - 1 second. Read back with
``openssl x509 -dates`` and with cryptography, for a root CA, a subordinate
CA, a leaf and a credential.
"""

import datetime
import subprocess
from pathlib import Path

from cryptography import x509

ONE_SECOND = datetime.timedelta(seconds=1)


def openssl_dates(path: Path) -> tuple[datetime.datetime, datetime.datetime]:
    shown = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-dates"],
                           capture_output=True, text=True, check=True).stdout
    fields = dict(line.split("=", 1) for line in shown.splitlines())

    def parse(text: str) -> datetime.datetime:
        return datetime.datetime.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y GMT")

    return parse(fields["notBefore"]), parse(fields["notAfter"])


def assert_period(path: Path, days: int) -> None:
    expected = datetime.timedelta(days=days) - ONE_SECOND
    not_before, not_after = openssl_dates(path)
    assert not_after - not_before == expected, (path, not_before, not_after)
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == expected


def test_every_certificate_lasts_exactly_its_profile_validity(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Root", "--ca-dir", "root",
             check=True)
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Issuing",
             "--ca-dir", "issuing", "--parent", "root", check=True)
    made = subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                           "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key",
                           "-subj", "/CN=www.example.com", "-out", "leaf.csr"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    qpki_cli("cert", "issue", "--ca-dir", "issuing", "--profile", "ec/tls-server",
             "--csr", "leaf.csr", "--out", "leaf.crt", check=True)
    enrolled = qpki_cli("credential", "enroll", "--ca-dir", "issuing", "--cred-dir", "creds",
                        "--profile", "ec/timestamping", "--var", "cn=TSA", "--json",
                        check=True).json()
    tsa = next(Path(p) for p in enrolled["paths"] if p.endswith(".crt") and "chain" not in p)

    assert_period(tmp_path / "root" / "ca.crt", 7300)
    assert_period(tmp_path / "issuing" / "ca.crt", 3650)
    assert_period(tmp_path / "leaf.crt", 365)
    assert_period(tsa if tsa.is_absolute() else tmp_path / tsa, 1095)


def test_a_certificate_longer_than_its_ca_ends_with_the_ca(tmp_path, qpki_cli):
    (tmp_path / "short.yaml").write_text(
        "name: t/short-ca\nalgorithm: ecdsa-p256\nvalidity: 2d\n"
        "variables:\n  cn: {required: true}\nsubject: {cn: '{{ cn }}'}\n"
        "extensions:\n  basicConstraints: {ca: true, path_len: 0}\n"
        "  keyUsage: [keyCertSign, cRLSign]\n")
    qpki_cli("ca", "init", "--profile", "short.yaml", "--var", "cn=Short", "--ca-dir", "short",
             check=True)
    enrolled = qpki_cli("credential", "enroll", "--ca-dir", "short", "--cred-dir", "creds",
                        "--profile", "ec/signing", "--var", "cn=Signer", "--json",
                        check=True).json()
    leaf = next(Path(p) for p in enrolled["paths"] if p.endswith(".crt") and "chain" not in p)
    leaf = leaf if leaf.is_absolute() else tmp_path / leaf
    assert_period(tmp_path / "short" / "ca.crt", 2)
    assert openssl_dates(leaf)[1] == openssl_dates(tmp_path / "short" / "ca.crt")[1]
