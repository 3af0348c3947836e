"""The audit log of a CA directory: ``audit.log``, one JSON object per line,
hash-chained.

Every record holds ``seq`` (1, 2, 3... in file order), ``time`` (RFC 3339
UTC), ``op`` (``ca.init``, ``cert.issue``, ``cert.revoke``, ``crl.gen``,
``audit.recover``...), the operation's own fields (serial, subject,
profile, keys...), ``prev`` and ``hash``:

- ``prev`` is the ``hash`` of the line before (64 zeros for line 1);
- ``hash`` is the SHA-256 (hex) of the record's canonical JSON without the
  ``hash`` member: keys sorted, no whitespace, UTF-8. ``prev`` is inside
  what is hashed, which is what chains the lines together.

A line is written as the compact JSON of the record, fields in the order
they were given, ``prev`` and ``hash`` last. Editing any line breaks its
hash; deleting or inserting one breaks the ``seq``/``prev`` of the next.
Removing lines at the end is only visible against something outside the
log (the CA's index and CRL, or an anchor the operator kept): see
``ops.audit.trail``.

Appends happen under the CA lock (callers hold it), with ``O_APPEND`` and
one ``write`` per record followed by ``fsync``. A record is never rewritten
by this module; the only non-append change is ``drop_incomplete_tail``, a
deliberate repair step.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping

from ..errors import StoreError
from .atomic import StrPath, fsync_dir

AUDIT_NAME = "audit.log"
# The operations a record names in its "op" member.
ISSUE, REVOKE, UNHOLD, CRL, INIT, INSTALL, RECOVER, REPAIR = (
    "cert.issue", "cert.revoke", "cert.unhold", "crl.gen", "ca.init", "ca.install",
    "audit.recover", "audit.repair")
ROTATE, ACTIVATE = "ca.rotate", "ca.activate"
GENESIS = "0" * 64
TAIL_CHUNK = 65536


def audit_path(ca_dir: StrPath) -> str:
    return os.path.join(os.fspath(ca_dir), AUDIT_NAME)


# The encoders of json.dumps with these options, made once (json.dumps
# builds a new encoder at each call when given options).
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False, allow_nan=False)
_LINE_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_bytes(record: Mapping[str, object]) -> bytes:
    """The bytes that are hashed: sorted keys, no whitespace, UTF-8."""
    body = {k: v for k, v in record.items() if k != "hash"} if "hash" in record else record
    return _CANONICAL_JSON.encode(body).encode("utf-8")


def record_hash(record: Mapping[str, object]) -> str:
    return hashlib.sha256(canonical_bytes(record)).hexdigest()


def line_bytes(record: Mapping[str, object]) -> bytes:
    """The line written for ``record`` (which already holds prev and hash)."""
    return (_LINE_JSON.encode(record) + "\n").encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, dummy in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def parse_line(raw: bytes) -> dict:
    """The record of one line (bytes without its newline); ValueError if it
    is not a JSON object."""
    record = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    return record


def seal(fields: Mapping[str, object], seq: int, prev: str) -> dict:
    """A complete record: ``seq`` first, the fields, then prev and hash."""
    record: dict = {"seq": seq}
    record.update((k, v) for k, v in fields.items() if k not in ("seq", "prev", "hash"))
    record["prev"] = prev
    record["hash"] = record_hash(record)
    return record


def _read_tail(fd: int, size: int) -> bytes:
    """The bytes after the second-to-last newline (the last complete line and
    anything after it)."""
    start = size
    data = b""
    while start > 0:
        start = max(0, start - TAIL_CHUNK)
        data = os.pread(fd, size - start, start)
        if data.count(b"\n") >= 2 or start == 0:
            break
    return data


def _open_log(path: str) -> int:
    """A read-only descriptor of the log; StoreError naming it if missing."""
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise StoreError(f"no audit log {path}") from None
    except OSError as err:
        raise StoreError(f"cannot read audit log {path}: {err.strerror or err}") from err


@contextlib.contextmanager
def _reading(path: str) -> Iterator[int]:
    """A read-only descriptor of the log, closed after use; a read that
    fails (the log is a directory, an I/O error) is a StoreError naming it."""
    fd = _open_log(path)
    try:
        yield fd
    except OSError as err:
        raise StoreError(f"cannot read audit log {path}: {err.strerror or err}") from err
    finally:
        os.close(fd)


def last_record(path: str) -> tuple[int, str]:
    """(seq, hash) of the last line of the log, (0, GENESIS) for a missing or
    empty log. StoreError if the file ends in an incomplete line or its last
    line is not a sealed record."""
    if not os.path.lexists(path):
        return 0, GENESIS
    with _reading(path) as fd:
        size = os.fstat(fd).st_size
        if size == 0:
            return 0, GENESIS
        data = _read_tail(fd, size)
    if not data.endswith(b"\n"):
        raise StoreError(
            "audit log %s ends with an incomplete line (interrupted write or tampering); "
            "run qpki audit verify, then qpki ca check --repair" % path)
    last = data[:-1].rsplit(b"\n", 1)[-1]
    try:
        record = parse_line(last)
        seq, digest = record["seq"], record["hash"]
        if not isinstance(seq, int) or not isinstance(digest, str) or len(digest) != 64:
            raise ValueError("no seq/hash")
    except (ValueError, KeyError, UnicodeDecodeError):
        raise StoreError("audit log %s: the last line is not a valid record; "
                         "run qpki audit verify" % path) from None
    return seq, digest


def first_record(path: str) -> dict | None:
    """The record on line 1 of the log (None for an empty log). StoreError
    if the log is missing or line 1 is not a JSON object."""
    with _reading(path) as fd:
        data, offset = b"", 0
        while b"\n" not in data:
            chunk = os.pread(fd, TAIL_CHUNK, offset)
            if not chunk:
                break
            data += chunk
            offset += len(chunk)
    if not data:
        return None
    line = data.split(b"\n", 1)[0]
    try:
        return parse_line(line)
    except (ValueError, UnicodeDecodeError):
        raise StoreError(f"audit log {path}: line 1 is not a valid record") from None


def holds_op(path: str, op: str) -> bool:
    """True when some line of the log names operation ``op`` (a byte search
    over the whole file: for the rare case that needs it)."""
    needle = f'"op":"{op}"'.encode()
    try:
        with open(path, "rb") as handle:
            return needle in handle.read()
    except OSError as err:
        raise StoreError(f"cannot read audit log {path}: {err.strerror or err}") from err


def last_line(path: str) -> tuple[dict | None, bytes]:
    """(the record of the last complete line or None, the bytes after the
    last newline). StoreError if the log cannot be read or that line is not
    a JSON object."""
    with _reading(path) as fd:
        data = _read_tail(fd, os.fstat(fd).st_size)
    body, newline, tail = data.rpartition(b"\n")
    if not newline:
        return None, tail
    try:
        return parse_line(body.rsplit(b"\n", 1)[-1]), tail
    except (ValueError, UnicodeDecodeError):
        raise StoreError(f"audit log {path}: the last line is not a valid record") from None


def unsealed(record: dict) -> dict:
    """``record`` without what sealing adds (seq, prev, hash): the fields
    the operation gave."""
    return {k: v for k, v in record.items() if k not in ("seq", "prev", "hash")}


def already_logged(records: list[dict], last: dict | None) -> int:
    """How many of ``records`` (appended in one write, if at all) the log
    already holds: its last line ``last`` is one of them, or none is."""
    if last is None:
        return 0
    fields = unsealed(last)
    for number, record in enumerate(records, 1):
        if record == fields:
            return number
    return 0


def append_unlogged(ca_dir: StrPath, records: list[dict]) -> list[dict]:
    """Append those of ``records`` that an interrupted append did not
    write; returns the records appended."""
    last, dummy = last_line(audit_path(ca_dir))
    todo = records[already_logged(records, last):]
    return append_records(ca_dir, todo) if todo else []


def append_record(ca_dir: StrPath, fields: Mapping[str, object]) -> dict:
    """Append one record to ``<ca_dir>/audit.log`` (created if missing) and
    return it. The caller holds the CA lock."""
    return append_records(ca_dir, [fields])[0]


def append_records(ca_dir: StrPath, field_list: Iterable[Mapping[str, object]]) -> list[dict]:
    """Append one chained record per mapping in ``field_list`` with a single
    write and fsync, and return them. The caller holds the CA lock."""
    path = audit_path(ca_dir)
    seq, prev = last_record(path)
    records: list[dict] = []
    chunks: list[bytes] = []
    for fields in field_list:
        seq += 1
        try:
            record = seal(fields, seq, prev)
            chunks.append(line_bytes(record))
        except (TypeError, ValueError) as err:
            raise StoreError("cannot write audit record to %s: %s" % (path, err)) from err
        prev = record["hash"]
        records.append(record)
    append_lines(path, b"".join(chunks))
    return records


def append_lines(path: str, data: bytes) -> None:
    """Append complete lines (``data`` ends with a newline) with one write
    and fsync; the log is made if missing."""
    created = not os.path.exists(path)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(os.path.dirname(path) or ".")
    except OSError as err:
        raise StoreError("cannot append to audit log %s: %s" % (path, err.strerror or err)) from err


def read_lines(path: str) -> tuple[list[bytes], bytes]:
    """(complete lines without newline, incomplete tail bytes or b"").
    StoreError if the log is missing or unreadable."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise StoreError("no audit log: %s" % path) from None
    except OSError as err:
        raise StoreError("cannot read audit log %s: %s" % (path, err.strerror or err)) from err
    body, dummy, tail = data.rpartition(b"\n")
    lines = body.split(b"\n") if body or data.startswith(b"\n") else []
    return lines, tail


def drop_incomplete_tail(ca_dir: StrPath) -> bytes:
    """Cut an incomplete last line off the log (a repair step). Returns the
    removed bytes (b"" when the log ends cleanly)."""
    path = audit_path(ca_dir)
    _lines, tail = read_lines(path)
    if not tail:
        return b""
    try:
        size = os.path.getsize(path)
        with open(path, "r+b") as handle:
            handle.truncate(size - len(tail))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        raise StoreError("cannot repair audit log %s: %s" % (path, err.strerror or err)) from err
    return tail
