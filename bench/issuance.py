"""Batch issuance (issue items 1 and 2).

For each scenario a CA is set up with the ``qpki`` command line, N CSRs are
made (not timed), and three rates are measured in the same run:

* ``qpki cert issue --csr-dir DIR --out-dir OUT``: one process for the whole
  batch, start-up included (best of ``reps``);
* "raw": cryptography building and signing the same certificate (same
  subject, extensions, key types, issuer key) in a loop, in this process,
  with no CSR check and no I/O (best of 3);
* one ``openssl x509 -req`` process per certificate (software key; ML-DSA
  only when the openssl command line knows it).

The HSM path (item 2) compares the SoftHSM2-backed batch with python-pkcs11
signing SHA-256 digests in a loop on a held session of the same token, and
shows the signer layer alone (``Pkcs11Signer.sign``) against the same raw
loop.
"""

import json
import os
import secrets
import shutil
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


def raw_rate(raw, count):
    """Certificates per second (wall, CPU) for cryptography alone: ``raw``
    (a limits.RawSigner) building and signing its certificate in a loop."""
    walls, cpus = [], []
    for dummy in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        for dummy in range(count):
            raw.sign()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return count / min(walls), count / min(cpus)


def batch_rate(work, ca_dir, profile, csr_dir, count, env=None, reps=3, jobs=None):
    """Certificates per second of one ``qpki cert issue --csr-dir`` process
    (``--jobs`` when given, else its default); also the worker processes
    it used and its output directory."""
    times, cpus = [], []
    last_out = workers = None
    extra = ["--jobs", str(jobs)] if jobs else []
    for rep in range(reps):
        out = Path(work) / ("out-%s-%s-%d" % (Path(ca_dir).name, jobs or "auto", rep))
        shutil.rmtree(out, ignore_errors=True)
        wall, cpu, code, err, stdout = common.run_cpu(
            [common.QPKI, "cert", "issue", "--ca-dir", ca_dir, "--profile", profile,
             "--csr-dir", csr_dir, "--out-dir", out, "--json", *extra], env=env, output=True)
        if code != 0:
            raise RuntimeError("batch issuance failed: %s" % err.strip())
        times.append(wall)
        cpus.append(cpu)
        workers = json.loads(stdout)["workers"]
        written = len(list(out.iterdir()))
        if written != count:
            raise RuntimeError("batch wrote %d certificates, expected %d" % (written, count))
        if last_out is not None:
            shutil.rmtree(last_out, ignore_errors=True)
        last_out = out
    return {"rate": count / min(times), "rate_cpu": count / min(cpus), "workers": workers,
            "out": last_out}


def openssl_rate(work, ca_cert, ca_key, csrs, digest="-sha256"):
    """Certificates per second with one ``openssl x509 -req`` per CSR."""
    ext = Path(work) / "leaf.cnf"
    ext.write_text(EXTFILE)
    out = Path(work) / "openssl-out"
    out.mkdir(exist_ok=True)
    start, cpu = time.perf_counter(), 0.0
    for number, csr in enumerate(csrs):
        argv = ["openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
                "-set_serial", "0x%040x" % (secrets.randbits(158) | 1 << 158), "-days", "365",
                "-extfile", ext, "-extensions", "leaf", "-copy_extensions", "copy",
                "-out", out / ("%d.crt" % number)]
        if digest:
            argv.insert(3, digest)
        _wall, used, code, err = common.run_cpu(argv)
        if code != 0:
            raise RuntimeError("openssl x509 -req failed: %s" % err.strip())
        cpu += used
    return len(csrs) / (time.perf_counter() - start), len(csrs) / max(cpu, 1e-9)


def _two_tier(work, family, issuing_args=(), env=None):
    root, issuing = Path(work) / ("%s-root" % family), Path(work) / ("%s-issuing" % family)
    common.qpki("ca", "init", "--profile", "%s/root-ca" % family, "--var", "cn=Bench %s Root"
                % family, "--ca-dir", root, env=env)
    common.qpki("ca", "init", "--profile", "%s/issuing-ca" % family, "--var",
                "cn=Bench %s Issuing" % family, "--ca-dir", issuing, "--parent", root,
                *issuing_args, env=env)
    return root, issuing


def run(work, count=500, ml_count=200, openssl_count=40, log=print):
    from qpki.ops.batch_workers import MIN_PER_WORKER

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
        _scenarios(work, results, count, ml_count, openssl_count, ec_csrs, ml_csrs, scratch,
                   log)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return results


def _scenarios(work, results, count, ml_count, openssl_count, ec_csrs, ml_csrs, scratch, log):
    from cryptography.hazmat.primitives import hashes

    # --- ECDSA P-256 leaves, software issuing key
    _root, ec_issuing = _two_tier(work, "ec")
    auto, single = _batch_both(work, ec_issuing, "ec/tls-server", work / "csr-ec", count)
    reference = _load_cert(next(auto["out"].iterdir()))
    ec_key_path = ec_issuing / "private" / "ca.ecdsa-p256.key"
    raw_signer = limits.RawSigner(reference, _load_cert(ec_issuing / "ca.crt"),
                                  _load_key(ec_key_path), hashes.SHA256())
    raw, raw_cpu = raw_rate(raw_signer, count)
    osl, osl_cpu = openssl_rate(work, ec_issuing / "ca.crt", ec_key_path,
                                ec_csrs[:openssl_count])
    row = _row("ECDSA P-256 leaves, EC issuing CA, software key", count, auto, single,
               (raw, raw_cpu), (osl, osl_cpu))
    _machine_limits(row, raw_signer, ec_csrs, count)
    row["tmpfs"] = _on_tmpfs(scratch, ec_issuing, "ec/tls-server", work / "csr-ec", count)
    results["rows"].append(row)
    log_row(row, log)
    results["breakdown"] = breakdown(work, ec_issuing, ec_csrs[:min(count, 1000)], log)
    results["breakdown_n"] = min(count, 1000)
    results["startup_one_csr"], text = startup(work, ec_issuing, ec_csrs[0])
    log(text)

    # --- the same with the issuing key in SoftHSM2
    hsm = common.SoftHsm(work / "softhsm")
    if hsm.available:
        hsm.init()
        hsm.keygen("bench-issuing", "b1")
        config = hsm.write_config(work / "hsm.yaml")
        root = work / "hsm-root"
        common.qpki("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Bench HSM Root",
                    "--ca-dir", root, env=hsm.env)
        hsm_issuing = work / "hsm-issuing"
        common.qpki("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Bench HSM Issuing",
                    "--ca-dir", hsm_issuing, "--parent", root, "--hsm-config", config,
                    "--key-label", "bench-issuing", env=hsm.env)
        auto, single = _batch_both(work, hsm_issuing, "ec/tls-server", work / "csr-ec", count,
                                   env=hsm.env)
        row = _row("ECDSA P-256 leaves, EC issuing CA, SoftHSM2 key", count, auto, single,
                   (raw, raw_cpu), (osl, osl_cpu),
                   note="raw and openssl use the software P-256 key (openssl has no PKCS#11 "
                        "provider here)")
        row["tmpfs"] = _on_tmpfs(scratch, hsm_issuing, "ec/tls-server", work / "csr-ec", count,
                                 env=hsm.env)
        results["rows"].append(row)
        log_row(row, log)
        rate = auto["rate"]
        results["hsm"] = hsm_path(hsm, config, count, rate, auto["rate_cpu"])
        log("  HSM path: batch %.0f/s = %.0f%% of raw python-pkcs11 signing (%.0f sig/s, "
            "target >= 75%%; CPU time %.0f%%); qpki Pkcs11Signer.sign alone %.0f/s = %.0f%%"
            % (rate, 100 * results["hsm"]["ratio"], results["hsm"]["raw_pkcs11"],
               100 * results["hsm"]["ratio_cpu"], results["hsm"]["signer"],
               100 * results["hsm"]["signer_ratio"]))
    else:
        log("  SoftHSM2 or pkcs11-tool missing: HSM scenario skipped")

    # --- ML-DSA-65 leaves from an ML-DSA issuing CA
    _root, ml_issuing = _two_tier(work, "ml")
    auto, single = _batch_both(work, ml_issuing, "ml/tls-server", work / "csr-ml", ml_count)
    reference = _load_cert(next(auto["out"].iterdir()))
    raw_signer = limits.RawSigner(reference, _load_cert(ml_issuing / "ca.crt"),
                                  _load_key(ml_issuing / "private" / "ca.ml-dsa-65.key"), None)
    raw, raw_cpu = raw_rate(raw_signer, ml_count)
    osl = osl_cpu = None
    if common.openssl_has("ML-DSA-65"):
        osl, osl_cpu = openssl_rate(work, ml_issuing / "ca.crt", ml_issuing / "private" /
                                    "ca.ml-dsa-65.key", ml_csrs[:openssl_count], digest=None)
    row = _row("ML-DSA-65 leaves, ML-DSA-65 issuing CA, software key", ml_count, auto, single,
               (raw, raw_cpu), (osl, osl_cpu),
               note=None if osl else "openssl %s has no ML-DSA (3.5+ needed)"
               % common.run(["openssl", "version"]).stdout.split()[1])
    _machine_limits(row, raw_signer, ml_csrs, ml_count)
    results["rows"].append(row)
    log_row(row, log)


def _machine_limits(row, raw_signer, csrs, count):
    """Add to ``row`` the rate of the work no batch can skip (one thread)
    and of the raw loop in one process per CPU."""
    row["floor"] = limits.floor_rate(csrs, raw_signer)
    row["parallel_raw"] = limits.parallel_raw_rate(raw_signer, count)
    row["cpus"] = os.cpu_count()


def _on_tmpfs(scratch, ca_dir, profile, csr_dir, count, env=None):
    """Batch rates (default processes, ``--jobs 1``) of a copy of the CA
    directory on tmpfs, output there too: the same work without the disk.
    None when there is no tmpfs."""
    if scratch is None:
        return None
    ca_copy = Path(scratch) / Path(ca_dir).name
    shutil.copytree(ca_dir, ca_copy)
    try:
        auto, single = _batch_both(scratch, ca_copy, profile, csr_dir, count, env=env)
    finally:
        shutil.rmtree(ca_copy, ignore_errors=True)
    for figures in (auto, single):
        shutil.rmtree(figures["out"], ignore_errors=True)
    return {"qpki": auto["rate"], "workers": auto["workers"], "single": single["rate"]}


def _batch_both(work, ca_dir, profile, csr_dir, count, env=None):
    """The batch rate with qpki's default number of processes, then with
    ``--jobs 1`` (everything in one process), same CSRs, same CA."""
    return (batch_rate(work, ca_dir, profile, csr_dir, count, env=env),
            batch_rate(work, ca_dir, profile, csr_dir, count, env=env, jobs=1))


def _row(scenario, count, auto, single, raw, osl, note=None):
    return {"scenario": scenario, "n": count, "qpki": auto["rate"], "workers": auto["workers"],
            "single": single["rate"], "raw": raw[0], "openssl": osl[0], "note": note,
            "cpu": {"qpki": auto["rate_cpu"], "single": single["rate_cpu"], "raw": raw[1],
                    "openssl": osl[1]}}


def breakdown(work, ca_dir, csrs, log=print):
    """CPU milliseconds per certificate of each step of ``cert_issue_batch``,
    in this process (no start-up), measured by wrapping its steps."""
    from qpki.ops import audit, batch, batch_sign
    from qpki.profiles.profile import Profile

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
             (batch_sign, "staged_files", "CA files + index + serial"),
             (batch_sign, "record_issued", "CA files + index + serial"),
             (audit, "log_issued_fields", "audit records"),
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
        wall, used, code, err = common.run_cpu(
            [common.QPKI, "cert", "issue", "--ca-dir", ca, "--profile", "ec/tls-server",
             "--csr-dir", one, "--out-dir", Path(work) / ("startup-out-%d" % rep), "--json"],
            env=env)
        if code != 0:
            raise RuntimeError("one-CSR batch failed: %s" % err.strip())
        walls.append(wall)
        cpus.append(used)
        shutil.rmtree(ca, ignore_errors=True)
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
        log("    CSR check + build + sign alone, one thread, no I/O: %.0f/s = %.0f%% of raw; "
            "raw in %d processes at once: %.0f/s = %.2fx one thread"
            % (row["floor"], 100 * row["floor"] / row["raw"], row["cpus"], row["parallel_raw"],
               row["parallel_raw"] / row["raw"]))


def hsm_path(hsm, config, count, batch, batch_cpu):
    """Raw python-pkcs11 signing with a held session vs the batch rate, and
    qpki's signer layer alone."""
    import hashlib

    import pkcs11

    from qpki.hsm.library import load_library  # the same pkcs11.lib object qpki will use

    digest = hashlib.sha256(b"bench").digest()
    lib = load_library(hsm.lib)
    token = lib.get_token(token_label=hsm.label)
    with token.open(user_pin=hsm.pin) as session:
        key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label="bench-issuing")

        walls, cpus = [], []
        for dummy in range(3):
            start, cpu = time.perf_counter(), time.process_time()
            for dummy in range(count):
                key.sign(digest, mechanism=pkcs11.Mechanism.ECDSA)
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        raw, raw_cpu = count / min(walls), count / min(cpus)
    from qpki.signer.pkcs11 import Pkcs11Signer

    tbs = secrets.token_bytes(400)  # about the size of a leaf's to-be-signed part
    with Pkcs11Signer(str(config), "ecdsa-p256", label="bench-issuing") as signer:
        def signer_once():
            start = time.perf_counter()
            for dummy in range(count):
                signer.sign(tbs)
            return time.perf_counter() - start

        signer_rate = count / common.best(signer_once, 3)
    return {"raw_pkcs11": raw, "batch": batch, "ratio": batch / raw, "signer": signer_rate,
            "signer_ratio": signer_rate / raw, "raw_pkcs11_cpu": raw_cpu,
            "batch_cpu": batch_cpu, "ratio_cpu": batch_cpu / raw_cpu}
