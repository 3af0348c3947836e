"""``index.txt`` as a file derived from the CA database, changed in place.

The database knows where each certificate's line sits (byte offset and
width). A new certificate's line is appended with room to spare: its
``filename`` column (``unknown``, which ``openssl ca`` never reads) is
followed by ``LINE_RESERVE`` spaces, enough for any revocation column qpki
writes (``CAkeyTime`` with a GeneralizedTime is the longest). Revoking or
releasing a certificate then rewrites that one line where it is, padded to
the same width, so neither an issuance nor a revocation rewrites the file:
``openssl ca -status SERIAL`` reads the same table either way.

A line that does not fit (one imported from an older index, written
without room) makes the whole file be written again from the database
(``rewrite``), every line with room from then on. Each write is followed
by ``fdatasync``; a crash in between is finished from the database's
outbox by the next operation.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace

from ..errors import StoreError
from .atomic import write_file
from .index import IndexEntry, format_line

LINE_RESERVE = 39


def new_line(entry: IndexEntry) -> bytes:
    """``entry``'s line with ``LINE_RESERVE`` bytes of room."""
    return _padded(format_line(entry).encode("utf-8"), LINE_RESERVE)


def fitted_line(entry: IndexEntry, width: int) -> bytes | None:
    """``entry``'s line padded to ``width`` bytes (newline included) in its
    filename column; None when it does not fit."""
    line = format_line(entry).encode("utf-8")
    return None if len(line) > width else _padded(line, width - len(line))


def _padded(line: bytes, spaces: int) -> bytes:
    """``line`` with ``spaces`` spaces after its filename (the fifth column):
    the line of the same entry whose filename ends with them (a space is
    written as it is; a tab inside a column never is)."""
    columns = line.split(b"\t", 5)
    columns[4] += b" " * spaces
    return b"\t".join(columns)


def _error(path: str, err: OSError) -> StoreError:
    return StoreError(f"cannot write {path}: {err.strerror or err}")


def write_at(path: str | os.PathLike, offset: int, data: bytes) -> None:
    """Put ``data`` at byte ``offset`` of the file (created if missing) and
    flush it to disk."""
    write_lines(path, [(offset, data)])


def write_lines(path: str | os.PathLike, lines: Iterable[tuple[int, bytes]]) -> None:
    """Put each (offset, bytes) in place in the file (created if missing),
    then flush it to disk once."""
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            for offset, data in lines:
                view = memoryview(data)
                while view:
                    written = os.pwrite(fd, view, offset)
                    view, offset = view[written:], offset + written
            os.fdatasync(fd)
        finally:
            os.close(fd)
    except OSError as err:
        raise _error(path, err) from err


def truncate(path: str | os.PathLike, size: int) -> None:
    """Cut the file to ``size`` bytes if it is longer (lines a killed write
    left beyond what the database laid out)."""
    path = os.fspath(path)
    try:
        if os.path.getsize(path) > size:
            os.truncate(path, size)
    except FileNotFoundError:
        return
    except OSError as err:
        raise _error(path, err) from err


def rewrite(path: str | os.PathLike,
            entries: Iterable[IndexEntry]) -> tuple[list[tuple[int, int, int]], int]:
    """Write the whole file again (atomically) with a line with room for
    each of ``entries``, in order. Returns each line's (serial, offset,
    width) and the file's size."""
    placements, chunks, offset = [], [], 0
    for entry in entries:
        line = new_line(replace(entry, filename=entry.filename.rstrip(" ") or "unknown"))
        placements.append((entry.serial, offset, len(line)))
        chunks.append(line)
        offset += len(line)
    write_file(path, b"".join(chunks))
    return placements, offset


def stamp(path: str | os.PathLike) -> str:
    """What tells whether the file changed since qpki last wrote it: size
    and modification time (empty when there is no file). Not the inode: a
    copy or a restore that keeps the times is the same file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return ""
    return f"{info.st_size}:{info.st_mtime_ns}"
