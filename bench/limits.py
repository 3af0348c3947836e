"""What this machine allows a batch, measured beside the batch figures.

* ``raw_rate``: cryptography building and signing a certificate in a loop,
  one thread, no I/O (the issue's "raw" figure);
* ``floor_rate``: the work no batch can skip (parse each CSR, check its
  signature, build and sign the certificate), one thread, no I/O;
* ``parallel_raw_rate``: the raw loop in one process per CPU at once, to
  show how far the CPUs really scale;
* ``interleaved``: runs such measures in turn, round after round;
* ``file_create_us``: what creating a file costs in a directory, since a
  batch creates two per certificate (the CA's copy and the output copy);
* ``tmpfs_dir``: a scratch directory in memory, for the batch variant that
  takes the disk out of the figure.
"""

import os
import tempfile
import time

from qpki.store.serials import new_serial

TMPFS = "/dev/shm"

KEEP_FILES = """The bench removes no file of its work directory while it measures, only
at the end, with the directory. On ext4 without a journal (this machine's
disk) a new file is not given the inode of a file deleted in the last
seconds (minutes while the inode table is not written out): to create a
file the kernel reads every such inode of the directory's block group
before it takes a free one. Removing a batch's thousands of output files
right before the next batch made each file that batch created cost several
times more CPU (kernel time) than on a quiet disk: a cost of the bench's
clean-up, not of issuing. Other programs removing many files on the same
disk raise it too, which is why the Machine table gives the cost of
creating a file in the work directory."""


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
                   .serial_number(new_serial())
                   .not_valid_before(self.not_before).not_valid_after(self.not_after)
                   .public_key(public_key or self.public_key))
        for ext in self.extensions:
            builder = builder.add_extension(ext.value, ext.critical)
        return builder.sign(self.key, self.hash_algorithm)


def raw_rate(raw, count):
    """``raw.sign()`` (a RawSigner) ``count`` times in a loop: certificates
    per second, in wall and in CPU time."""
    start, cpu = time.perf_counter(), time.process_time()
    for dummy in range(count):
        raw.sign()
    return {"rate": count / (time.perf_counter() - start),
            "rate_cpu": count / (time.process_time() - cpu)}


def floor_rate(pems, raw):
    """Certificates per second for: load each CSR of ``pems`` (in memory),
    check its self-signature, then ``raw.sign`` with the CSR's subject and
    key."""
    from cryptography import x509

    start, cpu = time.perf_counter(), time.process_time()
    for pem in pems:
        csr = x509.load_pem_x509_csr(pem)
        if not csr.is_signature_valid:
            raise RuntimeError("bench CSR with a bad signature")
        raw.sign(csr.subject, csr.public_key())
    return {"rate": len(pems) / (time.perf_counter() - start),
            "rate_cpu": len(pems) / (time.process_time() - cpu)}


def parallel_raw_rate(raw, count, processes):
    """Certificates per second of ``raw.sign()`` in a loop run by
    ``processes`` forked processes at once, each making ``count``."""
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
    if any(os.waitpid(pid, 0)[1] != 0 for pid in children):
        raise RuntimeError("a raw signing process failed")
    return {"rate": processes * count / (time.perf_counter() - start)}


def interleaved(measures, rounds=3):
    """Run each of ``measures`` (name -> callable returning a dict of
    figures) once per round, in turn, ``rounds`` times, and keep the best
    of each figure: every measure then sees the same moments of a machine
    whose speed drifts, which is what makes their ratios fair. Figures
    named ``rate*`` keep their highest value, the others their last."""
    best = {}
    for dummy in range(rounds):
        for name, measure in measures.items():
            kept = best.setdefault(name, {})
            for key, value in measure().items():
                if not key.startswith("rate") or value > kept.get(key, 0):
                    kept[key] = value
    return best


def file_create_us(folder, count=1000):
    """Microseconds to create (and close) one small file in a new directory
    under ``folder``; median of three rounds of ``count`` files. The files
    stay: the caller removes ``folder`` at the end (``KEEP_FILES``)."""
    rounds = []
    for dummy in range(3):
        scratch = tempfile.mkdtemp(prefix="create.", dir=folder)
        start = time.perf_counter()
        for number in range(count):
            handle = os.open(os.path.join(scratch, "%05d.crt" % number),
                             os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            os.write(handle, b"x" * 800)
            os.close(handle)
        rounds.append((time.perf_counter() - start) / count * 1e6)
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
