"""Batch issuance in worker processes: ``qpki cert issue --jobs N``.

A batch signed by forked workers must leave the CA exactly as a
single-process batch would (apart from the random serials and the time):
same certificates for the same CSRs, index lines and serial file in input
order, a valid audit chain; a bad CSR anywhere, a failing or killed worker,
leave the CA byte-identical and write no output. An HSM key is only ever
used by the parent process (the one PKCS#11 session), as pkcs11-spy shows.
"""

import hashlib
import json
import re
import subprocess
import sys
import textwrap

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from batch_support import (ML_DSA_65_OID, csr_pem, ec_csr_dir, index_lines, load, openssl,
                           raw_public_key, sans, spied_hsm_issuing, two_tier)


def _csr_dir(folder, family, count):
    if family == "ec":
        return ec_csr_dir(folder, "w", count)
    folder.mkdir()
    for number in range(count):
        cn = "w%d.example.com" % number
        (folder / ("w%d.csr" % number)).write_bytes(
            csr_pem(mldsa.MLDSA65PrivateKey.generate(), cn, [cn], algorithm=None))
    return folder


def _issue(qpki_cli, family, out, jobs, ca=None):
    return qpki_cli("cert", "issue", "--ca-dir", ca or f"{family}-issuing", "--profile",
                    f"{family}/tls-server", "--csr-dir", "csrs", "--out-dir", out, "--json",
                    "--jobs", str(jobs))


def _comparable(cert):
    """What must not depend on the number of processes (not the serial, the
    validity window or the signature)."""
    return (cert.subject, cert.issuer,
            cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
            [(e.oid, e.critical, e.value) for e in cert.extensions])


@pytest.mark.parametrize("family", ["ec", "ml"])
def test_workers_issue_what_one_process_issues(tmp_path, qpki_cli, family):
    two_tier(qpki_cli, family)
    subprocess.run(["cp", "-a", f"{family}-issuing", "single-issuing"], cwd=tmp_path, check=True)
    _csr_dir(tmp_path / "csrs", family, 11)

    result = _issue(qpki_cli, family, "out", 3)
    assert result.returncode == 0, result
    data = result.json()
    assert data["workers"] == 3 and data["count"] == 11
    single = _issue(qpki_cli, family, "single-out", 1, ca="single-issuing")
    assert single.returncode == 0 and single.json()["workers"] == 1, single

    issuer = load(tmp_path / f"{family}-issuing/ca.crt")
    files = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in files] == ["w%d.crt" % n for n in sorted(range(11), key=str)]
    for path in files:
        cert = load(path)
        cn = path.stem + ".example.com"
        assert cert.subject.rfc4514_string() == "CN=" + cn and sans(cert) == [cn]
        assert _comparable(cert) == _comparable(load(tmp_path / "single-out" / path.name))
        ca_copy = tmp_path / f"{family}-issuing/certs/{cert.serial_number:040X}.crt"
        assert ca_copy.read_bytes() == path.read_bytes()
        if family == "ml":
            from dilithium_py.ml_dsa import ML_DSA_65

            assert cert.signature_algorithm_oid.dotted_string == ML_DSA_65_OID
            assert ML_DSA_65.verify(raw_public_key(issuer), cert.tbs_certificate_bytes,
                                    cert.signature)
    if family == "ec":
        proc = openssl("verify", "-CAfile", "ec-root/ca.crt", "-untrusted", "ec-issuing/ca.crt",
                       "-purpose", "sslserver", *map(str, files), cwd=tmp_path)
        assert proc.returncode == 0 and proc.stdout.count(": OK") == 11, proc.stdout + proc.stderr

    # Index and serial file in input order, as the result lists them.
    serials = [entry["serial"] for entry in data["certificates"]]
    assert [entry["csr"] for entry in data["certificates"]] == [
        "csrs/" + p.stem + ".csr" for p in files]
    indexed = [line.split("\t")[3] for line in index_lines(tmp_path / f"{family}-issuing")]
    assert [int(s, 16) for s in indexed] == [int(s, 16) for s in serials]
    assert len(set(serials)) == 11
    serial_file = (tmp_path / f"{family}-issuing/serial").read_text().strip()
    assert int(serial_file, 16) == int(serials[-1], 16)
    for ca_dir in (f"{family}-issuing", "single-issuing"):
        audit = qpki_cli("audit", "verify", "--ca-dir", ca_dir, "--json")
        assert audit.returncode == 0 and audit.json()["valid"], audit
        check = qpki_cli("ca", "check", "--ca-dir", ca_dir, "--json")
        assert check.returncode == 0, check


@pytest.mark.parametrize("bad_positions,named", [((7, 9), "w7"), ((2, 8), "w2")])
def test_first_bad_csr_in_input_order_stops_every_worker(tmp_path, qpki_cli, tree_snapshot,
                                                         diff_snapshots, bad_positions, named):
    two_tier(qpki_cli, "ec")
    csrs = tmp_path / "csrs"
    csrs.mkdir()
    for number in range(10):
        cn = "w%d.example.com" % number
        data = csr_pem(ec.generate_private_key(ec.SECP256R1()), cn, [cn])
        if number in bad_positions:  # signature no longer matches
            der = bytearray(x509.load_pem_x509_csr(data).public_bytes(Encoding.DER))
            der[-3] ^= 0x01
            data = bytes(der)
        (csrs / ("w%d.csr" % number)).write_bytes(data)
    before = tree_snapshot(tmp_path / "ec-issuing", exclude=[".lock"])
    result = _issue(qpki_cli, "ec", "out", 2)
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "%s.csr" % named in lines[0], result.stderr
    after = tree_snapshot(tmp_path / "ec-issuing", exclude=[".lock"])
    assert before == after, diff_snapshots(before, after)
    assert not (tmp_path / "out").exists()


FAULT = textwrap.dedent("""
    import os, signal, sys
    from qpki.errors import QpkiError
    from qpki.ops.cert import batch
    from qpki.ops.cert import batch_parallel
    from qpki.ops.cert import batch_sign

    real_prepare, real_sign = batch_parallel.prepare, batch_sign.Signing.sign

    def prepare(profile, data, where, *rest):
        if where.endswith("w5.csr") and sys.argv[3] != "sign":
            if sys.argv[3] == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("fault injected in a worker")
        return real_prepare(profile, data, where, *rest)

    def sign(self, item, serial):  # after w4's files are written, before w5's
        if item.where.endswith("w5.csr"):
            raise RuntimeError("fault injected while signing")
        return real_sign(self, item, serial)

    batch_parallel.prepare, batch_sign.Signing.sign = prepare, sign
    try:
        batch.cert_issue_batch(sys.argv[1], "ec/tls-server", sorted(
            os.path.join(sys.argv[2], n) for n in os.listdir(sys.argv[2])),
            out_dir=sys.argv[1] + "-out", jobs=2)
    except QpkiError as exc:
        print(exc)
        sys.exit(1)
""")


@pytest.mark.parametrize("fault", ["raise", "kill", "sign"])
def test_failing_worker_changes_nothing(tmp_path, qpki_cli, tree_snapshot, diff_snapshots, fault):
    """A worker that raises an unexpected error (checking or signing) or
    dies: one-line error, CA unchanged, no output, not even a temporary file
    of the worker that had finished (faults injected: they cannot be
    provoked from outside)."""
    two_tier(qpki_cli, "ec")
    ec_csr_dir(tmp_path / "csrs", "w", 8)
    before = tree_snapshot(tmp_path / "ec-issuing", exclude=[".lock"])
    proc = subprocess.run([sys.executable, "-c", FAULT, str(tmp_path / "ec-issuing"),
                           str(tmp_path / "csrs"), fault], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 1, proc
    expected = ("batch worker for the CSRs from position 5 stopped unexpectedly"
                if fault == "kill" else "internal error in a batch worker (RuntimeError)")
    assert proc.stdout.strip() == expected and proc.stderr == "", proc
    after = tree_snapshot(tmp_path / "ec-issuing", exclude=[".lock"])
    assert before == after, diff_snapshots(before, after)
    out = tmp_path / "ec-issuing-out"
    if fault == "sign":  # created once every CSR was valid, as a single process does
        assert list(out.iterdir()) == []
    else:
        assert not out.exists()


def test_hsm_key_signs_only_in_the_parent(softhsm_token, qpki_cli, tmp_path, pkcs11_spy):
    spied_hsm_issuing(softhsm_token, qpki_cli, tmp_path, pkcs11_spy)
    ec_csr_dir(tmp_path / "csrs", "h", 9)
    log = tmp_path / "spy.log"
    result = qpki_cli("cert", "issue", "--ca-dir", "issuing", "--profile", "ec/tls-server",
                      "--csr-dir", "csrs", "--out-dir", "out", "--json", "--jobs", "2",
                      env={"PKCS11SPY": softhsm_token.lib, "PKCS11SPY_OUTPUT": str(log)})
    assert result.returncode == 0 and result.json()["workers"] == 2, result
    text = log.read_text()
    calls = re.findall(r"^\d+: (C_\w+)", text, re.M)
    assert calls.count("C_Login") == 1 and calls.count("C_OpenSession") == 1, calls
    assert calls.count("C_SignInit") == 9, calls
    # One process made every call: the spy numbers calls with a per-process
    # counter, which a forked worker would continue from the parent's value.
    numbers = [int(n) for n in re.findall(r"^(\d+): C_", text, re.M)]
    assert numbers == list(range(len(numbers))), numbers
    files = sorted(str(p) for p in (tmp_path / "out").iterdir())
    proc = openssl("verify", "-CAfile", "root/ca.crt", "-untrusted", "issuing/ca.crt", *files,
                   cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.count(": OK") == 9, proc.stdout + proc.stderr
    assert_fingerprints_describe_the_files(tmp_path, result)


def assert_fingerprints_describe_the_files(tmp_path, result):
    """What the parent derived after putting each token signature in place
    describes the signed certificate: the result's and the audit log's
    fingerprints, and the CA's copy holds the bytes of the output copy."""
    fingerprints = {}
    for path in (tmp_path / "out").iterdir():
        cert = load(path)
        der = cert.public_bytes(Encoding.DER)
        fingerprints[cert.serial_number] = hashlib.sha256(der).hexdigest().upper()
        assert (tmp_path / "issuing/certs" / ("%040X.crt" % cert.serial_number)).read_bytes() \
            == path.read_bytes()
    reported = {int(entry["serial"], 16): entry["fingerprint_sha256"]
                for entry in result.json()["certificates"]}
    records = [json.loads(line) for line in (tmp_path / "issuing/audit.log").read_text()
               .splitlines()]
    audited = {int(r["serial"], 16): r["fingerprint"] for r in records if r["op"] == "cert.issue"}
    assert reported == fingerprints and audited == fingerprints, (reported, audited)


def test_jobs_must_be_a_positive_number(tmp_path, qpki_cli):
    two_tier(qpki_cli, "ec")
    ec_csr_dir(tmp_path / "csrs", "w", 2)
    for value in ("0", "-1", "two"):
        result = qpki_cli("cert", "issue", "--ca-dir", "ec-issuing", "--profile",
                          "ec/tls-server", "--csr-dir", "csrs", "--jobs", value)
        assert result.returncode == 2 and "--jobs" in result.stderr, result
    assert index_lines(tmp_path / "ec-issuing") == []


def test_hsm_rsa_key_signs_pss_for_the_workers(softhsm_token, qpki_cli, tmp_path):
    """The deferred signatures keep the profile's scheme: an RSA token key
    issuing rsa-pss/tls-server certificates signs RSASSA-PSS."""
    softhsm_token.keygen("RSA:4096", label="rsa-issuing", key_id="05")
    qpki_cli("ca", "init", "--profile", "rsa/root-ca", "--var", "cn=RSA Root", "--ca-dir",
             "root", check=True)
    qpki_cli("ca", "init", "--hsm-config", softhsm_token.write_config(), "--key-label",
             "rsa-issuing", "--profile", "rsa/issuing-ca", "--var", "cn=RSA HSM Issuing",
             "--ca-dir", "issuing", "--parent", "root", check=True)
    csrs = tmp_path / "csrs"
    csrs.mkdir()
    for number in range(3):
        cn = "pss%d.example.com" % number
        (csrs / ("pss%d.csr" % number)).write_bytes(
            csr_pem(rsa.generate_private_key(65537, 4096), cn, [cn]))
    result = qpki_cli("cert", "issue", "--ca-dir", "issuing", "--profile", "rsa-pss/tls-server",
                      "--csr-dir", "csrs", "--out-dir", "out", "--json", "--jobs", "2")
    assert result.returncode == 0 and result.json()["workers"] == 2, result
    files = sorted(str(p) for p in (tmp_path / "out").iterdir())
    for path in files:
        text = openssl("x509", "-in", path, "-noout", "-text", cwd=tmp_path).stdout
        assert "Signature Algorithm: rsassaPss" in text, text
    proc = openssl("verify", "-CAfile", "root/ca.crt", "-untrusted", "issuing/ca.crt", *files,
                   cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.count(": OK") == 3, proc.stdout + proc.stderr
    assert_fingerprints_describe_the_files(tmp_path, result)


def test_catalyst_ca_signs_both_signatures_in_the_workers(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "hybrid/catalyst/root-ca", "--var", "cn=Catalyst Root",
             "--ca-dir", "root", check=True)
    qpki_cli("ca", "init", "--profile", "hybrid/catalyst/issuing-ca", "--var",
             "cn=Catalyst Issuing", "--ca-dir", "issuing", "--parent", "root", check=True)
    (tmp_path / "csrs").mkdir()
    for number in range(4):
        qpki_cli("csr", "gen", "--out", "csrs/c%d.csr" % number, "--cn",
                 "c%d.example.com" % number, "--algorithm", "ecdsa-p256", "--key-out",
                 "c%d.key" % number, "--alt-algorithm", "ml-dsa-65", "--alt-key-out",
                 "c%d.alt.key" % number, check=True)
    result = qpki_cli("cert", "issue", "--ca-dir", "issuing", "--profile",
                      "hybrid/catalyst/tls-server", "--csr-dir", "csrs", "--out-dir", "out",
                      "--json", "--jobs", "2")
    assert result.returncode == 0 and result.json()["workers"] == 2, result
    files = sorted(str(p) for p in (tmp_path / "out").iterdir())
    proc = openssl("verify", "-CAfile", "root/ca.crt", "-untrusted", "issuing/ca.crt", *files,
                   cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.count(": OK") == 4, proc.stdout + proc.stderr
    for path in files:  # the alternative (ML-DSA-65) signature too
        verified = qpki_cli("cert", "verify", path, "--ca", "root/ca.crt", "--untrusted",
                            "issuing/ca.crt", "--json")
        assert verified.returncode == 0 and verified.json()["valid"], verified
