"""Exclusive lock on a CA directory, shared by processes and threads.

Every operation that changes a CA directory (issue, revoke, CRL, ...) runs
inside ``with ca_lock(ca_dir):``. The lock is ``flock`` on ``<ca_dir>/.lock``
taken through a file descriptor opened for this acquisition only, so it
excludes other processes (Ansible forks, concurrent ``qpki`` runs) and other
threads of the same process alike. The kernel drops it when the holder exits,
even on a crash, so there is no stale lock to clean up.

Only the CA's owner can take it. ``flock`` needs nothing but an open file
descriptor, so a lock file anyone can open is a lock anyone can hold: the
file is mode 0600, owned by the user running qpki, never a symbolic link,
and lives in the CA directory, which ``secure_dir`` requires to be
writable by its owner only (so nobody else can create it either). A lock
file left with a looser mode by an older qpki is tightened when it is
opened; one owned by someone else is refused.

The lock is re-entrant within a thread: ``Authority`` takes it before it
reads a PIN or a passphrase, and the operation it serves takes it again
around its writes without waiting for itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import threading
import time
from collections.abc import Iterator

from ..errors import StoreError
from .secure_dir import check_secure_tree

LOCK_NAME = ".lock"
LOCK_MODE = 0o600

_held: dict[tuple, int] = {}
_held_guard = threading.Lock()


def create_lock_file(directory: str | os.PathLike[str]) -> None:
    """Create ``<directory>/.lock`` (mode 0600) if it does not exist."""
    fd = _open_lock_file(os.path.join(os.fspath(directory), LOCK_NAME))
    os.close(fd)


def _open_lock_file(path: str) -> int:
    """The lock file, open for writing: created 0600 if missing, refused if
    another user owns it, tightened to 0600 if it was looser."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, LOCK_MODE)
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid():
            raise StoreError(f"refusing to use lock file {path}: it belongs to uid "
                             f"{info.st_uid}, not to you (uid {os.geteuid()}); remove it")
        if stat.S_IMODE(info.st_mode) != LOCK_MODE:
            os.fchmod(fd, LOCK_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def ca_lock(ca_dir: str | os.PathLike[str], timeout: float | None = 60) -> Iterator[None]:
    """Hold the exclusive lock on ``ca_dir`` for the ``with`` block.

    ``timeout`` is in seconds (``None`` waits forever, ``0`` tries once).
    Raises StoreError naming the directory if it does not exist, others can
    write it, the lock file cannot be opened or belongs to someone else, or
    the lock is still held by another process when the timeout expires.
    Taking it again in the thread that holds it returns at once.
    """
    ca_dir = os.fspath(ca_dir)
    if not os.path.isdir(ca_dir):
        raise StoreError(f"cannot lock CA directory {ca_dir}: no such directory")
    key = (os.getpid(), threading.get_ident(), os.path.realpath(ca_dir))
    with _held_guard:
        nested = key in _held
        _held[key] = _held.get(key, 0) + 1
    try:
        if nested:
            yield
        else:
            with _locked(ca_dir, timeout):
                yield
    finally:
        with _held_guard:
            _held[key] -= 1
            if not _held[key]:
                del _held[key]


@contextlib.contextmanager
def _locked(ca_dir: str, timeout: float | None) -> Iterator[None]:
    check_secure_tree(ca_dir, files=(LOCK_NAME,))
    lock_path = os.path.join(ca_dir, LOCK_NAME)
    try:
        fd = _open_lock_file(lock_path)
    except OSError as err:
        raise StoreError(
            f"cannot open lock file {lock_path}: {err.strerror or err}"
        ) from err
    try:
        _acquire(fd, ca_dir, timeout)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, ca_dir: str, timeout: float | None) -> None:
    deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
    pause = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        except OSError as err:
            raise StoreError(
                f"cannot lock CA directory {ca_dir}: {err.strerror or err}"
            ) from err
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreError(
                    f"timed out after {timeout:g} s waiting for the lock on CA directory "
                    f"{ca_dir} (another qpki operation is using it)"
                )
            pause = min(pause, left)
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
