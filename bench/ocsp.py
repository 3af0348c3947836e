"""OCSP responder throughput and latency, qpki against openssl (issue 16, item 6).

One EC issuing CA whose database holds ``--entries`` entries (recorded like
the CRL bench's, plus one real certificate that is asked about) and one
delegated responder credential. qpki answers from the CA's database,
openssl from its index.txt (made from that database), on 127.0.0.1, one
after the other, to the
same client: ``--threads`` threads POSTing the same DER request
``--requests`` times in all. Printed: responses per second, median and
p99 latency, and the ratios qpki / openssl.

    .venv/bin/python -m bench.ocsp [--entries 100000] [--requests 2000] [--threads 4]

openssl ocsp answers one connection at a time in one process; qpki ocsp
serve uses waitress with 4 threads (the GIL lets one of them run Python at
a time). openssl reads the index once (again when it changes); qpki looks
each serial up in the database, so a revocation is seen at once.
"""

import argparse
import json
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from . import common
from .crl import fill_store


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url, request, proc, timeout=60):
    """Until the responder answers a real request (a bare connect would hold
    openssl's one-connection-at-a-time loop forever)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("responder exited with %s" % proc.returncode)
        try:
            _post(url, request, 2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("responder did not start")


def _post(url, request, timeout):
    req = urllib.request.Request(url, data=request,
                                 headers={"Content-Type": "application/ocsp-request"})
    with urllib.request.urlopen(req, timeout=timeout) as answer:
        return answer.read()


def _load(url, request, total, threads):
    """(latencies in seconds, wall seconds, failures) of ``total`` POSTs."""
    latencies, failures = [], []
    lock = threading.Lock()
    share = [total // threads + (1 if n < total % threads else 0) for n in range(threads)]

    def client(count):
        for dummy in range(count):
            start = time.perf_counter()
            try:
                _post(url, request, 30)
                with lock:
                    latencies.append(time.perf_counter() - start)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    failures.append(repr(exc))

    workers = [threading.Thread(target=client, args=(n,)) for n in share]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies, time.perf_counter() - start, failures


def _summary(name, latencies, wall, failures, total):
    ordered = sorted(latencies)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] if ordered else float("nan")
    return {"name": name, "requests": total, "ok": len(latencies), "failed": len(failures),
            "per_second": len(latencies) / wall if wall else 0.0,
            "median_ms": statistics.median(ordered) * 1000 if ordered else float("nan"),
            "p99_ms": p99 * 1000}


def run(work, entries=100_000, requests=2000, threads=4, log=print):
    work = Path(work)
    ca = work / "ocsp-ca"
    common.qpki("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Bench OCSP CA",
                "--ca-dir", ca)
    made = json.loads(common.qpki("credential", "enroll", "--ca-dir", ca, "--cred-dir",
                                  work / "responders", "--profile", "ec/ocsp-responder",
                                  "--var", "cn=Bench OCSP Responder", "--json").stdout)
    responder = work / "responders" / made["id"]
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    (work / "leaf.csr").write_bytes(common.csr_pem(key, "leaf.bench.example"))
    common.qpki("cert", "issue", "--ca-dir", ca, "--profile", "ec/tls-server", "--csr",
                work / "leaf.csr", "--var", "cn=leaf.bench.example", "--out", work / "leaf.crt")
    log("ocsp: recording %d entries (not timed)" % entries)
    fill_store(ca, entries)
    common.run(["openssl", "ocsp", "-issuer", ca / "ca.crt", "-cert", work / "leaf.crt",
                "-no_nonce", "-reqout", work / "req.der"], check=True)
    request = (work / "req.der").read_bytes()
    responder_key = next(p for p in responder.glob("*.key"))
    responder_cert = next(p for p in responder.glob("signature.*.crt"))
    results = []
    for name in ("qpki", "openssl"):
        port = _free_port()
        if name == "qpki":
            argv = [common.QPKI, "ocsp", "serve", "--ca-dir", ca, "--responder", responder,
                    "--listen", "127.0.0.1:%d" % port]
        else:
            argv = ["openssl", "ocsp", "-index", ca / "index.txt", "-port", str(port),
                    "-rsigner", responder_cert, "-rkey", responder_key, "-CA", ca / "ca.crt", "-ignore_err"]
        # A file, not a pipe: openssl logs every request and would block on a full pipe.
        errors = open(work / ("%s.log" % name), "w+b")
        proc = subprocess.Popen([str(a) for a in argv], stdout=subprocess.DEVNULL,
                                stderr=errors)
        try:
            url = "http://127.0.0.1:%d/" % port
            _wait_ready(url, request, proc)
            _load(url, request, min(50, requests), threads)  # warm-up, not counted
            latencies, wall, failures = _load(url, request, requests, threads)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            errors.close()
        summary = _summary(name, latencies, wall, failures, requests)
        results.append(summary)
        log("  %-7s %7.1f responses/s, median %6.1f ms, p99 %6.1f ms, %d failed"
            % (name, summary["per_second"], summary["median_ms"], summary["p99_ms"],
               summary["failed"]))
    ours, theirs = results
    ratios = (ours["per_second"] / theirs["per_second"], ours["p99_ms"] / theirs["p99_ms"])
    log("  ratio qpki/openssl: throughput %.2fx, p99 latency %.2fx (entries %d, %d requests, "
        "%d client threads)" % (ratios + (entries, requests, threads)))
    return {"entries": entries, "threads": threads, "results": results}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.ocsp",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qpki-bench-ocsp-") as work:
        print(common.machine())
        run(work, args.entries, args.requests, args.threads)


if __name__ == "__main__":
    main()
