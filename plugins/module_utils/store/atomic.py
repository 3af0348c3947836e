"""Crash-safe file writes.

``write_file`` never leaves a half-written file behind: data goes to a hidden
temporary file in the same directory (``.<name>.tmp-<random>``), is flushed to
disk, then renamed over the target, and the directory entry is flushed too.
After a crash the target holds either the old or the new content; at worst an
orphan temporary file remains, which ``remove_stale_temps`` can delete.

The temporary file is created with the final permission bits (``O_EXCL``,
never following a planted file or symlink), so a 0600 key file is never
readable by anyone else, not even while it is being written.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterable
from typing import Union

from ..errors import StoreError

# A file system path, as os.fspath takes it.
StrPath = Union[str, "os.PathLike[str]"]
FileData = Union[bytes, bytearray, memoryview]

_TEMP_MARK = ".tmp-"
_TEMP_NAME = re.compile(r"\..+\.tmp-[0-9a-f]{12}")


def _describe(err: OSError) -> str:
    return err.strerror or str(err)


def _temp_path(directory: str, name: str) -> str:
    # Keep the temporary name within the usual 255-byte limit.
    return os.path.join(directory, f".{name[:200]}{_TEMP_MARK}{secrets.token_hex(6)}")


def is_temp_name(name: str) -> bool:
    """True for names made by ``write_file`` for its temporary files."""
    return _TEMP_NAME.fullmatch(name) is not None


def fsync_dir(directory: StrPath) -> None:
    """Flush a directory entry change (create, rename) to disk."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_temp(path: str, data: FileData, mode: int, sync: bool) -> str:
    """Write ``data`` to a new temporary file beside ``path`` (created
    exclusively, mode exact, fsync'ed when ``sync``) and return its name.
    On failure the temporary file is removed and the error raised."""
    directory, name = os.path.split(os.path.abspath(path))
    if not name:
        raise StoreError(f"cannot write {path}: not a file name")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for dummy in range(10):
        temp = _temp_path(directory, name)
        try:
            fd = os.open(temp, flags, mode & 0o777)
        except FileExistsError:
            continue
        break
    else:
        raise StoreError(f"cannot write {path}: no free temporary file name")
    try:
        try:
            os.fchmod(fd, mode & 0o7777)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _remove_quietly(temp)
        raise
    return temp


def write_file(path: StrPath, data: FileData, mode: int = 0o644) -> None:
    """Atomically replace ``path`` with ``data`` (bytes), file mode ``mode``.

    The mode is exact (the umask does not apply). Raises StoreError naming
    ``path`` if anything fails; the previous content is then left untouched
    and the temporary file is removed.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("write_file expects bytes")
    target = os.fspath(path)
    temp = None
    try:
        temp = _write_temp(target, data, mode, sync=True)
        os.replace(temp, target)
        temp = None
        fsync_dir(os.path.dirname(os.path.abspath(target)))
    except OSError as err:
        raise StoreError(f"cannot write {target}: {_describe(err)}") from err
    finally:
        if temp is not None:
            _remove_quietly(temp)


def _load_syncfs() -> Callable[[int], int] | None:
    """libc's ``syncfs`` (Linux), or None."""
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


# libc's syncfs once looked up (on the first flush, not at import: ctypes
# costs a couple of ms of start-up to commands that write nothing); False
# until then.
_syncfs: Callable[[int], int] | None | bool = False


def _flush_files(paths: Iterable[str], directories: Iterable[str]) -> None:
    """Make the content of the closed files ``paths`` (in ``directories``)
    durable: one ``syncfs`` per directory on Linux (one journal commit for
    the whole set instead of one per file), else one ``fsync`` per file."""
    global _syncfs
    if _syncfs is False:
        _syncfs = _load_syncfs()
    syncfs = _syncfs
    if callable(syncfs):
        ok = True
        for directory in directories:
            fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                ok = ok and syncfs(fd) == 0
            finally:
                os.close(fd)
        if ok:
            return
    for path in paths:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class StagedFiles:
    """Files written now under temporary names and put in place later, all
    at once, as ``write_files`` does: ``add`` each, then ``commit`` (or
    ``discard``). A batch writes its files while it is still signing, and
    puts them in place once everything is signed."""

    def __init__(self, mode: int = 0o644) -> None:
        self.mode = mode
        self.pairs: list[tuple[str, str]] = []  # (temporary path, target) not renamed yet

    def add(self, path: StrPath, data: FileData) -> None:
        target = os.fspath(path)
        try:
            self.pairs.append((_write_temp(target, data, self.mode, sync=False), target))
        except OSError as err:
            self.discard()
            raise StoreError(f"cannot write {target}: {_describe(err)}") from err

    def commit(self) -> None:
        """Flush every file to disk once, rename them into place and flush
        each directory involved once. On failure the files not yet renamed
        are removed and StoreError names the one that failed."""
        current: str | None = None
        try:
            temps = [temp for temp, _target in self.pairs]
            directories = dict.fromkeys(os.path.dirname(temp) for temp in temps)
            _flush_files(temps, directories)
            renamed = 0
            try:
                for temp, current in self.pairs:
                    os.replace(temp, current)
                    renamed += 1
            finally:
                del self.pairs[:renamed]
            for current in directories:
                fsync_dir(current)
        except OSError as err:
            what = current if current is not None else "files"
            raise StoreError(f"cannot write {what}: {_describe(err)}") from err
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary files not yet put in place."""
        for temp, _target in self.pairs:
            _remove_quietly(temp)
        self.pairs = []


def write_files(items: Iterable[tuple[StrPath, FileData]], mode: int = 0o644) -> None:
    """Atomically create or replace several files, each as ``write_file``
    would, with one flush to disk for the whole set.

    ``items`` is a list of (path, bytes). Every file is written under its
    temporary name first; once all of them are on disk they are renamed into
    place and each directory involved is flushed once. After a crash each
    target holds either its old content or its complete new content, never
    a partial file (some targets may be new and others not yet). Raises
    StoreError naming the file; the temporary files are then removed, and
    no target has been replaced if the failure came before the renames.
    """
    staged_files(items, mode).commit()


def staged_files(items: Iterable[tuple[StrPath, FileData]], mode: int = 0o644) -> StagedFiles:
    """A StagedFiles holding each (path, bytes) of ``items``."""
    staged = StagedFiles(mode)
    for path, data in items:
        staged.add(path, data)
    return staged


def write_text(path: StrPath, text: str, mode: int = 0o644) -> None:
    """Atomically replace ``path`` with ``text`` encoded as UTF-8."""
    write_file(path, text.encode("utf-8"), mode)


def ensure_dir(path: StrPath, mode: int = 0o755) -> str:
    """Create directory ``path`` (and missing parents) if it does not exist.

    A directory created here gets exactly ``mode``, and a missing parent
    0755, whatever the umask (``os.makedirs`` would give 0777 under umask
    000); an existing directory is left as it is. Raises StoreError if
    ``path`` exists but is not a directory, or cannot be created.
    """
    target = os.path.abspath(os.fspath(path))
    if os.path.isdir(target):
        return target
    parent = os.path.dirname(target)
    if parent != target and not os.path.isdir(parent):
        ensure_dir(parent, 0o755)
    try:
        os.mkdir(target, mode & 0o777)
    except FileExistsError:
        if not os.path.isdir(target):
            raise StoreError(
                f"cannot create directory {target}: a file is in the way"
            ) from None
        return target
    except OSError as err:
        raise StoreError(f"cannot create directory {target}: {_describe(err)}") from err
    try:
        os.chmod(target, mode & 0o7777)
        fsync_dir(parent)
    except OSError as err:
        raise StoreError(f"cannot set up directory {target}: {_describe(err)}") from err
    return target


def remove_stale_temps(directory: StrPath, min_age: float = 60.0) -> list[str]:
    """Delete orphan temporary files left in ``directory`` by a crash.

    Only names made by ``write_file`` are considered, and only those older
    than ``min_age`` seconds, so a write in progress in another process is
    not disturbed (pass ``min_age=0`` when holding the directory's lock and
    every writer takes it). Returns the removed paths; not recursive.
    """
    folder = os.fspath(directory)
    removed: list[str] = []
    limit = time.time() - min_age
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return removed
    except OSError as err:
        raise StoreError(f"cannot list {folder}: {_describe(err)}") from err
    for name in sorted(names):
        if not is_temp_name(name):
            continue
        full = os.path.join(folder, name)
        try:
            info = os.lstat(full)
            if not stat.S_ISREG(info.st_mode) or info.st_mtime > limit:
                continue
            os.unlink(full)
        except FileNotFoundError:
            continue
        except OSError as err:
            raise StoreError(
                f"cannot remove stale temporary file {full}: {_describe(err)}"
            ) from err
        removed.append(full)
    return removed
