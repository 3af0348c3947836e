"""Invariants 6 and 9: orphan temporary files, and staging directories a
killed ``ca init`` left beside the CA; files set aside by a repair."""

from __future__ import annotations

import os
import shutil
import time
from functools import partial
from pathlib import Path

from ....store.atomic import is_temp_name
from ....store.ca_dir import CaDir
from .report import Report


def temp_files(directory: str | os.PathLike, report: Report) -> None:
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return
    for name in names:
        if is_temp_name(name):
            path = os.path.join(directory, name)
            report.problem("orphan temporary file %s (from an interrupted write)" % path,
                           partial(_unlink, path))


def set_aside(path: Path, suffix: str) -> None:
    """Rename a file that is not what its name says, keeping it for a human."""
    os.replace(path, str(path) + suffix)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def staging_leftovers(ca: CaDir, report: Report, stale_age: float) -> list[str]:
    """``.<name>.init-*`` directories ``ca init`` left beside the CA."""
    parent = os.path.dirname(os.path.abspath(ca.path)) or "."
    prefix = ".%s.init-" % os.path.basename(os.path.abspath(ca.path))
    try:
        names = sorted(n for n in os.listdir(parent) if n.startswith(prefix))
    except OSError:
        return []
    found = []
    for name in names:
        path = os.path.join(parent, name)
        if not os.path.isdir(path) or os.path.islink(path):
            continue
        found.append(path)
        age = time.time() - os.lstat(path).st_mtime
        fix = partial(shutil.rmtree, path) if age >= stale_age else None
        message = "leftover staging directory %s from an interrupted ca init" % path
        if fix is None:
            message += " (younger than %gs: it may belong to a running ca init)" % stale_age
        report.problem(message, fix)
    return found
