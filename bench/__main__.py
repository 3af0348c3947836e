"""Run the benchmarks: ``.venv/bin/python -m bench`` (or ``bash bench/run.sh``).

Prints each figure as it is measured, writes bench/results/<time>.json and
regenerates docs/PERFORMANCE.md. Sections: issuance (items 1-2), crl (4),
startup (5), playbook (3). ``--quick`` uses small sizes to check the bench
itself; its figures are not written to docs/PERFORMANCE.md.
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import common, report

SECTIONS = ("issuance", "crl", "startup", "playbook")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=SECTIONS,
                        help="run only this section (repeatable)")
    parser.add_argument("--skip", action="append", choices=SECTIONS, default=[],
                        help="leave this section out (repeatable)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (checks the bench; docs are not rewritten)")
    parser.add_argument("--certs", type=int, default=2000, help="ECDSA batch size (2000)")
    parser.add_argument("--ml-certs", type=int, default=1000, help="ML-DSA batch size (1000)")
    parser.add_argument("--crl-entries", type=int, default=100_000)
    parser.add_argument("--playbook-certs", type=int, default=50)
    parser.add_argument("--work", help="working directory (default: a new temp dir, removed)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite PERFORMANCE.md")
    args = parser.parse_args(argv)
    sections = [s for s in (args.only or SECTIONS) if s not in args.skip]
    if args.quick:
        args.certs, args.ml_certs, args.crl_entries, args.playbook_certs = 60, 20, 5000, 5
        args.no_docs = True

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="qpki-bench."))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = {"machine": common.machine(), "sections": sections, "quick": args.quick}
    m = results["machine"]
    print("qpki bench: %s, %s CPUs (%s), %s RAM, Python %s, cryptography %s, %s; load %s"
          % (m["date"], m["nproc"], m["cpu"], m["ram"], m["python"], m["cryptography"],
             m["openssl_cli"], m["load_1min_at_start"]), flush=True)

    def log(text):
        print(text, flush=True)

    try:
        if "issuance" in sections:
            from . import issuance

            log("[issuance]")
            results["issuance"] = issuance.run(work / "issuance", args.certs, args.ml_certs,
                                               log=log)
        if "crl" in sections:
            from . import crl

            log("[crl]")
            results["crl"] = crl.run(work / "crl", args.crl_entries, log=log)
        if "startup" in sections:
            from . import startup

            log("[startup]")
            cert = startup.any_certificate(work / "issuance")
            if cert is None:
                (work / "startup").mkdir(exist_ok=True)
                cert = _one_certificate(work / "startup")
            results["startup"] = startup.run(work / "startup", cert, log=log)
        if "playbook" in sections:
            from . import playbook

            log("[playbook]")
            results["playbook"] = playbook.run(work / "playbook", args.playbook_certs, log=log)
    finally:
        results["seconds"] = time.perf_counter() - started
        out = common.REPO / "bench" / "results"
        out.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        (out / ("%s.json" % stamp)).write_text(json.dumps(results, indent=2, default=str))
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    log("bench: %.0f s; results in bench/results/%s.json" % (results["seconds"], stamp))
    if not args.no_docs:
        if set(sections) != set(SECTIONS):
            log("(not all sections ran: docs/PERFORMANCE.md left as it is)")
        else:
            log("wrote %s" % report.write(results).relative_to(common.REPO))
    return 0


def _one_certificate(folder):
    common.qpki("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Startup", "--ca-dir",
                folder / "ca")
    csr = common.write_csrs(folder / "csr", 1, "ec")[0]
    common.qpki("cert", "issue", "--ca-dir", folder / "ca", "--profile", "ec/tls-server",
                "--csr", csr, "--out", folder / "leaf.crt")
    return folder / "leaf.crt"


if __name__ == "__main__":
    sys.exit(main())
