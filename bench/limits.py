"""What this machine allows a batch, measured beside the batch figures.

* ``floor_rate``: the work no batch can skip (parse each CSR, check its
  signature, build and sign the certificate), one thread, no I/O;
* ``parallel_raw_rate``: the raw build + sign loop in one process per CPU
  at once, to show how far the CPUs really scale;
* ``file_create_us``: what creating a file costs in a directory, since a
  batch creates two per certificate (the CA's copy and the output copy);
* ``tmpfs_dir``: a scratch directory in memory, for the batch variant that
  takes the disk out of the figure.
"""

import os
import secrets
import shutil
import tempfile
import time

TMPFS = "/dev/shm"


class RawSigner:
    """Builds and signs a certificate like ``reference`` (same issuer,
    validity and extensions; fresh serial) with cryptography alone."""

    def __init__(self, reference, issuer, key, hash_algorithm):
        self.issuer_name = issuer.subject
        self.not_before = reference.not_valid_before_utc
        self.not_after = reference.not_valid_after_utc
        self.extensions = list(reference.extensions)
        self.key, self.hash_algorithm = key, hash_algorithm
        self.subject, self.public_key = reference.subject, reference.public_key()

    def sign(self, subject=None, public_key=None):
        from cryptography import x509

        builder = (x509.CertificateBuilder().subject_name(subject or self.subject)
                   .issuer_name(self.issuer_name)
                   .serial_number(secrets.randbits(158) | 1 << 158)
                   .not_valid_before(self.not_before).not_valid_after(self.not_after)
                   .public_key(public_key or self.public_key))
        for ext in self.extensions:
            builder = builder.add_extension(ext.value, ext.critical)
        return builder.sign(self.key, self.hash_algorithm)


def floor_rate(csr_files, raw, repeat=3):
    """Certificates per second for: load each CSR (already in memory), check
    its self-signature, then ``raw.sign`` (a RawSigner) with the CSR's
    subject and key. Best of ``repeat``."""
    from cryptography import x509

    pems = [open(path, "rb").read() for path in csr_files]
    walls = []
    for dummy in range(repeat):
        start = time.perf_counter()
        for pem in pems:
            csr = x509.load_pem_x509_csr(pem)
            if not csr.is_signature_valid:
                raise RuntimeError("bench CSR with a bad signature")
            raw.sign(csr.subject, csr.public_key())
        walls.append(time.perf_counter() - start)
    return len(pems) / min(walls)


def parallel_raw_rate(raw, count, processes=None):
    """Certificates per second of ``raw.sign()`` in a loop run by
    ``processes`` (default: one per CPU) forked processes at once, each
    making ``count``. Best of 3."""
    processes = processes or os.cpu_count() or 1
    walls = []
    for dummy in range(3):
        start = time.perf_counter()
        children = []
        for dummy in range(processes):
            pid = os.fork()
            if pid == 0:  # child: sign, then leave without running the parent's cleanup
                code = 0
                try:
                    for dummy in range(count):
                        raw.sign()
                except BaseException:  # noqa: B036 - a child must never return
                    code = 1
                os._exit(code)
            children.append(pid)
        failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
        if failed:
            raise RuntimeError("a raw signing process failed")
        walls.append(time.perf_counter() - start)
    return processes * count / min(walls)


def file_create_us(folder, count=1000):
    """Microseconds to create (and close) one small file in a new directory
    under ``folder``; median of three rounds of ``count`` files."""
    rounds = []
    for dummy in range(3):
        scratch = tempfile.mkdtemp(prefix="create.", dir=folder)
        try:
            start = time.perf_counter()
            for number in range(count):
                handle = os.open(os.path.join(scratch, "%05d.crt" % number),
                                 os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                os.write(handle, b"x" * 800)
                os.close(handle)
            rounds.append((time.perf_counter() - start) / count * 1e6)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return sorted(rounds)[1]


def tmpfs_dir():
    """A new directory on tmpfs, or None when this machine has none."""
    try:
        with open("/proc/mounts") as mounts:
            kinds = {line.split()[1]: line.split()[2] for line in mounts if line.count(" ") >= 3}
    except OSError:
        return None
    if kinds.get(TMPFS) != "tmpfs" or not os.access(TMPFS, os.W_OK):
        return None
    return tempfile.mkdtemp(prefix="qpki-bench.", dir=TMPFS)
