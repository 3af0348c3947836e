"""Human-readable output of command results.

The console script writes through :func:`emit` (``sys.stdout.write``) rather
than ``print``: these files sit in the collection's module_utils, where
Ansible's sanity tests reserve ``print`` for debugging.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, cast

from ..display_text import escape_text
from ..ops.result import Listing, Pem, Result, Verdict

if TYPE_CHECKING:  # the one Listing; not imported to print other results
    from ..ops.cert.results import CertList

HIDDEN = ("changed", "pem")


def emit(text: str, stream: Any = None) -> None:
    """Write ``text`` and a newline to ``stream`` (standard output by default)."""
    (stream or sys.stdout).write(f"{text}\n")


def _scalar(value: Any) -> str:
    """One value as display text; strings from input are escaped."""
    if isinstance(value, str) and value:
        return escape_text(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == [] or value == {}:
        return "-"
    return escape_text(str(value))


def _entry(label: str, value: Any, indent: str, out: list[str]) -> None:
    """``label: value``, or ``label:`` and the nested lines of a dict or list."""
    if isinstance(value, (dict, list)) and value:
        out.append(f"{indent}{label}:")
        _block(value, indent + "  ", out)
    else:
        out.append(f"{indent}{label}: {_scalar(value)}")


def _extension(ext: dict, indent: str, out: list[str]) -> None:
    """``name (oid[, critical])`` and what the extension holds."""
    name, oid = _scalar(ext.get("name")), _scalar(ext.get("oid"))
    flags = ([oid] if oid != name else []) + (["critical"] if ext.get("critical") else [])
    label = f"{name} ({', '.join(flags)})" if flags else name
    if ext.get("value") is None:
        out.append(f"{indent}{label}")
    else:
        _entry(label, ext["value"], indent, out)


# Mappings whose keys are names the user types (profile variables): shown as
# they are, not turned into words.
_NAMES_AS_GIVEN = ("variables",)


def _block(value: Any, indent: str, out: list[str]) -> None:
    """Append the lines of a dict (``key: value``) or a list (``- item``),
    YAML-like, to ``out``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "extensions" and isinstance(item, list) and item:
                out.append(f"{indent}extensions:")
                for ext in item:
                    _extension(ext, indent + "  ", out)
            elif key in _NAMES_AS_GIVEN and isinstance(item, dict) and item:
                out.append(f"{indent}{_scalar(key)}:")
                for name, spec in item.items():
                    _entry(_scalar(name), spec, indent + "  ", out)
            else:
                _entry(_scalar(key).replace("_", " "), item, indent, out)
        return
    for item in value:
        if isinstance(item, (dict, list)) and item:
            first = len(out)
            _block(item, indent + "  ", out)
            out[first] = f"{indent}- {out[first][len(indent) + 2:]}"
        else:
            out.append(f"{indent}- {_scalar(item)}")


def render(result: Result, data: dict[str, Any] | None = None) -> None:
    """Print ``result`` by its type (``data``: its ``to_dict()`` when the
    caller has it already)."""
    if isinstance(result, Listing):
        _cert_list(cast("CertList", result))
    elif isinstance(result, Pem) and not result.paths:
        sys.stdout.write(result.pem)
    elif isinstance(result, Verdict):
        _verdict(result.to_dict() if data is None else data)
    else:
        _fields(result.to_dict() if data is None else data)


def _fields(result: dict) -> None:
    shown = {key: value for key, value in result.items() if key not in HIDDEN}
    lines: list[str] = []
    _block(shown, "", lines)
    if lines:  # one write: a CRL's 100,000 entries are some 300,000 lines
        sys.stdout.write("\n".join(lines) + "\n")


def _verdict(result: dict) -> None:
    """OK or FAILED with the reason, then the findings."""
    reason = result.get("reason") or ""
    verdict = "OK" if result["valid"] else "FAILED"
    emit(f"{verdict}: {_scalar(reason)}" if reason and reason not in ("ok", "valid")
         else verdict)
    for line in result.get("legacy_composite") or []:
        emit(f"  legacy: {_scalar(line)}")
    for line in result.get("non_standard") or []:
        emit(f"  non-standard: {_scalar(line)}")
    repaired, problems = result.get("repaired") or [], result.get("problems") or []
    for item in repaired + (problems if len(problems) > 1 else []):  # ca check
        emit(f"  {'repaired' if item in repaired else 'problem'}: {_scalar(item)}")


def _cert_list(result: CertList) -> None:
    """One line per certificate (serial, status, expiry, subject), then the count."""
    for item in result.certificates:
        emit(f"{item.serial}  {item.status:<7}  {item.not_after}  {_scalar(item.subject)}")
    emit(f"{result.count} certificate(s)")
