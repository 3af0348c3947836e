"""``audit.pending``: the audit records of the operation in progress,
written before the operation changes anything (an intent journal).

An operation that changes the CA's state (issue, revoke, unhold, CRL) works
out its audit records first, writes them here (one JSON header line with
their count, then one line per record, ``fsync``), changes its files, appends
the records to ``audit.log`` and empties this file. A process killed
anywhere in between leaves the records here; the next operation on the CA
(under the lock) appends those whose change reached the disk
(``ops.audit_journal.complete_pending``), so the log needs no operator.

A file whose header does not match its lines was being written when its
process died, before any change: it is ignored. The file is emptied rather
than removed, so no directory change is made per operation. Callers hold
the CA lock. (Issue 15's single database transaction replaces all this.)
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..errors import StoreError

PENDING_NAME = "audit.pending"


def pending_path(ca_dir: str | os.PathLike) -> str:
    return os.path.join(os.fspath(ca_dir), PENDING_NAME)


def write_pending(ca_dir: str | os.PathLike, records: list[dict[str, Any]]) -> None:
    """Replace the pending records with ``records``, durably (``fsync``)."""
    path = pending_path(ca_dir)
    lines = [json.dumps({"pending": len(records)}, separators=(",", ":"))]
    lines += [json.dumps(record, separators=(",", ":"), ensure_ascii=False,
                         allow_nan=False) for record in records]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as err:
        raise StoreError(f"cannot write {path}: {err.strerror or err}") from err


def read_pending(ca_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The pending records, or [] when there are none (no file, empty, or
    a file whose writing was interrupted)."""
    path = pending_path(ca_dir)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return []
    except OSError as err:
        raise StoreError(f"cannot read {path}: {err.strerror or err}") from err
    if not data.endswith(b"\n"):
        return []
    try:
        header, *records = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(header, dict) or header.get("pending") != len(records) \
            or not all(isinstance(record, dict) for record in records):
        return []
    return records


def clear_pending(ca_dir: str | os.PathLike) -> None:
    """Empty the file (no ``fsync``: should the emptying be lost, the next
    operation finds the records already in the log and appends nothing)."""
    path = pending_path(ca_dir)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    except OSError as err:
        raise StoreError(f"cannot empty {path}: {err.strerror or err}") from err
    try:
        os.ftruncate(fd, 0)
    except OSError as err:
        raise StoreError(f"cannot empty {path}: {err.strerror or err}") from err
    finally:
        os.close(fd)
