"""Batch issuance through the CLI: ``qpki cert issue --csr-dir DIR --out-dir OUT``
and repeated ``--csr``.

What is checked, with tools that share no code with qpki where it matters:
every certificate verifies (openssl for ECDSA chains, cryptography and
dilithium-py for ML-DSA), carries the subject and SANs of its own CSR, is in
the index once with a distinct serial; one bad CSR stops the batch before
anything is signed (the CA directory stays byte-identical); an HSM-backed
batch logs in to the token exactly once (counted by OpenSC's pkcs11-spy).
"""

import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from batch_support import (ML_DSA_65_OID, csr_pem, ec_csr_dir, index_lines, load, openssl,
                           openssl_csr, raw_public_key, sans, spied_hsm_issuing, two_tier)
from dilithium_py.ml_dsa import ML_DSA_65


def test_batch_of_20_mixed_ecdsa_and_ml_dsa(tmp_path, qpki_cli):
    two_tier(qpki_cli, "ec")
    two_tier(qpki_cli, "ml")
    ec_dir = tmp_path / "ec-csrs"
    ec_dir.mkdir()
    expected = {}
    for number in range(7):  # openssl's own CSRs, with two SANs each
        cn = "osl%d.example.com" % number
        openssl_csr(tmp_path, ec_dir / ("osl%d.csr" % number), cn)
        expected["osl%d" % number] = (cn, sorted([cn, "alt-" + cn]))
    for number in range(7):
        cn = "py%d.example.com" % number
        (ec_dir / ("py%d.pem" % number)).write_bytes(
            csr_pem(ec.generate_private_key(ec.SECP256R1()), cn, [cn]))
        expected["py%d" % number] = (cn, [cn])
    (ec_dir / "README.txt").write_text("not a CSR: skipped by --csr-dir")

    result = qpki_cli("cert", "issue", "--ca-dir", "ec-issuing", "--profile", "ec/tls-server",
                      "--csr-dir", "ec-csrs", "--out-dir", "ec-out", "--json")
    assert result.returncode == 0, result
    ec_result = result.json()
    assert ec_result["count"] == 14 and len(ec_result["certificates"]) == 14

    ml_args = []
    for number in range(6):
        cn = "pq%d.example.com" % number
        (tmp_path / ("pq%d.csr" % number)).write_bytes(
            csr_pem(mldsa.MLDSA65PrivateKey.generate(), cn, [cn], algorithm=None))
        expected["pq%d" % number] = (cn, [cn])
        ml_args += ["--csr", "pq%d.csr" % number]
    result = qpki_cli("cert", "issue", "--ca-dir", "ml-issuing", "--profile", "ml/tls-server",
                      *ml_args, "--out-dir", "ml-out", "--json")
    assert result.returncode == 0, result
    ml_result = result.json()
    assert ml_result["count"] == 6

    # --json lists every path written, and they all exist.
    for batch in (ec_result, ml_result):
        for path in batch["paths"]:
            assert (tmp_path / path).is_file(), path
        for entry in batch["certificates"]:
            assert set(entry["paths"]) <= set(batch["paths"])
    assert {p.name for p in (tmp_path / "ec-out").iterdir()} == {
        "%s.crt" % stem for stem in expected if not stem.startswith("pq")}

    # openssl verifies every ECDSA certificate against the chain.
    ec_files = sorted(str(p) for p in (tmp_path / "ec-out").iterdir())
    proc = openssl("verify", "-CAfile", "ec-root/ca.crt", "-untrusted", "ec-issuing/ca.crt",
                   "-purpose", "sslserver", *ec_files, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.count(": OK") == 14, proc.stdout + proc.stderr

    # ML-DSA: cryptography and dilithium-py (independent implementation).
    ml_issuer = load(tmp_path / "ml-issuing/ca.crt")
    issuer_key = raw_public_key(ml_issuer)
    for path in sorted((tmp_path / "ml-out").iterdir()):
        cert = load(path)
        assert cert.signature_algorithm_oid.dotted_string == ML_DSA_65_OID
        cert.verify_directly_issued_by(ml_issuer)
        assert ML_DSA_65.verify(issuer_key, cert.tbs_certificate_bytes, cert.signature)

    # Subject and SANs come from each CSR; the copies equal the CA's files.
    serials = set()
    for out_dir, dummy_batch in (("ec-out", ec_result), ("ml-out", ml_result)):
        for path in (tmp_path / out_dir).iterdir():
            cert = load(path)
            cn, names = expected[path.stem]
            assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == cn
            assert sans(cert) == names
            ca_dir = "ec-issuing" if out_dir == "ec-out" else "ml-issuing"
            ca_copy = tmp_path / ca_dir / "certs" / ("%040X.crt" % cert.serial_number)
            assert ca_copy.read_bytes() == path.read_bytes()
            serials.add(cert.serial_number)
    assert len(serials) == 20

    ec_lines, ml_lines = index_lines(tmp_path / "ec-issuing"), index_lines(tmp_path / "ml-issuing")
    assert len(ec_lines) + len(ml_lines) == 20
    indexed = {int(line.split("\t")[3], 16) for line in ec_lines + ml_lines}
    assert indexed == serials
    assert all(line.startswith("V\t") for line in ec_lines + ml_lines)

    # The CA stays consistent: audit chain and ca check agree.
    for ca_dir in ("ec-issuing", "ml-issuing"):
        audit = qpki_cli("audit", "verify", "--ca-dir", ca_dir, "--json")
        assert audit.returncode == 0 and audit.json()["valid"], audit
        check = qpki_cli("ca", "check", "--ca-dir", ca_dir, "--json")
        assert check.returncode == 0, check


@pytest.mark.parametrize("bad", ["garbage", "tampered", "wrong key type"])
def test_one_bad_csr_fails_the_batch_and_changes_nothing(tmp_path, qpki_cli, tree_snapshot,
                                                         diff_snapshots, bad):
    two_tier(qpki_cli, "ec")
    csrs = ec_csr_dir(tmp_path / "csrs", "ok", 5)
    if bad == "garbage":
        (csrs / "m-bad.csr").write_bytes(b"-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n")
    elif bad == "tampered":  # a valid CSR whose signature no longer matches
        der = bytearray(x509.load_pem_x509_csr(csr_pem(
            ec.generate_private_key(ec.SECP256R1()), "x.example.com")).public_bytes(Encoding.DER))
        der[-3] ^= 0x01
        (csrs / "m-bad.csr").write_bytes(bytes(der))
    else:
        (csrs / "m-bad.csr").write_bytes(
            csr_pem(rsa.generate_private_key(65537, 2048), "rsa.example.com"))
    before = tree_snapshot(tmp_path / "ec-issuing", exclude=[".lock"])
    result = qpki_cli("cert", "issue", "--ca-dir", "ec-issuing", "--profile", "ec/tls-server",
                      "--csr-dir", "csrs", "--out-dir", "out")
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "m-bad.csr" in lines[0], result.stderr
    after = tree_snapshot(tmp_path / "ec-issuing", exclude=[".lock"])
    assert before == after, diff_snapshots(before, after)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_usage_errors_and_single_form_unchanged(tmp_path, qpki_cli):
    two_tier(qpki_cli, "ec")
    for name in ("a", "b"):
        (tmp_path / ("%s.csr" % name)).write_bytes(
            csr_pem(ec.generate_private_key(ec.SECP256R1()), "%s.example.com" % name))
    both = qpki_cli("cert", "issue", "--ca-dir", "ec-issuing", "--profile", "ec/tls-client",
                    "--csr", "a.csr", "--csr", "b.csr", "--out", "x.crt")
    assert both.returncode == 2 and "--out-dir" in both.stderr
    nothing = qpki_cli("cert", "issue", "--ca-dir", "ec-issuing", "--profile", "ec/tls-client")
    assert nothing.returncode == 2 and "--csr" in nothing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    none = qpki_cli("cert", "issue", "--ca-dir", "ec-issuing", "--profile", "ec/tls-client",
                    "--csr-dir", "empty")
    assert none.returncode == 1 and "empty" in none.stderr
    clash = tmp_path / "clash"
    clash.mkdir()
    for name in ("same.csr", "same.pem"):
        (clash / name).write_bytes((tmp_path / "a.csr").read_bytes())
    clashing = qpki_cli("cert", "issue", "--ca-dir", "ec-issuing", "--profile", "ec/tls-client",
                        "--csr-dir", "clash", "--out-dir", "out")
    assert clashing.returncode == 1 and "same.crt" in clashing.stderr

    single = qpki_cli("cert", "issue", "--ca-dir", "ec-issuing", "--profile", "ec/tls-client",
                      "--csr", "a.csr", "--out", "a.crt", "--json")
    assert single.returncode == 0, single
    data = single.json()
    assert set(data) == {"changed", "serial", "subject", "not_after", "fingerprint_sha256",
                         "paths"}
    assert data["paths"][1] == "a.crt" and (tmp_path / "a.crt").is_file()
    # Without --out-dir a batch still records every certificate in the CA.
    batch = qpki_cli("cert", "issue", "--ca-dir", "ec-issuing", "--profile", "ec/tls-client",
                     "--csr", "a.csr", "--csr", "b.csr", "--json")
    assert batch.returncode == 0, batch
    assert len(index_lines(tmp_path / "ec-issuing")) == 3


def test_hsm_batch_logs_in_once(softhsm_token, qpki_cli, tmp_path, pkcs11_spy):
    spied_hsm_issuing(softhsm_token, qpki_cli, tmp_path, pkcs11_spy)
    ec_csr_dir(tmp_path / "csrs", "h", 6)
    log = tmp_path / "spy.log"
    result = qpki_cli("cert", "issue", "--ca-dir", "issuing", "--profile", "ec/tls-server",
                      "--csr-dir", "csrs", "--out-dir", "out", "--json",
                      env={"PKCS11SPY": softhsm_token.lib, "PKCS11SPY_OUTPUT": str(log)})
    assert result.returncode == 0, result
    calls = re.findall(r"^\d+: (C_\w+)", log.read_text(), re.M)
    assert calls.count("C_Login") == 1, calls
    assert calls.count("C_OpenSession") == 1, calls
    assert calls.count("C_SignInit") == 6, calls  # C_Sign is called twice: size, then data
    assert "C_Logout" in calls and calls.index("C_Logout") > max(
        i for i, c in enumerate(calls) if c == "C_Sign")
    files = sorted(str(p) for p in (tmp_path / "out").iterdir())
    assert len(files) == 6
    proc = openssl("verify", "-CAfile", "root/ca.crt", "-untrusted", "issuing/ca.crt", *files,
                   cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.count(": OK") == 6, proc.stdout + proc.stderr
