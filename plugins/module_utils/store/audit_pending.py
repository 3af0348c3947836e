"""``audit.pending``: the audit records of the operation in progress,
written before the operation changes anything (an intent journal).

An operation that changes the CA's state (issue, revoke, unhold, CRL) works
out its audit records first, writes them here (``fdatasync``), changes its
files, appends the records to ``audit.log`` and marks this file done. A
process killed anywhere in between leaves the records here, marked open;
the next operation on the CA (under the lock) appends those whose change
reached the disk (``ops.audit.journal.complete_pending``), so the log needs
no operator. Callers hold the CA lock. (Issue 15's single database
transaction replaces all this.)

Layout: one header line, then one JSON record per line::

    {"state":"open","count":2,"bytes":512,"sha256":"..."}

The file is overwritten in place, never truncated (truncating costs a
journal commit on ext4 at every operation), so old bytes may follow the
records: ``bytes`` says where they end and ``sha256`` proves they are the
ones written. A header or body that does not match was being written when
its process died, before any change: it is ignored. Marking done rewrites
the four bytes of ``open`` in place.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from ..errors import StoreError
from .atomic import fsync_dir

PENDING_NAME = "audit.pending"
_OPEN, _DONE = b"open", b"done"
_STATE_AT = len(b'{"state":"')


def pending_path(ca_dir: str | os.PathLike) -> str:
    return os.path.join(os.fspath(ca_dir), PENDING_NAME)


def _error(action: str, path: str, err: OSError) -> StoreError:
    return StoreError(f"cannot {action} {path}: {err.strerror or err}")


def write_pending(ca_dir: str | os.PathLike, records: list[dict[str, Any]]) -> None:
    """Make ``records`` the open pending records, durably."""
    path = pending_path(ca_dir)
    body = "".join(json.dumps(record, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False) + "\n" for record in records).encode("utf-8")
    header = (f'{{"state":"open","count":{len(records)},"bytes":{len(body)},'
              f'"sha256":"{hashlib.sha256(body).hexdigest()}"}}\n').encode("ascii")
    created = not os.path.exists(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            view, offset = memoryview(header + body), 0
            while offset < len(view):
                offset += os.pwrite(fd, view[offset:], offset)
            os.fdatasync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(os.path.dirname(path) or ".")
    except OSError as err:
        raise _error("write", path, err) from err


def read_pending(ca_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The open pending records, or [] when there are none (no file, marked
    done, or a file whose writing was interrupted)."""
    path = pending_path(ca_dir)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return []
    except OSError as err:
        raise _error("read", path, err) from err
    first, newline, rest = data.partition(b"\n")
    try:
        header = json.loads(first)
        if header.get("state") != _OPEN.decode():
            return []
        body = rest[:header["bytes"]]
        if len(body) != header["bytes"] or \
                hashlib.sha256(body).hexdigest() != header["sha256"]:
            return []
        records = [json.loads(line) for line in body.decode("utf-8").splitlines()]
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return []
    if len(records) != header.get("count") or not all(isinstance(r, dict) for r in records):
        return []
    return records


def clear_pending(ca_dir: str | os.PathLike) -> None:
    """Mark the pending records done (no sync: should the mark be lost, the
    next operation finds the records already in the log and appends
    nothing)."""
    path = pending_path(ca_dir)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    except OSError as err:
        raise _error("update", path, err) from err
    try:
        os.pwrite(fd, _DONE, _STATE_AT)
    except OSError as err:
        raise _error("update", path, err) from err
    finally:
        os.close(fd)
