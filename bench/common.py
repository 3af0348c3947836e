"""Shared helpers of the benchmarks: the machine, timers, child processes,
CSR factories and CA set-up through the ``qpki`` command line."""

import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
QPKI = str(VENV_BIN / "qpki") if (VENV_BIN / "qpki").exists() else "qpki"
SOFTHSM_LIBS = ("/usr/lib/softhsm/libsofthsm2.so",
                "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so")


# ------------------------------------------------------------------ machine

def machine():
    """What the figures were measured on."""
    import cryptography
    from cryptography.hazmat.backends.openssl.backend import backend

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = "%.1f GiB" % (int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    openssl_cli = run(["openssl", "version"]).stdout.strip() if shutil.which("openssl") else "-"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram": ram,
        "os": "%s %s" % (platform.system(), platform.release()),
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "cryptography_openssl": backend.openssl_version_text(),
        "openssl_cli": openssl_cli,
        "load_1min_at_start": round(load, 2) if load is not None else None,
    }


# ------------------------------------------------------------------ processes and timing

def _environment(env):
    """os.environ with ``env`` entries added (None removes one)."""
    full = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = str(value)
    return full


def run(argv, env=None, cwd=None, check=False, timeout=600):
    """subprocess.run with text output; ``env`` entries are added (None removes)."""
    proc = subprocess.run([str(a) for a in argv], env=_environment(env), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
    if check and proc.returncode != 0:
        command = " ".join(map(str, argv))
        raise RuntimeError("%s -> exit %d\n%s%s" % (command, proc.returncode,
                                                    proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc


def _waited(argv, env, cwd, output=False):
    """(wall seconds, rusage, returncode, stderr, stdout or None) of one
    child, via os.wait4 (its rusage includes the workers it reaped)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([str(a) for a in argv], env=_environment(env), cwd=cwd,
                                stdout=out if output else subprocess.DEVNULL,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        err = proc.stderr.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.stderr.close()
        out.seek(0)
        stdout = out.read().decode(errors="replace") if output else None
    return wall, usage, os.waitstatus_to_exitcode(status), err.decode(errors="replace"), stdout


def child_peak_rss(argv, env=None, cwd=None):
    """(wall seconds, peak RSS MiB, returncode, stderr) via os.wait4."""
    wall, usage, code, err, _out = _waited(argv, env, cwd)
    return wall, usage.ru_maxrss / 1024.0, code, err


def run_cpu(argv, env=None, cwd=None, output=False):
    """(wall seconds, CPU seconds user+system, returncode, stderr) of one
    child, plus its stdout when ``output``. CPU time comes from wait4:
    unlike wall time it barely moves when other work shares the machine."""
    wall, usage, code, err, stdout = _waited(argv, env, cwd, output)
    cpu = usage.ru_utime + usage.ru_stime
    return (wall, cpu, code, err, stdout) if output else (wall, cpu, code, err)


def qpki(*args, env=None, cwd=None):
    return run([QPKI, *args], env=env, cwd=cwd, check=True)


# ------------------------------------------------------------------ CSRs

def csr_pem(key, cn, hash_algorithm="sha256"):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    algorithm = hashes.SHA256() if hash_algorithm == "sha256" else None
    return (x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), False)
            .sign(key, algorithm).public_bytes(Encoding.PEM))


def write_csrs(folder, count, kind):
    """``count`` CSR files (``kind``: ``ec`` P-256 or ``mldsa`` ML-DSA-65)."""
    from cryptography.hazmat.primitives.asymmetric import ec, mldsa

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        cn = "host%05d.bench.example" % number
        if kind == "ec":
            data = csr_pem(ec.generate_private_key(ec.SECP256R1()), cn)
        else:
            data = csr_pem(mldsa.MLDSA65PrivateKey.generate(), cn, hash_algorithm=None)
        (folder / ("host%05d.csr" % number)).write_bytes(data)
    return sorted(folder.iterdir())


# ------------------------------------------------------------------ SoftHSM2

class SoftHsm:
    """A private SoftHSM2 token directory with one initialised token."""

    def __init__(self, workdir, label="Bench-Token", pin="246810", so_pin="13579135"):
        self.lib = next((lib for lib in SOFTHSM_LIBS if os.path.exists(lib)), None)
        self.workdir = Path(workdir)
        self.label, self.pin, self.so_pin = label, pin, so_pin
        self.conf = self.workdir / "softhsm2.conf"
        self.env = {"SOFTHSM2_CONF": str(self.conf), "HSM_PIN": pin}

    @property
    def available(self):
        return bool(self.lib and shutil.which("softhsm2-util") and shutil.which("pkcs11-tool"))

    def init(self):
        tokens = self.workdir / "tokens"
        tokens.mkdir(parents=True, exist_ok=True)
        self.conf.write_text("directories.tokendir = %s\nobjectstore.backend = file\n"
                             "log.level = ERROR\nslots.removable = false\n" % tokens)
        run(["softhsm2-util", "--init-token", "--free", "--label", self.label, "--pin", self.pin,
             "--so-pin", self.so_pin], env=self.env, check=True)
        os.environ.update(self.env)  # for python-pkcs11 and qpki's signer in this process
        return self

    def keygen(self, label, key_id, key_type="EC:prime256v1"):
        run(["pkcs11-tool", "--module", self.lib, "--token-label", self.label, "--login",
             "--pin", self.pin, "--keypairgen", "--key-type", key_type, "--label", label,
             "--id", key_id], env=self.env, check=True)

    def write_config(self, path):
        path = Path(path)
        path.write_text("type: pkcs11\npkcs11:\n  lib: %s\n  token: %s\n  pin_env: HSM_PIN\n"
                        % (self.lib, self.label))
        return path


def openssl_has(algorithm):
    """True when the openssl command line knows ``algorithm`` (e.g. ML-DSA-65)."""
    if not shutil.which("openssl"):
        return False
    proc = run(["openssl", "list", "-signature-algorithms"])
    return re.search(re.escape(algorithm), proc.stdout, re.I) is not None
