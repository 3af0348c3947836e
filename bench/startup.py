"""Start-up (issue item 5): wall time of ``qpki --help`` and ``qpki cert
info``, and what each imports (no Ansible; PQC back ends only on demand)."""

import json
import statistics
import time
from pathlib import Path

from . import common

# Printed by a child process: the modules loaded after running the command.
PROBE = """
import contextlib, io, json, sys
sys.argv = ["qpki"] + json.loads(sys.argv[1])
from qpki.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
print(json.dumps(sorted(sys.modules)))
"""

HEAVY = {
    "ansible": lambda m: m == "ansible" or m.startswith("ansible."),
    "PQC back ends (pqcrypto, dilithium_py, slhdsa)":
        lambda m: m.split(".")[0] in ("pqcrypto", "dilithium_py", "slhdsa"),
    "python-pkcs11": lambda m: m == "pkcs11" or m.startswith("pkcs11."),
    "yaml": lambda m: m == "yaml" or m.startswith("yaml."),
    "pyasn1": lambda m: m.startswith("pyasn1"),
}


def _wall(argv, reps):
    times = []
    for dummy in range(reps):
        start = time.perf_counter()
        common.run(argv, check=True)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def _imports(args):
    proc = common.run([common.VENV_BIN / "python", "-c", PROBE, json.dumps(args)], check=True)
    modules = json.loads(proc.stdout.strip().splitlines()[-1])
    found = {name: sorted(m for m in modules if test(m)) for name, test in HEAVY.items()}
    return {"modules": len(modules),
            "qpki_modules": len([m for m in modules if m.startswith("qpki")]),
            "loaded": {name: len(mods) for name, mods in found.items()}}


def run(work, cert_path, reps=7, log=print):
    results = {}
    for label, args in (("qpki --help", ["--help"]),
                        ("qpki cert info", ["cert", "info", str(cert_path)])):
        best, median = _wall([common.QPKI, *args], reps)
        imports = _imports(args)
        results[label] = {"best_seconds": best, "median_seconds": median, **imports}
        loaded = ", ".join("%s %d" % (k, v) for k, v in imports["loaded"].items())
        log("  %s: %.3f s best, %.3f s median%s; %d modules (qpki %d); %s"
            % (label, best, median, " (target <= 0.25 s)" if "help" in label else "",
               imports["modules"], imports["qpki_modules"], loaded))
    python = _wall([common.VENV_BIN / "python", "-c", "pass"], reps)[0]
    results["python -c pass"] = {"best_seconds": python}
    log("  bare interpreter start: %.3f s" % python)
    return results


def any_certificate(work):
    """A certificate for ``cert info``: the first one the bench issued."""
    for path in sorted(Path(work).glob("out-*/*.crt")):
        return path
    return None
