"""Loading PKCS#11 libraries, once per path and process.

A PKCS#11 library can be loaded and ``C_Initialize``d only once per process,
so loaded ``pkcs11.lib`` objects are cached by path. ``finalize_library``
runs ``C_Finalize`` (closing every session of that library); the next use
initialises it again, which makes libraries such as SoftHSM2 re-read their
configuration and see tokens created by other processes since.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import HsmError

if TYPE_CHECKING:
    # pkcs11.lib is a function returning one of these
    from pkcs11._pkcs11 import lib as Pkcs11Library

_LIBS: dict[str, Pkcs11Library] = {}
_LOCK = threading.RLock()
_FINALIZE_HOOKS: list[Callable[[str], None]] = []


def load_library(path: str | os.PathLike[str]) -> Pkcs11Library:
    """The initialised ``pkcs11.lib`` for the library at ``path``."""
    path = os.path.abspath(os.fspath(path))
    with _LOCK:
        lib = _LIBS.get(path)
        if lib is not None:
            if not lib.initialized:
                _initialize(lib, path)
            return lib
        if not os.path.isfile(path):
            raise HsmError("PKCS#11 library %s does not exist" % path)
        import pkcs11

        try:
            lib = pkcs11.lib(path)
        except pkcs11.PKCS11Error as exc:
            raise HsmError("cannot load PKCS#11 library %s: %s"
                           % (path, _load_reason(exc, path))) from None
        if not lib.initialized:
            _initialize(lib, path)
        _LIBS[path] = lib
        return lib


def finalize_library(path: str | os.PathLike[str]) -> None:
    """``C_Finalize`` the library at ``path`` if this process loaded it.

    Sessions kept for reuse are dropped first. Harmless when the library was
    never loaded or is already finalised.
    """
    path = os.path.abspath(os.fspath(path))
    with _LOCK:
        for hook in list(_FINALIZE_HOOKS):
            hook(path)
        lib = _LIBS.get(path)
        if lib is None:
            import sys

            pkcs11 = sys.modules.get("pkcs11")
            lib = getattr(pkcs11, "_loaded", {}).get(path) if pkcs11 else None
        if lib is not None and lib.initialized:
            try:
                lib.finalize()
            except Exception:  # noqa: BLE001 - finalising is best effort
                pass


def on_finalize(hook: Callable[[str], None]) -> None:
    """Register ``hook(path)``, called before a library is finalised."""
    _FINALIZE_HOOKS.append(hook)


def _initialize(lib: Pkcs11Library, path: str) -> None:
    import pkcs11

    try:
        lib.initialize()
    except pkcs11.PKCS11Error as exc:
        raise HsmError("cannot initialise PKCS#11 library %s: %s"
                       % (path, describe_pkcs11_error(exc))) from None


def _load_reason(exc: Exception, path: str) -> str:
    text = str(exc) or type(exc).__name__
    # python-pkcs11 says "OS exception while loading <path>: <dlerror>".
    prefix = "OS exception while loading %s: " % path
    if text.startswith(prefix):
        text = text[len(prefix):]
    return text


def describe_pkcs11_error(exc: Exception) -> str:
    """Readable name of a python-pkcs11 exception: ``PinIncorrect`` becomes
    ``pin incorrect (PinIncorrect)``; the message text is kept when the
    library gave one."""
    name = type(exc).__name__
    words: list[str] = []
    for char in name:
        if char.isupper() and words:
            words.append(" ")
        words.append(char.lower())
    text = "".join(words)
    detail = str(exc).strip()
    if detail and detail != name:
        return "%s (%s: %s)" % (text, name, detail)
    return "%s (%s)" % (text, name)
