"""`qpki crl gen --out FILE --format pem|der` (issue 18, item 18): the CRL is
also written where the user says, in the format asked, read back by openssl;
the CA's own crl/ca.crl and crl/ca.crl.der are still written (the OCSP
responder and `ca check` read them); a path that is one of the CA's own files
in the other format, a directory, or --out with --delta is refused and
changes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography import x509


def openssl_crl(path: Path, form: str, ca_cert: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", "crl", "-inform", form, "-in", str(path), "-CAfile",
                           str(ca_cert), "-noout", "-text"], capture_output=True, text=True,
                          check=False)


def test_out_in_der_and_pem(qpki_cli, tmp_path):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Out", "--ca-dir", "ca",
             "--unencrypted-key", check=True)
    cred = qpki_cli("credential", "enroll", "--ca-dir", "ca", "--cred-dir", "creds",
                    "--profile", "ec/tls-client", "--var", "cn=c1", "--json", check=True).json()
    qpki_cli("cert", "revoke", cred["serial"], "--ca-dir", "ca", check=True)

    der = qpki_cli("crl", "gen", "--ca-dir", "ca", "--out", "pub/ca.der", "--format", "der",
                   "--json", check=True).json()
    assert der["path"] == "pub/ca.der" and der["format"] == "der"
    read = openssl_crl(tmp_path / "pub" / "ca.der", "DER", tmp_path / "ca" / "ca.crt")
    assert read.returncode == 0 and "verify OK" in read.stderr
    assert f"Serial Number: {cred['serial']}" in read.stdout
    assert (tmp_path / "pub" / "ca.der").read_bytes() == (tmp_path / "ca/crl/ca.crl.der").read_bytes()

    pem = qpki_cli("crl", "gen", "--ca-dir", "ca", "--out", "pub/ca.pem", "--json",
                   check=True).json()
    assert pem["format"] == "pem" and pem["crl_number"] == der["crl_number"] + 1
    text = (tmp_path / "pub" / "ca.pem").read_bytes()
    assert text.startswith(b"-----BEGIN X509 CRL-----")
    assert text == (tmp_path / "ca/crl/ca.crl").read_bytes()
    assert openssl_crl(tmp_path / "pub" / "ca.pem", "PEM", tmp_path / "ca" / "ca.crt").returncode == 0
    assert x509.load_pem_x509_crl(text).get_revoked_certificate_by_serial_number(
        int(cred["serial"], 16)) is not None


def test_refusals_change_nothing(qpki_cli, tmp_path):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Out", "--ca-dir", "ca",
             "--unencrypted-key", check=True)
    qpki_cli("crl", "gen", "--ca-dir", "ca", check=True)
    (tmp_path / "adir").mkdir()
    before = {p: p.read_bytes() for p in (tmp_path / "ca").rglob("*") if p.is_file()}
    cases = [
        (["--out", "ca/crl/ca.crl", "--format", "der"],
         "is the CA's own PEM CRL; a DER CRL cannot be written there"),
        (["--out", "ca/crl/ca.crl.der"], "is the CA's own DER CRL; a PEM CRL cannot be written there"),
        (["--out", "adir"], "the CRL path adir is a directory, not a file"),
        (["--delta", "--out", "x.crl"], "--delta goes with neither --version, --drop-expired nor --out"),
    ]
    for args, message in cases:
        result = qpki_cli("crl", "gen", "--ca-dir", "ca", *args)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    after = {p: p.read_bytes() for p in (tmp_path / "ca").rglob("*") if p.is_file()}
    assert after == before
    assert not (tmp_path / "x.crl").exists()
