"""Exclusive lock on a CA directory, shared by processes and threads.

Every operation that changes a CA directory (issue, revoke, CRL, ...) runs
inside ``with ca_lock(ca_dir):``. The lock is ``flock`` on ``<ca_dir>/.lock``
taken through a file descriptor opened for this acquisition only, so it
excludes other processes (Ansible forks, concurrent ``qpki`` runs) and other
threads of the same process alike. The kernel drops it when the holder exits,
even on a crash, so there is no stale lock to clean up.

The lock is not re-entrant: taking it again in the thread that holds it is
reported at once instead of waiting for the timeout.
"""

import contextlib
import fcntl
import os
import threading
import time

from ..errors import StoreError

LOCK_NAME = ".lock"

_held = set()
_held_guard = threading.Lock()


def _open_lock_file(path):
    flags = os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        return os.open(path, os.O_RDWR | flags, 0o644)
    except PermissionError:
        # A user who may read but not write the directory can still lock.
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)


@contextlib.contextmanager
def ca_lock(ca_dir, timeout=60):
    """Hold the exclusive lock on ``ca_dir`` for the ``with`` block.

    ``timeout`` is in seconds (``None`` waits forever, ``0`` tries once).
    Raises StoreError naming the directory if it does not exist, the lock
    file cannot be opened, or the lock is still held by someone else when
    the timeout expires.
    """
    ca_dir = os.fspath(ca_dir)
    if not os.path.isdir(ca_dir):
        raise StoreError(f"cannot lock CA directory {ca_dir}: no such directory")
    key = (os.getpid(), threading.get_ident(), os.path.realpath(ca_dir))
    with _held_guard:
        if key in _held:
            raise StoreError(
                f"CA directory {ca_dir} is already locked by this thread (nested lock)"
            )
    lock_path = os.path.join(ca_dir, LOCK_NAME)
    try:
        fd = _open_lock_file(lock_path)
    except OSError as err:
        raise StoreError(
            f"cannot open lock file {lock_path}: {err.strerror or err}"
        ) from err
    try:
        _acquire(fd, ca_dir, timeout)
        with _held_guard:
            _held.add(key)
        try:
            yield
        finally:
            with _held_guard:
                _held.discard(key)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd, ca_dir, timeout):
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
