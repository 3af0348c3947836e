"""Time per x509-limbo case: ``.venv/bin/python -m bench.limbo [--cli] [--rounds N]``.

Judges every case of tests/vectors/x509-limbo in this process, with the
"auto" engine (what `qpki cert verify` does) and with our own engine forced
("qpki", what PQC and hybrid chains get), best of --rounds (default 3),
after one untimed pass that loads what the first verification imports.
With --cli it also times one `qpki cert verify` subprocess per case (start-up
included). Prints the agreement, the slowest cases and the maximum, and
writes bench/results/limbo-<time>.json. The goal: every case under 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from . import common

sys.path.insert(0, str(common.REPO / "tests"))
from limbo_cases import DISAGREEMENTS, cases, cli_arguments, question  # noqa: E402

GOAL_SECONDS = 1.0


def _judge(limbo_case: dict, engine: str) -> bool:
    from qpki.ops.cert.verify import verify_chain

    asked = question(limbo_case)
    return verify_chain(asked.leaf, asked.trusted, asked.untrusted or None, asked.crls,
                        at=asked.at, purpose=asked.purpose, host=asked.host, ip=asked.ip,
                        max_depth=8 if asked.max_depth is None else asked.max_depth,
                        web_pki=asked.web_pki, engine=engine).valid


def in_process(engine: str, rounds: int) -> dict[str, tuple[float, bool]]:
    timings = {}
    for limbo_case in cases():
        _judge(limbo_case, engine)  # untimed: first imports
        best = None
        for _round in range(rounds):
            start = time.perf_counter()
            valid = _judge(limbo_case, engine)
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
        timings[limbo_case["id"]] = (best, valid)
    return timings


def through_cli() -> dict[str, tuple[float, bool]]:
    timings = {}
    with tempfile.TemporaryDirectory() as folder:
        for limbo_case in cases():
            argv = [common.QPKI, *cli_arguments(question(limbo_case), Path(folder))]
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            timings[limbo_case["id"]] = (time.perf_counter() - start, done.returncode == 0)
    return timings


def summary(name: str, timings: dict[str, tuple[float, bool]]) -> dict:
    agree = as_listed = 0
    for limbo_case in cases():
        expected = limbo_case["expected_result"] == "SUCCESS"
        valid = timings[limbo_case["id"]][1]
        agree += valid is expected
        as_listed += valid is (expected != (limbo_case["id"] in DISAGREEMENTS))
    seconds = sorted(((t, case_id) for case_id, (t, _valid) in timings.items()), reverse=True)
    result = {"agree_with_suite": agree, "as_listed": as_listed, "cases": len(timings),
              "max_seconds": round(seconds[0][0], 4), "max_case": seconds[0][1],
              "median_seconds": round(statistics.median(t for t, _case in seconds), 5),
              "total_seconds": round(sum(t for t, _case in seconds), 3),
              "slowest": [[case_id, round(t, 4)] for t, case_id in seconds[:5]],
              "over_goal": [case_id for t, case_id in seconds if t >= GOAL_SECONDS]}
    print(f"{name:>12}: agrees with the suite on {result['agree_with_suite']}/{len(timings)}"
          f" (as listed in limbo_cases: {as_listed}); max {result['max_seconds']:.3f} s "
          f"({result['max_case']}), median {result['median_seconds'] * 1000:.2f} ms, "
          f"total {result['total_seconds']:.2f} s; over {GOAL_SECONDS:.0f} s: "
          f"{len(result['over_goal'])}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.limbo",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cli", action="store_true", help="also one qpki process per case")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # the suite's zero and negative serials
    report = {"machine": common.machine(), "goal_seconds": GOAL_SECONDS}
    for engine in ("auto", "qpki"):
        report[engine] = summary(engine, in_process(engine, args.rounds))
    if args.cli:
        report["cli"] = summary("cli", through_cli())
    out = common.REPO / "bench" / "results" / f"limbo-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {out}")
    return 1 if any(report[k]["over_goal"] for k in report if k not in ("machine",
                                                                        "goal_seconds")) else 0


if __name__ == "__main__":
    raise SystemExit(main())
