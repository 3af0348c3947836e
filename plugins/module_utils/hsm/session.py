"""One PKCS#11 session and one login per operation.

``open_session(config)`` loads the library, selects the token, resolves the
PIN and logs in once (one ``C_Login``). Every user of the token within the
operation shares that session: opening the same token again while it is
open reuses the logged-in session instead of logging in a second time (a
PKCS#11 login belongs to the whole process anyway). When the last user
closes it, the session is logged out (``C_Logout``) and closed, unless the
configuration says ``logout_after_use: false``; the login is then kept for
the next operation of this process and logged out at exit.

While a login is in use, the process holds the token's lock
(``token_lock``): qpki processes of one user take turns on a token.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Literal

from ..errors import HsmError
from . import token_lock
from .library import describe_pkcs11_error, load_library, on_finalize
from .pin import resolve_pin
from .token import select_token, token_serial

if TYPE_CHECKING:
    import pkcs11

    from .capabilities import TokenMechanism
    from .library import Pkcs11Library
    from .config import HsmConfig

_LOGINS: dict[tuple[str, int], _Login] = {}  # (lib path, slot id) -> _Login
_LOCK = threading.RLock()

_LOGIN_FAILURES = {
    "PinIncorrect": "PIN incorrect",
    "PinLocked": "PIN locked",
    "PinLenRange": "PIN length out of range",
    "PinExpired": "PIN expired",
    "PinInvalid": "PIN contains invalid characters",
    "UserPinNotInitialized": "user PIN not initialized",
}


class _Login:
    """A logged-in session shared by the users of one token."""

    def __init__(self, session: pkcs11.Session, owns_login: bool) -> None:
        self.session = session
        self.owns_login = owns_login
        self.users = 0


class HsmSession:
    """An open session on the configured token.

    ``lib`` (``pkcs11.lib``), ``token`` (``pkcs11.Token``) and ``session``
    (``pkcs11.Session``) are python-pkcs11 objects; ``label`` is the token
    label; ``logged_in`` tells whether the user is logged in.
    """

    def __init__(self, config: HsmConfig, lib: Pkcs11Library, token: pkcs11.Token, session: pkcs11.Session,
                 logged_in: bool, release: Callable[[], None]) -> None:
        self.config = config
        self.lib = lib
        self.token = token
        self.session = session
        self.logged_in = logged_in
        self._release: Callable[[], None] | None = release
        self._mechanism_table: dict[str, TokenMechanism] | None = None  # read by capabilities, once

    @property
    def label(self) -> str:
        return self.token.label

    @property
    def serial(self) -> str:
        return token_serial(self.token)

    @property
    def closed(self) -> bool:
        return self._release is None

    def close(self) -> None:
        """Give the session back; idempotent."""
        release, self._release = self._release, None
        if release is not None:
            release()

    def __enter__(self) -> HsmSession:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.close()
        return False

    def __repr__(self) -> str:
        return "<HsmSession token=%r logged_in=%s>" % (self.label, self.logged_in)


def connect(config: HsmConfig, login: bool = True) -> HsmSession:
    """Open a session on ``config``'s token (and log in once when ``login``).

    The caller must ``close()`` the returned :class:`HsmSession`.
    """
    if not login:
        lib = load_library(config.lib)
        token = _select(lib, config)
        session = _open(token, config, rw=_writable(token))
        return HsmSession(config, lib, token, session, False, lambda: _close_quietly(session))

    unlock = token_lock.acquire(config)
    try:
        lib = load_library(config.lib)
        token = _select(lib, config)
        rw = _writable(token)
        key = (config.lib, token.slot.slot_id)
        with _LOCK:
            entry = _LOGINS.get(key)
            if entry is None:
                entry = _log_in(token, config, rw)
                _LOGINS[key] = entry
            entry.users += 1
    except BaseException:
        unlock()
        raise

    def release() -> None:
        try:
            _release(key, entry, config.logout_after_use)
        finally:
            unlock()

    return HsmSession(config, lib, token, entry.session, True, release)


@contextlib.contextmanager
def open_session(config: HsmConfig, login: bool = True) -> Iterator[HsmSession]:
    """Context manager around :func:`connect`; closes (and, by default, logs
    out) when the block ends."""
    hsm = connect(config, login=login)
    try:
        yield hsm
    finally:
        hsm.close()


def _select(lib: Pkcs11Library, config: HsmConfig) -> pkcs11.Token:
    import pkcs11

    try:
        return select_token(lib, config)
    except pkcs11.PKCS11Error as exc:
        raise HsmError("cannot list tokens of %s: %s"
                       % (config.lib, describe_pkcs11_error(exc))) from None


def _writable(token: pkcs11.Token) -> bool:
    import pkcs11

    return not token.flags & pkcs11.TokenFlag.WRITE_PROTECTED


def _open(token: pkcs11.Token, config: HsmConfig, rw: bool) -> pkcs11.Session:
    import pkcs11

    try:
        return token.open(rw=rw)
    except pkcs11.PKCS11Error as exc:
        raise HsmError("cannot open a session on token '%s' (%s): %s"
                       % (token.label, config.lib, describe_pkcs11_error(exc))) from None


def _log_in(token: pkcs11.Token, config: HsmConfig, rw: bool) -> _Login:
    import pkcs11

    pin = resolve_pin(config, token.label)
    try:
        return _Login(user_login(token, pin, rw), owns_login=True)
    except pkcs11.UserAlreadyLoggedIn:
        # Someone else in this process holds the login (PKCS#11 logins are
        # per application): use it without logging in or out ourselves.
        return _Login(_open(token, config, rw), owns_login=False)
    except pkcs11.PKCS11Error as exc:
        reason = _LOGIN_FAILURES.get(type(exc).__name__) or describe_pkcs11_error(exc)
        raise HsmError("login to token '%s' failed: %s" % (token.label, reason)) from None
    finally:
        del pin


def user_login(token: pkcs11.Token, pin: str, rw: bool) -> pkcs11.Session:
    """Open a session and ``C_Login`` as the user: the one place this
    package logs in (tests count calls here)."""
    return token.open(rw=rw, user_pin=pin)


def _release(key: tuple[str, int], entry: _Login, logout: bool) -> None:
    with _LOCK:
        entry.users -= 1
        if entry.users > 0 or not logout:
            return
        if _LOGINS.get(key) is entry:
            del _LOGINS[key]
    _end(entry)


def _end(entry: _Login) -> None:
    """Log out (when the login is ours) and close the session."""
    import pkcs11

    session = entry.session
    try:
        if entry.owns_login:
            session.close()  # python-pkcs11: C_Logout, then C_CloseSession
        else:
            _close_quietly(session)
    except (pkcs11.SessionHandleInvalid, pkcs11.SessionClosed, pkcs11.UserNotLoggedIn):
        pass  # the library was finalised or the token went away: nothing is left open
    except pkcs11.PKCS11Error as exc:
        if "not initialized" in str(exc):
            return  # C_Finalize already ended every session
        raise HsmError("logout from token '%s' failed: %s"
                       % (session.token.label, describe_pkcs11_error(exc))) from None


def _close_quietly(session: pkcs11.Session) -> None:
    """Close a session we did not log in with: no ``C_Logout`` (another user
    may hold the login)."""
    import pkcs11

    try:
        session.close()  # a session opened without a PIN: C_CloseSession only
    except pkcs11.PKCS11Error:
        pass  # best effort: the session is gone either way


def drop_sessions(lib_path: str | None = None) -> None:
    """Log out and forget kept sessions (of one library, or all)."""
    with _LOCK:
        keys = [k for k in _LOGINS if lib_path is None or k[0] == lib_path]
        entries = [_LOGINS.pop(k) for k in keys]
    for entry in entries:
        try:
            _end(entry)
        except HsmError:
            pass


def active_logins() -> int:
    """How many logged-in sessions this process currently holds."""
    with _LOCK:
        return len(_LOGINS)


on_finalize(drop_sessions)
atexit.register(drop_sessions)
