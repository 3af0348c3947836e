"""Bad input to the CLI: one-line error, non-zero exit, CA directory untouched."""

import subprocess

import pytest


@pytest.fixture
def ca(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Issuing", "--ca-dir", "ca",
             check=True)
    return tmp_path / "ca"


def good_csr(work, name="good"):
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
                    "-subj", "/CN=host.example.com", "-out", f"{name}.csr"],
                   cwd=work, check=True, capture_output=True)
    return work / f"{name}.csr"


def bad_signature_csr(work):
    """A CSR whose signature no longer matches its content (one byte of the
    subject changed after signing)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = bytearray(x509.load_pem_x509_csr(good_csr(work, "tampered").read_bytes())
                    .public_bytes(Encoding.DER))
    at = der.index(b"host.example.com")
    der[at] = ord("g")
    path = work / "tampered.der.csr"
    path.write_bytes(bytes(der))
    return path


CASES = {
    "garbage CSR": (lambda w: (w / "g.csr").write_bytes(b"\x00not a csr\xff") and None,
                    ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server",
                     "--csr", "g.csr"], "g.csr"),
    "truncated CSR": (lambda w: (w / "t.csr").write_text(
        good_csr(w).read_text()[:200]) and None,
        ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", "t.csr"],
        "t.csr"),
    "CSR with a bad signature": (bad_signature_csr,
                                 ["cert", "issue", "--ca-dir", "ca", "--profile",
                                  "ec/tls-server", "--csr", "tampered.der.csr"], "signature"),
    "unknown profile": (good_csr, ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/nope",
                                   "--csr", "good.csr"], "ec/nope"),
    "variable breaks its constraint": (good_csr, [
        "cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", "good.csr",
        "--var", "dns_names=bad_name!.example.com"], "dns_names"),
    "CSR key does not fit the profile": (good_csr, [
        "cert", "issue", "--ca-dir", "ca", "--profile", "rsa/tls-server", "--csr", "good.csr"],
        "rsa-2048"),
    "existing CA directory": (None, ["ca", "init", "--profile", "ec/root-ca", "--var", "cn=X",
                                     "--ca-dir", "ca"], "already exists"),
    "revoke an unknown serial": (None, ["cert", "revoke", "0ABC", "--ca-dir", "ca"], "0ABC"),
    "revoke a non-hex serial": (None, ["cert", "revoke", "xyz", "--ca-dir", "ca"], "xyz"),
    "missing required variable": (None, ["credential", "enroll", "--ca-dir", "ca",
                                         "--cred-dir", "creds", "--profile", "ec/email",
                                         "--var", "cn=someone"], "email"),
    "subordinate of a CA with pathLen 0": (None, [
        "ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Sub", "--ca-dir", "sub",
        "--parent", "ca"], "pathLen"),
    "var without '='": (good_csr, ["cert", "issue", "--ca-dir", "ca", "--profile",
                                   "ec/tls-server", "--csr", "good.csr", "--var", "cn"], "cn"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_and_changes_nothing(name, ca, tmp_path, qpki_cli, tree_snapshot,
                                                   diff_snapshots):
    prepare, argv, mentioned = CASES[name]
    if prepare:
        prepare(tmp_path)
    before = tree_snapshot(ca)
    result = qpki_cli(*argv)
    assert result.returncode not in (0, None), result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result
    assert "Traceback" not in result.output and "internal error" not in result.output, result
    assert mentioned in lines[0], result
    assert diff_snapshots(before, tree_snapshot(ca)) == []
    assert not (tmp_path / "sub").exists()
    assert not (tmp_path / "creds").exists()


def test_usage_errors_exit_2(qpki_cli):
    assert qpki_cli("cert", "issue").returncode == 2
    assert qpki_cli("nonsense").returncode == 2
    assert qpki_cli("key", "gen", "--algorithm", "ecdsa-p256").returncode == 2
