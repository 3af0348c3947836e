"""Cost per operation on a CA that holds many certificates (issue 15, item 5).

Two EC P-256 issuing CAs (software keys) side by side: ``empty`` has issued
a handful of certificates, ``full`` has issued ``--certs`` (1,000,000 by
default) with the batch command, in batches of ``--chunk``, from a
directory of hard links to a few real CSRs (every certificate is signed,
recorded, filed and audited; only the CSR files repeat). Then, taking turns
between the two CAs so that the machine's drift hits both alike, each in
its own ``qpki`` process, the median of ``--reps`` runs of:

- ``cert issue`` (one certificate),
- ``cert revoke`` (one certificate),
- ``crl gen`` with the same number of revoked certificates in both CAs
  (so its cost can only differ by the number issued),
- ``cert list --expiring 30d``, and on the full CA ``cert list --status
  revoked``.

Prints each ratio full/empty and the bytes on disk per certificate
(``ca.db``, ``index.txt``, ``certs/``, ``audit.log``).

    .venv/bin/python -m bench.store_scale --certs 1000000 --work /var/tmp/scale
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

from . import common

DISTINCT_CSRS = 64


def _ca(work: Path, name: str) -> Path:
    root = work / f"{name}-root"
    ca = work / name
    common.qpki("ca", "init", "--profile", "ec/root-ca", "--var", f"cn=Scale {name} Root",
                "--ca-dir", root, "--unencrypted-key")
    common.qpki("ca", "init", "--profile", "ec/issuing-ca", "--var", f"cn=Scale {name} CA",
                "--ca-dir", ca, "--parent", root, "--unencrypted-key")
    return ca


def _csr_links(work: Path, count: int) -> Path:
    """A directory of ``count`` CSR files: hard links to DISTINCT_CSRS real ones."""
    sources = common.write_csrs(work / "csr-sources", DISTINCT_CSRS, "ec")
    folder = work / f"csr-links-{count}"
    if folder.exists():
        return folder
    folder.mkdir()
    for number in range(count):
        os.link(sources[number % DISTINCT_CSRS], folder / f"c{number:07d}.csr")
    return folder


def fill(ca: Path, work: Path, total: int, chunk: int, log=print) -> float:
    """Issue ``total`` certificates with the batch command; returns the rate."""
    folder = _csr_links(work, min(chunk, total))
    done, started = 0, time.monotonic()
    while done < total:
        size = min(chunk, total - done)
        if size != min(chunk, total):
            folder = _csr_links(work, size)
        common.qpki("cert", "issue", "--ca-dir", ca, "--profile", "ec/tls-server",
                    "--csr-dir", folder)
        done += size
        elapsed = time.monotonic() - started
        log(f"  filled {done}/{total} ({done / elapsed:.0f}/s)")
    return total / (time.monotonic() - started)


def _timed(argv: list) -> float:
    started = time.monotonic()
    common.run([str(a) for a in argv], check=True)
    return time.monotonic() - started


def _issued_serials(ca: Path, count: int, status: str = "valid") -> list[str]:
    listed = json.loads(common.qpki("cert", "list", "--ca-dir", ca, "--status", status,
                                    "--json").stdout)
    return [c["serial"] for c in listed["certificates"][:count]]


def _disk_bytes(ca: Path) -> dict[str, int]:
    sizes = {"ca.db": sum(p.stat().st_size for p in ca.glob("ca.db*")),
             "index.txt": (ca / "index.txt").stat().st_size,
             "audit.log": (ca / "audit.log").stat().st_size}
    blocks = 0
    with os.scandir(ca / "certs") as entries:
        for entry in entries:
            blocks += entry.stat().st_blocks * 512
    sizes["certs/ (allocated)"] = blocks
    return sizes


def run(work: Path, certs: int, chunk: int, reps: int, log=print) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    empty, full = _ca(work, "empty"), _ca(work, "full")
    csr = work / "one.csr"
    shutil.copy(_csr_links(work, 1) / "c0000000.csr", csr)
    log(f"store: issuing {certs} certificates into {full} (batch command, chunks of {chunk})")
    rate = fill(full, work, certs, chunk, log)
    fill(empty, work, reps * 2 + 8, chunk, log=lambda *a: None)
    # The same number of revoked certificates in both, for crl gen.
    for ca in (empty, full):
        for serial in _issued_serials(ca, 5):
            common.qpki("cert", "revoke", serial, "--ca-dir", ca)
    times: dict[str, dict[str, list[float]]] = {}
    victims = {ca: _issued_serials(ca, reps) for ca in (empty, full)}
    for rep in range(reps):
        for ca in (empty, full) if rep % 2 == 0 else (full, empty):
            name = ca.name
            record = times.setdefault(name, {})
            record.setdefault("cert issue", []).append(_timed(
                [common.QPKI, "cert", "issue", "--ca-dir", ca, "--profile", "ec/tls-server",
                 "--csr", csr]))
            record.setdefault("cert revoke", []).append(_timed(
                [common.QPKI, "cert", "revoke", victims[ca][rep], "--ca-dir", ca]))
            record.setdefault("crl gen", []).append(_timed(
                [common.QPKI, "crl", "gen", "--ca-dir", ca]))
            record.setdefault("cert list --expiring 30d", []).append(_timed(
                [common.QPKI, "cert", "list", "--ca-dir", ca, "--expiring", "30d"]))
    medians = {name: {op: statistics.median(values) for op, values in ops.items()}
               for name, ops in times.items()}
    ratios = {op: medians["full"][op] / medians["empty"][op] for op in medians["full"]}
    revoked_list = _timed([common.QPKI, "cert", "list", "--ca-dir", full, "--status", "revoked"])
    disk = _disk_bytes(full)
    per_cert = {name: size / certs for name, size in disk.items()}
    log(f"  batch fill: {rate:.0f} certificates/s")
    for op, ratio in ratios.items():
        log(f"  {op}: empty {medians['empty'][op]:.3f} s, full {medians['full'][op]:.3f} s, "
            f"ratio {ratio:.2f}x")
    log(f"  cert list --status revoked on the full CA: {revoked_list:.3f} s")
    log("  bytes per certificate: " + ", ".join(f"{k} {v:.0f}" for k, v in per_cert.items()))
    return {"certs": certs, "fill_rate": rate, "medians": medians, "ratios": ratios,
            "revoked_list_seconds": revoked_list, "bytes_per_cert": per_cert, "reps": reps}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.store_scale",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--certs", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--work", required=True, help="working directory (kept)")
    args = parser.parse_args(argv)
    print(json.dumps(common.machine()))
    result = run(Path(args.work), args.certs, args.chunk, args.reps)
    out = common.REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"store-scale-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
