"""Batch issuance (issue items 1 and 2).

For each scenario a CA is set up with the ``qpki`` command line and N CSRs
are made (not timed). Then these run in turn, round after round (three
rounds; the best of each is kept, ``limits.interleaved``), so that every
ratio compares figures taken at the same moments of the machine:

* ``qpki cert issue --csr-dir DIR --out-dir OUT``: one process for the whole
  batch, start-up included, with qpki's default worker processes and with
  ``--jobs 1``, and both again with the CA and the output on tmpfs;
* "raw": cryptography building and signing the same certificate (same
  subject, extensions, key types, issuer key) in a loop, in this process,
  with no CSR check and no I/O;
* the "limits" of ``limits``: the work no batch can skip, one thread, and
  the raw loop in one process per CPU;
* for the SoftHSM2 scenario (item 2): python-pkcs11 signing SHA-256
  digests in a loop on a held session of the same token, and qpki's signer
  layer alone (``Pkcs11Signer.sign``).

One ``openssl x509 -req`` process per certificate is timed once per
scenario (software key; ML-DSA only when the openssl command line knows
it): qpki is dozens of times faster, so drift does not matter there.
"""

import contextlib
import json
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from . import common, limits

EXTFILE = """[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _load_cert(path):
    from cryptography import x509

    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def _load_key(path):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(Path(path).read_bytes(), None)


class BatchRun:
    """One ``qpki cert issue --csr-dir`` process per call (``--jobs`` when
    given, else its default), each into a new output directory. A call
    returns the certificates per second in wall and CPU time and the worker
    processes the batch used.

    The outputs on the disk stay until the bench's work directory is
    removed, after every section (``limits.KEEP_FILES`` says why); only
    those on tmpfs are removed by ``remove_output``."""

    def __init__(self, work, ca_dir, profile, csr_dir, count, env=None, jobs=None):
        self.work, self.ca_dir, self.profile, self.csr_dir = Path(work), ca_dir, profile, csr_dir
        self.count, self.env, self.jobs = count, env, jobs
        self.out, self.calls, self.outputs = None, 0, []

    def __call__(self):
        self.calls += 1
        self.out = self.work / ("out-%s-%s-%d" % (Path(self.ca_dir).name, self.jobs or "auto",
                                                  self.calls))
        self.outputs.append(self.out)
        extra = ["--jobs", str(self.jobs)] if self.jobs else []
        # The batch flushes its files with syncfs, which would also write out
        # whatever the bench itself left dirty (CSRs, copies, removals).
        os.sync()
        wall, cpu, code, err, stdout = common.run_cpu(
            [common.QPKI, "cert", "issue", "--ca-dir", self.ca_dir, "--profile", self.profile,
             "--csr-dir", self.csr_dir, "--out-dir", self.out, "--json", *extra], env=self.env,
            output=True)
        if code != 0:
            raise RuntimeError("batch issuance failed: %s" % err.strip())
        written = len(list(self.out.iterdir()))
        if written != self.count:
            raise RuntimeError("batch wrote %d certificates, expected %d"
                               % (written, self.count))
        return {"rate": self.count / wall, "rate_cpu": self.count / cpu,
                "workers": json.loads(stdout)["workers"]}

    def remove_output(self):
        for out in self.outputs:
            shutil.rmtree(out, ignore_errors=True)
        self.outputs = []


def openssl_rate(work, ca_cert, ca_key, csrs, digest="-sha256"):
    """Certificates per second with one ``openssl x509 -req`` per CSR."""
    from qpki.store.serials import new_serial

    ext = Path(work) / "leaf.cnf"
    ext.write_text(EXTFILE)
    out = Path(work) / "openssl-out"
    out.mkdir(exist_ok=True)
    start, cpu = time.perf_counter(), 0.0
    for number, csr in enumerate(csrs):
        argv = ["openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
                "-set_serial", "0x%040x" % new_serial(), "-days", "365",
                "-extfile", ext, "-extensions", "leaf", "-copy_extensions", "copy",
                "-out", out / ("%d.crt" % number)]
        if digest:
            argv.insert(3, digest)
        _wall, used, code, err = common.run_cpu(argv)
        if code != 0:
            raise RuntimeError("openssl x509 -req failed: %s" % err.strip())
        cpu += used
    return {"rate": len(csrs) / (time.perf_counter() - start),
            "rate_cpu": len(csrs) / max(cpu, 1e-9)}


def _two_tier(work, family, issuing_args=(), env=None):
    root, issuing = Path(work) / ("%s-root" % family), Path(work) / ("%s-issuing" % family)
    common.qpki("ca", "init", "--profile", "%s/root-ca" % family, "--var", "cn=Bench %s Root"
                % family, "--ca-dir", root, env=env)
    common.qpki("ca", "init", "--profile", "%s/issuing-ca" % family, "--var",
                "cn=Bench %s Issuing" % family, "--ca-dir", issuing, "--parent", root,
                *issuing_args, env=env)
    return root, issuing


def run(work, count=500, ml_count=200, openssl_count=40, log=print):
    from qpki.ops.cert.batch_workers import MIN_PER_WORKER

    work = Path(work)
    results = {"rows": [], "hsm": None, "min_per_worker": MIN_PER_WORKER}
    log("issuance: making %d P-256 and %d ML-DSA-65 CSRs (not timed)" % (count, ml_count))
    ec_csrs = common.write_csrs(work / "csr-ec", count, "ec")
    ml_csrs = common.write_csrs(work / "csr-ml", ml_count, "mldsa")
    scratch = limits.tmpfs_dir()
    try:
        results["file_create_us"] = {
            "work": limits.file_create_us(work),
            "tmpfs": limits.file_create_us(scratch) if scratch else None}
        log("  creating a small file: %.0f us in the work directory, %s on tmpfs"
            % (results["file_create_us"]["work"], "%.0f us" % results["file_create_us"]["tmpfs"]
               if scratch else "no tmpfs"))
        _ecdsa(work, results, count, openssl_count, ec_csrs, scratch, log)
        _softhsm(work, results, count, scratch, log)
        _ml_dsa(work, results, ml_count, openssl_count, ml_csrs, log)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return results


def _ecdsa(work, results, count, openssl_count, csrs, scratch, log):
    """ECDSA P-256 leaves from an EC issuing CA with a software key."""
    from cryptography.hazmat.primitives import hashes

    _root, issuing = _two_tier(work, "ec")
    key_path = issuing / "private" / "ca.ecdsa-p256.key"
    raw = limits.RawSigner(_reference(work, issuing, "ec/tls-server", csrs[0]),
                           _load_cert(issuing / "ca.crt"), _load_key(key_path), hashes.SHA256())
    with _batches(work, issuing, "ec/tls-server", work / "csr-ec", count, scratch) as measures:
        measures.update(_limit_measures(raw, csrs, count))
        best = limits.interleaved(measures)
    osl = openssl_rate(work, issuing / "ca.crt", key_path, csrs[:openssl_count])
    row = _row("ECDSA P-256 leaves, EC issuing CA, software key", count, best, osl)
    results["rows"].append(row)
    log_row(row, log)
    results["ec_raw"] = {"raw": best["raw"], "openssl": osl}
    results["breakdown"] = breakdown(work, issuing, csrs[:min(count, 1000)], log)
    results["breakdown_n"] = min(count, 1000)
    results["startup_one_csr"], text = startup(work, issuing, csrs[0])
    log(text)
    results["phases"] = phases(work, issuing, csrs, log)


def _softhsm(work, results, count, scratch, log):
    """The same leaves with the issuing CA's key in SoftHSM2, and the HSM
    path: raw python-pkcs11 signing on a held session of the same token."""
    hsm = common.SoftHsm(work / "softhsm")
    if not hsm.available:
        log("  SoftHSM2 or pkcs11-tool missing: HSM scenario skipped")
        return
    from cryptography.hazmat.primitives import hashes

    hsm.init()
    hsm.keygen("bench-issuing", "b1")
    config = hsm.write_config(work / "hsm.yaml")
    root = work / "hsm-root"
    common.qpki("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Bench HSM Root",
                "--ca-dir", root, env=hsm.env)
    issuing = work / "hsm-issuing"
    common.qpki("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Bench HSM Issuing",
                "--ca-dir", issuing, "--parent", root, "--hsm-config", config,
                "--key-label", "bench-issuing", env=hsm.env)
    # raw and openssl use the software key of the ECDSA scenario's issuing CA
    software = work / "ec-issuing"
    raw = limits.RawSigner(_reference(work, issuing, "ec/tls-server", work / "csr-ec" /
                                      "host00000.csr", env=hsm.env),
                           _load_cert(software / "ca.crt"),
                           _load_key(software / "private" / "ca.ecdsa-p256.key"),
                           hashes.SHA256())
    pems = [path.read_bytes() for path in sorted((work / "csr-ec").iterdir())]
    with _batches(work, issuing, "ec/tls-server", work / "csr-ec", count, scratch,
                  env=hsm.env) as measures, _token_loops(hsm, config, count) as token_measures:
        measures.update(token_measures, raw=lambda: limits.raw_rate(raw, count),
                        floor=lambda: limits.floor_rate(pems, raw))
        best = limits.interleaved(measures)
    row = _row("ECDSA P-256 leaves, EC issuing CA, SoftHSM2 key", count, best,
               results["ec_raw"]["openssl"],
               note="raw and openssl use a software P-256 key (openssl has no PKCS#11 "
                    "provider here)")
    results["rows"].append(row)
    log_row(row, log)
    batch, pkcs11, signer = best["auto"], best["pkcs11"], best["signer"]
    results["hsm"] = {"raw_pkcs11": pkcs11["rate"], "batch": batch["rate"],
                      "ratio": batch["rate"] / pkcs11["rate"], "signer": signer["rate"],
                      "signer_ratio": signer["rate"] / pkcs11["rate"],
                      "raw_pkcs11_cpu": pkcs11["rate_cpu"], "batch_cpu": batch["rate_cpu"],
                      "ratio_cpu": batch["rate_cpu"] / pkcs11["rate_cpu"]}
    hsm_figures = results["hsm"]
    log("  HSM path: batch %.0f/s = %.0f%% of raw python-pkcs11 signing (%.0f sig/s, "
        "target >= 75%%; CPU time %.0f%%); qpki Pkcs11Signer.sign alone %.0f/s = %.0f%%"
        % (batch["rate"], 100 * hsm_figures["ratio"], pkcs11["rate"],
           100 * hsm_figures["ratio_cpu"], signer["rate"], 100 * hsm_figures["signer_ratio"]))


def _ml_dsa(work, results, count, openssl_count, csrs, log):
    """ML-DSA-65 leaves from an ML-DSA-65 issuing CA."""
    _root, issuing = _two_tier(work, "ml")
    key_path = issuing / "private" / "ca.ml-dsa-65.key"
    raw = limits.RawSigner(_reference(work, issuing, "ml/tls-server", csrs[0]),
                           _load_cert(issuing / "ca.crt"), _load_key(key_path), None)
    with _batches(work, issuing, "ml/tls-server", work / "csr-ml", count) as measures:
        measures.update(_limit_measures(raw, csrs, count))
        best = limits.interleaved(measures)
    osl = {"rate": None, "rate_cpu": None}
    note = None
    if common.openssl_has("ML-DSA-65"):
        osl = openssl_rate(work, issuing / "ca.crt", key_path, csrs[:openssl_count], digest=None)
    else:
        note = ("openssl %s has no ML-DSA (3.5+ needed)"
                % common.run(["openssl", "version"]).stdout.split()[1])
    row = _row("ML-DSA-65 leaves, ML-DSA-65 issuing CA, software key", count, best, osl,
               note=note)
    results["rows"].append(row)
    log_row(row, log)


def _reference(work, ca_dir, profile, csr, env=None):
    """A certificate of ``profile`` from ``ca_dir`` for ``csr`` (issued once,
    before the timed runs): what the raw loop builds and signs."""
    out = Path(work) / ("reference-%s.crt" % Path(ca_dir).name)
    common.qpki("cert", "issue", "--ca-dir", ca_dir, "--profile", profile, "--csr", csr,
                "--out", out, env=env)
    return _load_cert(out)


@contextlib.contextmanager
def _batches(work, ca_dir, profile, csr_dir, count, scratch=None, env=None):
    """The batch runs of a scenario (BatchRun): qpki's default processes
    and ``--jobs 1``, and with ``scratch`` (a tmpfs directory) the same on a
    copy of the CA there. The tmpfs outputs and copy are removed on
    leaving, the others are not (``limits.KEEP_FILES``)."""
    runs = {"auto": BatchRun(work, ca_dir, profile, csr_dir, count, env),
            "single": BatchRun(work, ca_dir, profile, csr_dir, count, env, jobs=1)}
    ca_copy = None
    if scratch:
        ca_copy = Path(scratch) / Path(ca_dir).name
        shutil.copytree(ca_dir, ca_copy)
        runs["tmpfs_auto"] = BatchRun(scratch, ca_copy, profile, csr_dir, count, env)
        runs["tmpfs_single"] = BatchRun(scratch, ca_copy, profile, csr_dir, count, env, jobs=1)
    try:
        yield runs
    finally:
        if ca_copy:
            runs["tmpfs_auto"].remove_output()
            runs["tmpfs_single"].remove_output()
            shutil.rmtree(ca_copy, ignore_errors=True)


def _limit_measures(raw, csrs, count):
    """The raw loop, the work no batch can skip, and the raw loop in one
    process per CPU (see ``limits``)."""
    pems = [Path(path).read_bytes() for path in csrs]
    cpus = os.cpu_count() or 1
    return {"raw": lambda: limits.raw_rate(raw, count),
            "floor": lambda: limits.floor_rate(pems, raw),
            "parallel_raw": lambda: dict(limits.parallel_raw_rate(raw, count, cpus), cpus=cpus)}


@contextlib.contextmanager
def _signer_on_its_own_lock(config):
    """qpki's signer of the bench key, held for the whole measure. It takes
    qpki's per-token lock (hsm/token_lock.py) in a lock directory of its
    own, so the qpki processes measured beside it, as if on another host,
    do not wait for it; the environment they inherit is left as it was."""
    from qpki.signer.pkcs11 import Pkcs11Signer

    saved = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="qpki-bench-run-")
    try:
        signer = Pkcs11Signer(str(config), "ecdsa-p256", label="bench-issuing").__enter__()
    finally:
        if saved is None:
            del os.environ["XDG_RUNTIME_DIR"]
        else:
            os.environ["XDG_RUNTIME_DIR"] = saved
    try:
        yield signer
    finally:
        signer.__exit__(None, None, None)


@contextlib.contextmanager
def _token_loops(hsm, config, count):
    """Measures on the bench's own held session of ``hsm``'s token: raw
    python-pkcs11 signing of a SHA-256 digest, and qpki's signer layer
    alone (``Pkcs11Signer.sign`` of a leaf-sized to-be-signed part)."""
    import hashlib

    import pkcs11

    from qpki.hsm.library import load_library  # the same pkcs11.lib object qpki will use

    digest = hashlib.sha256(b"bench").digest()
    tbs = secrets.token_bytes(400)  # about the size of a leaf's to-be-signed part
    token = load_library(hsm.lib).get_token(token_label=hsm.label)
    with token.open(user_pin=hsm.pin) as session, _signer_on_its_own_lock(config) as signer:
        key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label="bench-issuing")

        def raw_pkcs11():
            start, cpu = time.perf_counter(), time.process_time()
            for dummy in range(count):
                key.sign(digest, mechanism=pkcs11.Mechanism.ECDSA)
            return {"rate": count / (time.perf_counter() - start),
                    "rate_cpu": count / (time.process_time() - cpu)}

        def signer_alone():
            start = time.perf_counter()
            for dummy in range(count):
                signer.sign(tbs)
            return {"rate": count / (time.perf_counter() - start)}

        yield {"pkcs11": raw_pkcs11, "signer": signer_alone}


def _row(scenario, count, best, osl, note=None):
    auto, single, raw = best["auto"], best["single"], best["raw"]
    row = {"scenario": scenario, "n": count, "qpki": auto["rate"], "workers": auto["workers"],
           "single": single["rate"], "raw": raw["rate"], "openssl": osl["rate"], "note": note,
           "cpu": {"qpki": auto["rate_cpu"], "single": single["rate_cpu"],
                   "raw": raw["rate_cpu"], "openssl": osl["rate_cpu"]}}
    if "tmpfs_auto" in best:
        row["tmpfs"] = {"qpki": best["tmpfs_auto"]["rate"],
                        "workers": best["tmpfs_auto"]["workers"],
                        "single": best["tmpfs_single"]["rate"]}
    if "floor" in best:
        row.update(floor=best["floor"]["rate"])
        row["cpu"]["floor"] = best["floor"]["rate_cpu"]
    if "parallel_raw" in best:
        row.update(parallel_raw=best["parallel_raw"]["rate"], cpus=best["parallel_raw"]["cpus"])
    return row


def breakdown(work, ca_dir, csrs, log=print):
    """CPU milliseconds per certificate of each step of ``cert_issue_batch``,
    in this process (no start-up), measured by wrapping its steps."""
    from qpki.ops.cert import batch
    from qpki.ops.cert import batch_sign
    from qpki.profiles.profile import Profile
    from qpki.store import audit as store_audit
    from qpki.store import cert_store
    from qpki.store.atomic import StagedFiles
    from qpki.store.cert_db import CertDatabase

    spent = {}

    def wrap(owner, name, label):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - start

        setattr(owner, name, timed)
        return original

    steps = [(batch_sign, "csr_request", "CSR parse + signature check"),
             (Profile, "render", "profile rendering"),
             (batch_sign, "sign_new", "build + sign (the raw part)"),
             (batch_sign, "Issued", "PEM, fingerprint and record fields (once per certificate)"),
             (CertDatabase, "insert", "database rows (one transaction)"),
             (StagedFiles, "commit", "CA files (one flush, then renames)"),
             (cert_store, "write_at", "index lines (one write)"),
             (store_audit, "append_records", "audit records (one append)"),
             (batch, "write_files", "output copies")]
    saved = [(owner, name, wrap(owner, name, label)) for owner, name, label in steps]
    try:
        out = Path(work) / "out-breakdown"
        start = time.process_time()
        batch.cert_issue_batch(str(ca_dir), "ec/tls-server", [str(c) for c in csrs],
                               out_dir=str(out), jobs=1)
        total = time.process_time() - start
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
    per = {label: 1000 * spent.get(label, 0.0) / len(csrs) for dummy, dummy, label in steps}
    per["everything else"] = 1000 * total / len(csrs) - sum(per.values())
    per["total (in process)"] = 1000 * total / len(csrs)
    log("  per certificate, CPU ms: " + ", ".join("%s %.2f" % kv for kv in per.items()))
    return per


def phases(work, ca_dir, csrs, log=print, runs=3):
    """Wall seconds of the phases of a ``cert_issue_batch`` with its
    default worker processes, in this process (start-up is ``startup``'s),
    from the quickest of ``runs`` batches:
    before the workers' first certificates arrive (reading the CSRs,
    opening the CA, checking every CSR), signing (the workers sign, this
    process writes their files as they come), recording, then the output
    copies and the result. Recording and what follows run in this one
    process while the CPUs the workers used stay idle: with start-up, they
    bound what worker processes can gain."""
    figures = min((_phases_once(Path(work) / ("out-phases-%d" % run), ca_dir, csrs)
                   for run in range(runs)), key=lambda found: found["total"])
    log("  phases of a %d-CSR batch with %d worker process(es), wall s (quickest of %d): until "
        "the first certificates arrive %.3f, signing %.3f, recording %.3f, output copies and "
        "result %.3f (one process: %.0f%% of %.3f s)"
        % (len(csrs), figures["workers"], runs, figures["checking"], figures["signing"],
           figures["recording"], figures["outputs"],
           100 * (figures["recording"] + figures["outputs"]) / figures["total"],
           figures["total"]))
    return figures


def _phases_once(out, ca_dir, csrs):
    from qpki.ops.cert import batch
    from qpki.ops.cert.batch_sign import RECORDING, SIGNING

    marks = {}

    def progress(stage, done, total):
        now = time.perf_counter()
        if stage == SIGNING and done:
            marks.setdefault("signed", now)
        elif stage == RECORDING:
            marks.setdefault("recording" if done == 0 else "recorded", now)

    start = time.perf_counter()
    result = batch.cert_issue_batch(str(ca_dir), "ec/tls-server", [str(c) for c in csrs],
                                    out_dir=str(out), progress=progress)
    end = time.perf_counter()
    return {"workers": result.workers, "count": len(csrs),
            "checking": marks["signed"] - start,
            "signing": marks["recording"] - marks["signed"],
            "recording": marks["recorded"] - marks["recording"],
            "outputs": end - marks["recorded"], "total": end - start}


def startup(work, ca_dir, csr, env=None, reps=5):
    """Wall and CPU seconds of a ``qpki cert issue --csr-dir`` process for
    one CSR: the fixed cost a batch pays once (interpreter, imports, CA
    opening)."""
    one = Path(work) / "startup-one-csr"
    one.mkdir(exist_ok=True)
    shutil.copy(csr, one / Path(csr).name)
    walls, cpus = [], []
    for rep in range(reps):
        ca = Path(work) / ("startup-ca-%d" % rep)
        shutil.copytree(ca_dir, ca)
        os.sync()  # see batch_rate
        wall, used, code, err = common.run_cpu(
            [common.QPKI, "cert", "issue", "--ca-dir", ca, "--profile", "ec/tls-server",
             "--csr-dir", one, "--out-dir", Path(work) / ("startup-out-%d" % rep), "--json"],
            env=env)
        if code != 0:
            raise RuntimeError("one-CSR batch failed: %s" % err.strip())
        walls.append(wall)
        cpus.append(used)  # the copies stay (limits.KEEP_FILES)
    figures = {"wall_s": min(walls), "cpu_s": min(cpus)}
    log_text = ("  one-CSR batch process (start-up + CA opening): %.3f s wall, %.3f s CPU"
                % (figures["wall_s"], figures["cpu_s"]))
    return figures, log_text


def log_row(row, log):
    cpu = row["cpu"]
    osl = ("%.1fx openssl x509 -req (%.0f/s; CPU time %.1fx)"
           % (row["qpki"] / row["openssl"], row["openssl"], cpu["qpki"] / cpu["openssl"])
           if row["openssl"] else "openssl n/a")
    log("  %s: %.0f certs/s with %d worker process(es) = %.0f%% of raw cryptography (%.0f/s, "
        "target >= 50%%; CPU time %.0f%%); --jobs 1: %.0f/s = %.0f%%; %s"
        % (row["scenario"], row["qpki"], row["workers"], 100 * row["qpki"] / row["raw"],
           row["raw"], 100 * cpu["qpki"] / cpu["raw"], row["single"],
           100 * row["single"] / row["raw"], osl))
    if row.get("tmpfs"):
        tmpfs = row["tmpfs"]
        log("    CA and output on tmpfs: %.0f/s with %d worker process(es) = %.0f%%; --jobs 1: "
            "%.0f/s = %.0f%%" % (tmpfs["qpki"], tmpfs["workers"], 100 * tmpfs["qpki"] / row["raw"],
                                 tmpfs["single"], 100 * tmpfs["single"] / row["raw"]))
    if row.get("floor"):
        log("    against the floor (CSR check + build + sign, one thread, no I/O, software key):"
            " %.0f/s = %.0f%% of %.0f/s (target >= 50%%); --jobs 1: %.0f%%; CPU ms per"
            " certificate: batch %.3f, --jobs 1 %.3f, floor %.3f"
            % (row["qpki"], 100 * row["qpki"] / row["floor"], row["floor"],
               100 * row["single"] / row["floor"], 1000 / cpu["qpki"], 1000 / cpu["single"],
               1000 / cpu["floor"]))
    if row.get("parallel_raw"):
        log("    floor = %.0f%% of raw; raw in %d processes at once: %.0f/s = %.2fx one thread"
            % (100 * row["floor"] / row["raw"], row["cpus"], row["parallel_raw"],
               row["parallel_raw"] / row["raw"]))
