"""The fast paths of batch issuance (ops/cert/batch.py) keep every guarantee of
the single path:

- a batch certificate equals the one ``cert issue`` makes from the same CSR
  (same subject, issuer, extensions with their order, criticality and bytes,
  key, validity length, signature algorithm): static extensions rendered once
  per profile, the AKI built once per batch and the signed certificate taken
  as cryptography returns it change nothing;
- static profile extensions are reused, templated ones are not;
- a batch of many CSRs gives the same certificates as issuing them one by
  one, the first bad CSR stops it with its own error, naming that CSR,
  whatever its problem (signature, profile, unparseable), and nothing is
  written when one is bad;
- the batch's audit records (one append, chain computed in memory, one time
  for the batch) verify with ``audit verify`` and carry each certificate's
  own fingerprint; the results reuse the same fields;
- a batch killed with SIGKILL leaves a CA directory that ``ca check``
  either finds valid or reports and ``ca check --repair`` fixes: at worst
  certificate files without index lines, never an index line without its
  file. Half of the kills land just before a chosen durable step (the
  child kills itself there, crash_phases.py), spread over the batch.
"""

import datetime
import hashlib
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from qpki.errors import InputError
from qpki.ops.cert import batch
from qpki.ops.audit.trail import audit_verify
from qpki.ops.ca.commands import ca_init
from qpki.ops.cert.commands import cert_issue
from qpki.ops.ca.check import ca_check
from qpki.profiles.profile import Profile
from qpki.store.index import read_index

import crash_phases
import hybrid_reference as ref
from batch_support import csr, make_issuing


def bad_signature(pem):
    """The same CSR with one bit of its signature flipped."""
    der = bytearray(x509.load_pem_x509_csr(pem).public_bytes(Encoding.DER))
    der[-3] ^= 0x01
    return bytes(der)


@pytest.fixture(scope="module")
def csrs():
    return [csr("h%03d.example.com" % n, ["h%03d.example.com" % n, "alt%03d.example.com" % n])
            for n in range(40)]


@pytest.fixture
def issuing(tmp_path):
    return make_issuing(tmp_path)


def comparable(cert):
    """Everything but serial, validity start and signature value."""
    return {
        "subject": cert.subject.public_bytes(),
        "issuer": cert.issuer.public_bytes(),
        "extensions": [(e.oid.dotted_string, e.critical, e.value.public_bytes())
                       for e in cert.extensions],
        "key": cert.public_key().public_bytes(Encoding.DER, _SPKI),
        "lifetime": cert.not_valid_after_utc - cert.not_valid_before_utc,
        "signature_algorithm": cert.signature_algorithm_oid.dotted_string,
        "version": cert.version,
    }


from cryptography.hazmat.primitives.serialization import PublicFormat  # noqa: E402

_SPKI = PublicFormat.SubjectPublicKeyInfo


def openssl_verify(tmp_path, *certs):
    """``openssl verify`` of each of ``certs`` under tmp_path/root and
    tmp_path/issuing (make_issuing): one line "<file>: OK" each."""
    done = subprocess.run(["openssl", "verify", "-x509_strict", "-CAfile", "root/ca.crt",
                           "-untrusted", "issuing/ca.crt", *map(str, certs)], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["%s: OK" % c for c in certs]


def test_batch_certificate_equals_the_single_path_one(issuing, tmp_path):
    request = csr("same.example.com", ["same.example.com", "www.same.example.com"])
    single = cert_issue(str(issuing), "ec/tls-server", request, out=str(tmp_path / "one.crt"))
    result = batch.cert_issue_batch(str(issuing), "ec/tls-server", [("same.csr", request)],
                                    out_dir=str(tmp_path / "out"))
    one = x509.load_pem_x509_certificate((tmp_path / "one.crt").read_bytes())
    many = x509.load_pem_x509_certificate((tmp_path / "out" / "same.crt").read_bytes())
    assert comparable(one) == comparable(many)
    openssl_verify(tmp_path, "one.crt", "out/same.crt")
    assert one.serial_number != many.serial_number
    # The CA's copy and the output copy hold the same bytes.
    entry = result.certificates[0]
    ca_copy = issuing / "certs" / ("%040X.crt" % many.serial_number)
    assert ca_copy.read_bytes() == (tmp_path / "out" / "same.crt").read_bytes()
    # The result fields are those of a single issue.
    assert set(entry.to_dict()) == set(single.to_dict()) - {"changed"} | {"csr"}
    assert entry.fingerprint_sha256 == many.fingerprint(hashes.SHA256()).hex().upper()
    assert entry.subject == many.subject.rfc4514_string()
    assert entry.serial == "%X" % many.serial_number
    assert datetime.datetime.fromisoformat(entry.not_after) == many.not_valid_after_utc


# family -> (issuing CA profile, its root's profile, leaf profile, CSR key, catalyst alt key)
FAMILIES = {
    "ml-dsa": ("ml/issuing-ca", "ml/root-ca", "ml/tls-server", "ml-dsa-65", None),
    "slh-dsa": ("slh/issuing-ca", "slh/root-ca", "slh/tls-server", "slh-dsa-sha2-128f", None),
    "catalyst": ("hybrid/catalyst/issuing-ca", "hybrid/catalyst/root-ca",
                 "hybrid/catalyst/tls-server", "ecdsa-p256", "ml-dsa-65"),
    "composite": ("hybrid/composite/issuing-ca", "hybrid/composite/root-ca",
                  "hybrid/composite/tls-server", "composite-mldsa65-ecdsa-p256", None),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_pqc_and_hybrid_batches_verify_with_code_we_did_not_write(family, tmp_path):
    """A batch of each PQC and hybrid family, and a single issue beside it:
    every signature (the CA chain's, the leaves', the CRL's) checked by
    hybrid_reference (dilithium-py, slh-dsa, cryptography's ECDSA, the
    draft-13 composite construction rebuilt from cryptography primitives,
    the catalyst PreTBS rebuilt from the X.509 ASN.1), and by openssl for
    the classical half of a catalyst chain."""
    from qpki.ops.crl.commands import crl_gen
    from qpki.ops.keys.commands import csr_gen

    issuing_profile, root_profile, leaf_profile, algorithm, alt = FAMILIES[family]
    ca_init(str(tmp_path / "root"), root_profile, {"cn": f"{family} Root"})
    ca_init(str(tmp_path / "issuing"), issuing_profile, {"cn": f"{family} Issuing"},
            parent_dir=str(tmp_path / "root"))
    items = []
    for n in range(3):
        out = tmp_path / f"r{n}.csr"
        csr_gen(str(out), f"r{n}.example.com", algorithm=algorithm,
                key_out=str(tmp_path / f"r{n}.key"), dns_names=[f"r{n}.example.com"],
                alt_algorithm=alt, alt_key_out=str(tmp_path / f"r{n}.alt.key") if alt else None)
        items.append((out.name, out.read_bytes()))
    batch.cert_issue_batch(str(tmp_path / "issuing"), leaf_profile, items[:2],
                           out_dir=str(tmp_path / "out"))
    cert_issue(str(tmp_path / "issuing"), leaf_profile, items[2][1],
               out=str(tmp_path / "out" / "r2.crt"))
    crl = crl_gen(str(tmp_path / "issuing")).to_dict()

    def der(path):
        data = path.read_bytes()
        if b"X509 CRL" in data:
            return x509.load_pem_x509_crl(data).public_bytes(Encoding.DER)
        return x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)

    root, issuing = der(tmp_path / "root/ca.crt"), der(tmp_path / "issuing/ca.crt")
    leaves = [der(tmp_path / "out" / f"r{n}.crt") for n in range(3)]
    for signed, issuer in ((root, root), (issuing, root), *((leaf, issuing) for leaf in leaves)):
        assert ref.signature_ok(signed, issuer), family
        damaged = bytearray(signed)
        damaged[-4] ^= 0x01
        assert not ref.signature_ok(bytes(damaged), issuer), family
    assert ref.signature_ok(der(Path(crl["paths"][0])), issuing, crl=True)
    if family == "catalyst":
        for signed, issuer in ((root, root), (issuing, root), *((leaf, issuing) for leaf in leaves)):
            assert ref.catalyst_alt_ok(signed, issuer)
        assert ref.catalyst_crl_alt_ok(der(Path(crl["paths"][0])), issuing)
        openssl_verify(tmp_path, "out/r0.crt", "out/r1.crt", "out/r2.crt")


def test_catalyst_and_ml_dsa_batches_equal_the_single_path(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import mldsa

    ca_init(str(tmp_path / "ml-root"), "ml/root-ca", {"cn": "ML Root"})
    ca_init(str(tmp_path / "ml"), "ml/issuing-ca", {"cn": "ML Issuing"},
            parent_dir=str(tmp_path / "ml-root"))
    key = mldsa.MLDSA65PrivateKey.generate()
    request = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ml.example")]))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName("ml.example")]), False)
               .sign(key, None).public_bytes(Encoding.PEM))
    cert_issue(str(tmp_path / "ml"), "ml/tls-server", request, out=str(tmp_path / "one.crt"))
    batch.cert_issue_batch(str(tmp_path / "ml"), "ml/tls-server", [("ml.csr", request)],
                           out_dir=str(tmp_path / "out"))
    one = x509.load_pem_x509_certificate((tmp_path / "one.crt").read_bytes())
    many = x509.load_pem_x509_certificate((tmp_path / "out" / "ml.crt").read_bytes())
    assert comparable(one) == comparable(many)
    assert ca_check(str(tmp_path / "ml")).to_dict()["valid"]


def test_static_extensions_are_built_once_templated_ones_per_certificate():
    profile = Profile({
        "name": "cached", "algorithm": "ecdsa-p256", "validity": "30d",
        "variables": {"cn": {"type": "string", "required": True},
                      "crl": {"type": "uri", "default": "http://crl.example/a.crl"}},
        "subject": {"cn": "{{ cn }}"},
        "extensions": {
            "basicConstraints": {"ca": False},
            "keyUsage": ["digitalSignature"],
            "crlDistributionPoints": ["{{ crl }}"],
            "authorityInfoAccess": {"ocsp": ["http://ocsp.example"]},
        },
    })
    first = profile.render({"cn": "a"})
    second = profile.render({"cn": "b", "crl": "http://crl.example/b.crl"})
    by_oid = [{e.oid: e for e in r.extensions} for r in (first, second)]
    static = (x509.BasicConstraints.oid, x509.KeyUsage.oid, x509.AuthorityInformationAccess.oid)
    for oid in static:
        assert by_oid[0][oid] is by_oid[1][oid]  # the same object, built once
    crldp = x509.CRLDistributionPoints.oid
    assert by_oid[0][crldp] != by_oid[1][crldp]
    assert "b.crl" in str(by_oid[1][crldp].value)
    # The cached objects render exactly what a fresh build gives.
    fresh = Profile({"name": "fresh", "algorithm": "ecdsa-p256", "validity": "30d",
                     "variables": {"cn": {"type": "string", "required": True},
                                   "crl": {"type": "uri",
                                           "default": "http://crl.example/a.crl"}},
                     "subject": {"cn": "{{ cn }}"},
                     "extensions": {"basicConstraints": {"ca": False},
                                    "keyUsage": ["digitalSignature"],
                                    "crlDistributionPoints": ["{{ crl }}"],
                                    "authorityInfoAccess": {"ocsp": ["http://ocsp.example"]}}})
    assert fresh.render({"cn": "b", "crl": "http://crl.example/b.crl"}).extensions == \
        second.extensions


def test_a_batch_gives_the_certificates_of_its_csrs(issuing, tmp_path, csrs):
    items = [("h%03d.csr" % n, data) for n, data in enumerate(csrs)]
    result = batch.cert_issue_batch(str(issuing), "ec/tls-server", items,
                                    out_dir=str(tmp_path / "out"))
    assert result.count == len(csrs)
    for n, data in enumerate(csrs):
        cert = x509.load_pem_x509_certificate((tmp_path / "out" / ("h%03d.crt" % n)).read_bytes())
        request = x509.load_pem_x509_csr(data)
        assert cert.subject == request.subject
        assert cert.public_key() == request.public_key()
    openssl_verify(tmp_path, *("out/h%03d.crt" % n for n in range(len(csrs))))
    assert len(read_index(issuing / "index.txt")) == len(csrs)
    assert ca_check(str(issuing)).to_dict()["valid"]


@pytest.mark.parametrize("bad_at", [0, 17, 39])
def test_a_bad_signature_is_found_and_nothing_changes(issuing, csrs, bad_at, tree_snapshot):
    items = [("h%03d.csr" % n, data) for n, data in enumerate(csrs)]
    items[bad_at] = (items[bad_at][0], bad_signature(items[bad_at][1]))
    before = tree_snapshot(issuing, exclude=["*.lock"])
    with pytest.raises(InputError, match=r"h%03d\.csr: CSR signature does not verify" % bad_at):
        batch.cert_issue_batch(str(issuing), "ec/tls-server", items)
    assert tree_snapshot(issuing, exclude=["*.lock"]) == before


def test_the_first_bad_csr_wins_whatever_its_problem(issuing, csrs):
    items = [("h%03d.csr" % n, data) for n, data in enumerate(csrs)]
    wrong_name = ("name.csr", csr("not a dns name!"))
    # A bad signature before a CSR that breaks the profile: the signature.
    early = list(items)
    early[5] = (early[5][0], bad_signature(early[5][1]))
    early[9] = wrong_name
    with pytest.raises(InputError, match=r"h005\.csr: CSR signature"):
        batch.cert_issue_batch(str(issuing), "ec/tls-server", early)
    # A CSR that breaks the profile before a bad signature: the profile.
    late = list(items)
    late[5] = wrong_name
    late[9] = (late[9][0], bad_signature(late[9][1]))
    with pytest.raises(InputError, match=r"name\.csr") as caught:
        batch.cert_issue_batch(str(issuing), "ec/tls-server", late)
    assert "signature" not in str(caught.value)
    # Unparseable bytes name their file.
    broken = list(items)
    broken[3] = ("junk.csr", b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                             b"-----END CERTIFICATE REQUEST-----\n")
    with pytest.raises(InputError, match=r"junk\.csr"):
        batch.cert_issue_batch(str(issuing), "ec/tls-server", broken)


def test_batch_audit_records_verify_and_match_the_certificates(issuing, tmp_path, csrs):
    items = [("h%03d.csr" % n, data) for n, data in enumerate(csrs[:12])]
    result = batch.cert_issue_batch(str(issuing), "ec/tls-server", items,
                                    out_dir=str(tmp_path / "out"))
    verdict = audit_verify(str(issuing))
    assert verdict.valid, verdict
    lines = [json.loads(line) for line in (issuing / "audit.log").read_text().splitlines()]
    issued = [r for r in lines if r["op"] == "cert.issue"]
    assert len(issued) == 12
    assert [r["seq"] for r in lines] == list(range(1, len(lines) + 1))
    for record, entry in zip(issued, result.certificates, strict=False):
        cert = x509.load_pem_x509_certificate(
            (issuing / "certs" / (record["serial"] + ".crt")).read_bytes())
        assert record["fingerprint"] == hashlib.sha256(
            cert.public_bytes(Encoding.DER)).hexdigest().upper()
        assert record["subject"] == cert.subject.rfc4514_string() == entry.subject
        assert record["fingerprint"] == entry.fingerprint_sha256
        assert record["profile"] == "ec/tls-server"
        assert record["keys"] and record["ca_key_id"]
    assert len({r["time"] for r in issued}) == 1  # one batch, one time
    # A second batch chains on.
    batch.cert_issue_batch(str(issuing), "ec/tls-server", items[:3])
    assert audit_verify(str(issuing)).valid


def _kill_batch_at(ca_dir, csr_dir, out_dir, log, delay=None, kill_before=None):
    """Run the CLI batch in a forked child with its durable steps logged to
    ``log`` (crash_phases); SIGKILL it after ``delay`` seconds, or have it
    kill itself just before its ``kill_before``-th step. Returns (killed,
    seconds, steps it completed)."""
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            crash_phases.install(str(log), kill_before)
            from qpki.cli.main import main

            code = main(["cert", "issue", "--ca-dir", str(ca_dir), "--profile", "ec/tls-server",
                         "--csr-dir", str(csr_dir), "--out-dir", str(out_dir)])
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            os._exit(code if isinstance(code, int) else 71)
    started = time.monotonic()
    if delay is not None:
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
    dummy, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status), time.monotonic() - started, crash_phases.read(log)


@pytest.mark.slow
def test_a_killed_batch_leaves_a_state_ca_check_repairs(issuing, tmp_path):
    csr_dir = tmp_path / "csrs"
    csr_dir.mkdir()
    key = ec.generate_private_key(ec.SECP256R1())  # one key: the CSRs only need to differ
    for n in range(150):
        (csr_dir / ("k%03d.csr" % n)).write_bytes(
            csr("k%03d.example.com" % n, ["k%03d.example.com" % n], key=key))
    logs = tmp_path / "steps"
    logs.mkdir()
    # Twice: the first batch also creates the audit journal (and flushes the
    # directory for it), a step no later batch repeats.
    for run in ("warm", "calibrate"):
        killed, took, steps = _kill_batch_at(issuing, csr_dir, tmp_path / run,
                                             logs / f"{run}.log")
        assert not killed
    trace = [step.label for step in steps]
    rng = random.Random(20261128)
    outcomes = {"repaired": 0}
    for run in range(12):
        log = logs / ("%d.log" % run)
        if run % 2 == 0:  # just before a chosen durable step, spread over the whole batch
            chosen = 1 + (run // 2) * (len(trace) - 1) // 5
            was_killed, dummy, steps = _kill_batch_at(issuing, csr_dir, tmp_path / ("o%d" % run),
                                                      log, kill_before=chosen)
            assert was_killed and [step.label for step in steps] == trace[:chosen - 1], chosen
            where = "chosen step"
        else:  # at a random moment, found afterwards in the log
            was_killed, dummy, steps = _kill_batch_at(issuing, csr_dir, tmp_path / ("o%d" % run),
                                                      log, delay=rng.uniform(0, 1.1 * took))
            where = crash_phases.phase(len(steps), len(trace), finished=not was_killed)
        outcomes[where] = outcomes.get(where, 0) + 1
        entries = read_index(issuing / "index.txt")
        for entry in entries:  # never an index line without its certificate file
            path = issuing / "certs" / ("%040X.crt" % entry.serial)
            assert x509.load_pem_x509_certificate(path.read_bytes()).serial_number == \
                entry.serial
        state = ca_check(str(issuing)).to_dict()
        if not state["valid"]:
            fixed = ca_check(str(issuing), repair=True).to_dict()
            assert fixed["valid"] and fixed["repaired"], fixed
            outcomes["repaired"] += 1
        assert audit_verify(str(issuing)).valid
        listed = {e.serial for e in read_index(issuing / "index.txt")}
        files = {int(p.stem, 16) for p in (issuing / "certs").glob("*.crt")}
        assert listed == files
    # Six kills landed at their chosen steps, some of them between the
    # certificate files and the index: the state ca check must repair.
    assert outcomes["chosen step"] == 6 and outcomes["repaired"] >= 1, outcomes
    killed, dummy, dummy = _kill_batch_at(issuing, csr_dir, tmp_path / "after",
                                          logs / "after.log")
    assert not killed and ca_check(str(issuing)).valid
