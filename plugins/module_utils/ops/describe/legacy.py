"""How verify commands report the legacy (pre-draft-13) composite form and
other non-standard encodings read from other tools.

Every verification result carries ``legacy_composite`` (one line per object
in that form, empty when none) and ``strict``; a request's also carries
``non_standard`` (QPKI's catalyst attributes, BER that is not DER). By
default an object that verifies under its own construction is valid and
named there; with ``strict`` any of them makes the verification fail
(exit code 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LegacyVerdict:
    """A verification's outcome once the findings are judged: ``valid`` and
    ``reason`` as the result reports them, ``legacy_composite`` the legacy
    findings without repeats."""

    valid: bool
    reason: str
    legacy_composite: list[str]


def legacy_verdict(valid: bool, reason: str, legacy: Sequence[str], strict: bool,
                   non_standard: Sequence[str] = ()) -> LegacyVerdict:
    """The outcome of a verification (``valid``, ``reason``) with its
    findings and, under ``strict``, a failure when there are any."""
    found = list(dict.fromkeys(legacy))
    refused = found + list(non_standard)
    if strict and refused and valid:
        return LegacyVerdict(False, f"refused by --strict: {refused[0]}", found)
    return LegacyVerdict(valid, reason, found)
