"""What ca check found: problems, repairs (with --repair) and notes, as a CaCheck."""

from __future__ import annotations

import os
from typing import Callable

from ....errors import QpkiError
from ..results import CaCheck


class Report:
    """Problems found, repairs made (``repair``: a problem with a fix is
    fixed now) and notes."""

    def __init__(self, repair: bool) -> None:
        self.repair = repair
        self.problems: list[str] = []   # still wrong after this run
        self.repaired: list[str] = []   # were wrong, fixed now
        self.notes: list[str] = []      # informational

    def problem(self, message: str, fix: Callable[[], object] | None = None) -> None:
        """Record a problem; with --repair and a ``fix`` callable, fix it."""
        if self.repair and fix is not None:
            try:
                fix()
            except (QpkiError, OSError) as exc:
                self.problems.append("%s (repair failed: %s)" % (message, exc))
                return
            self.repaired.append(message)
        else:
            self.problems.append(message + (" [repairable]" if fix is not None else ""))

    def result(self, ca_path: str | os.PathLike) -> CaCheck:
        valid = not self.problems
        if not valid:
            reason = self.problems[0]
            if len(self.problems) > 1:
                reason += " (and %d more)" % (len(self.problems) - 1)
        elif self.repaired:
            reason = "ok after %d repair(s)" % len(self.repaired)
        else:
            reason = "ok"
        return CaCheck(changed=bool(self.repaired), valid=valid, reason=reason,
                       ca_dir=os.fspath(ca_path), problems=self.problems,
                       repaired=self.repaired, notes=self.notes)
