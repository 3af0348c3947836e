"""Results of audit start and audit verify (a CA's log or a credential's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..result import Result, Verdict


@dataclass
class AuditStarted(Result):
    """The log begun by audit start: its first record and one per thing recovered."""

    changed: bool
    path: str
    records: int
    recovered: int


@dataclass
class AuditVerdict(Verdict):
    """An audit log checked line by line and against the state it records;
    ``line`` is where the chain breaks (None when it does not)."""

    changed: bool
    valid: bool
    reason: str
    line: int | None
    records: int
    head: dict[str, Any]
    problems: list[str]
    path: str
