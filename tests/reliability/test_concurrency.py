"""Several processes issuing from one CA at the same time (issue 6, item 1).

The CA lock (store/lock.py) serialises the part of an issuance that reads
and writes the CA directory; these tests check the outcome: every
certificate has its own serial, its own index line and its own file, is
signed by the CA, and has its audit record.
"""

import multiprocessing
import os
import subprocess
import sys
import time

import pytest
from cryptography import x509

from reliability_support import ca_certificate, check_invariants, load_certs_dir, make_csrs

WORKERS = 4
PER_WORKER = 250


def _issue_many(args):
    ca_dir, csrs = args
    from qpki.ops.cert.commands import cert_issue

    serials = []
    started = time.monotonic()
    for csr in csrs:
        serials.append(cert_issue(ca_dir, "ec/tls-server", csr).serial)
    return serials, time.monotonic() - started


def _assert_consistent(ca_dir, expected):
    from qpki.ops.audit.trail import audit_verify
    from qpki.store.index import read_index

    entries = read_index(os.path.join(ca_dir, "index.txt"))
    assert len(entries) == expected
    assert len({e.serial for e in entries}) == expected
    certs = load_certs_dir(ca_dir)
    assert len(os.listdir(os.path.join(ca_dir, "certs"))) == expected
    assert set(certs) == {e.serial for e in entries}
    ca_cert = ca_certificate(ca_dir)
    for cert in certs.values():
        cert.verify_directly_issued_by(ca_cert)  # raises if not
    facts = check_invariants(ca_dir)
    assert facts["temps"] == [] and facts["gaps"] == []
    verdict = audit_verify(ca_dir)
    assert verdict.valid, verdict
    assert verdict.records == expected + 1  # + ca.init


def test_four_processes_issue_1000_certificates(tmp_path, record_property):
    from qpki.ops.ca.commands import ca_init

    ca_dir = str(tmp_path / "ca")
    ca_init(ca_dir, "ec/issuing-ca", {"cn": "Concurrency Issuing CA"})
    csrs = make_csrs(WORKERS * PER_WORKER)
    batches = [(ca_dir, csrs[i::WORKERS]) for i in range(WORKERS)]

    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        results = pool.map(_issue_many, batches)
    elapsed = time.monotonic() - started
    record_property("issue_seconds", round(elapsed, 2))
    print("\n%d certificates by %d processes in %.1f s (%.1f ms each, per-worker %s s)"
          % (WORKERS * PER_WORKER, WORKERS, elapsed, 1000 * elapsed / (WORKERS * PER_WORKER),
             [round(t, 1) for dummy, t in results]))

    serials = [s for batch, dummy in results for s in batch]
    assert len(serials) == WORKERS * PER_WORKER
    assert len(set(serials)) == WORKERS * PER_WORKER
    _assert_consistent(ca_dir, WORKERS * PER_WORKER)


def test_concurrent_cli_processes(tmp_path, qpki_cli):
    """The same through the real console script: 4 shells x 6 issues each."""
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=CLI CA", "--ca-dir", "ca",
             check=True)
    per, workers = 6, 4
    for number, csr in enumerate(make_csrs(per * workers)):
        (tmp_path / ("%d.csr" % number)).write_bytes(csr)
    from conftest import qpki_command

    script = " && ".join(
        "{qpki} cert issue --ca-dir ca --profile ec/tls-server --csr {{w}}_{i}.csr "
        "--out {{w}}_{i}.crt >/dev/null".format(qpki=" ".join(qpki_command()), i=i)
        for i in range(per))
    for number in range(per * workers):
        os.rename(tmp_path / ("%d.csr" % number),
                  tmp_path / ("%d_%d.csr" % (number % workers, number // workers)))
    procs = [subprocess.Popen(["sh", "-c", script.format(w=w)], cwd=tmp_path,
                              stderr=subprocess.PIPE) for w in range(workers)]
    for proc in procs:
        dummy, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    _assert_consistent(str(tmp_path / "ca"), per * workers)
    # What --out wrote is what certs/ holds.
    certs = load_certs_dir(tmp_path / "ca")
    for w in range(workers):
        for i in range(per):
            cert = x509.load_pem_x509_certificate((tmp_path / ("%d_%d.crt" % (w, i))).read_bytes())
            assert certs[cert.serial_number] == cert


if __name__ == "__main__":  # pragma: no cover - manual timing runs
    sys.exit(pytest.main([__file__, "-s", "-q"]))
