"""One qpki process at a time on a token (per user).

Some PKCS#11 implementations do not let two processes change a token at
once: SoftHSM2 skips a token whose files another process is rewriting
("token not found" in the second process), tpm2-pkcs11 fails a key
generation with CKR_GENERAL_ERROR while another process writes its SQLite
store. qpki therefore holds an ``flock`` on a per-token lock file from
before the library is loaded until the login ends. Threads and nested
sessions of one process share the lock (counted).

The lock files live in a directory private to the user
(``$XDG_RUNTIME_DIR/qpki-locks`` or ``<tmp>/qpki-locks-<uid>``, mode 0700):
nobody else can hold them, and processes of different users are not
serialised (their token stores are usually their own anyway).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import stat
import tempfile
import threading
import time

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import HsmError

if TYPE_CHECKING:
    from .config import HsmConfig

_HELD: dict[str, list[int]] = {}  # lock file path -> [fd, users]
_GUARD = threading.Lock()
WAIT_SECONDS = 600
_POLL = 0.05


def _lock_dir() -> str:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        path = os.path.join(runtime, "qpki-locks")
    else:
        path = os.path.join(tempfile.gettempdir(), "qpki-locks-%d" % os.getuid())
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise HsmError("cannot create the token lock directory %s: %s" % (path, exc.strerror)) from None
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise HsmError("refusing token lock directory %s: not a directory private to this user"
                       % path)
    return path


def lock_path(config: HsmConfig) -> str:
    """The lock file of ``config``'s token (library path and selector)."""
    ident = "\0".join((os.path.realpath(config.lib), config.token or "",
                       config.token_serial or "", "" if config.slot is None else str(config.slot)))
    return os.path.join(_lock_dir(), "token-%s.lock" % hashlib.sha256(ident.encode()).hexdigest()[:24])


def acquire(config: HsmConfig, wait: float = WAIT_SECONDS) -> Callable[[], None]:
    """Take the token's lock (waiting up to ``wait`` seconds) and return the
    function that gives it back."""
    path = lock_path(config)
    with _GUARD:
        held = _HELD.get(path)
        if held is not None:
            held[1] += 1
            return lambda: _release(path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            _lock(fd, config, wait)
        except BaseException:
            os.close(fd)
            raise
        _HELD[path] = [fd, 1]
    return lambda: _release(path)


def _lock(fd: int, config: HsmConfig, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise HsmError("%s is busy: another qpki process has used it for over %d s"
                               % (config.token_selector(), wait)) from None
            time.sleep(_POLL)


def _release(path: str) -> None:
    with _GUARD:
        held = _HELD.get(path)
        if held is None:
            return
        held[1] -= 1
        if held[1] > 0:
            return
        del _HELD[path]
    os.close(held[0])  # closing the descriptor ends the flock
