"""Third-party libraries that may be missing, and a stand-in for them.

The core needs ``cryptography``, ``pyasn1`` and ``pyasn1-modules`` (the pip
package ``qpki`` declares them as hard dependencies). The Ansible modules run
the same code on managed hosts, where they may be absent; a module must then
fail with ``missing_required_lib()``, not with an ImportError, and Ansible's
import sanity test imports every file without them. So each core file guards
its module-level third-party imports::

    try:
        from cryptography import x509
        from pyasn1.type import univ
    except ImportError:
        x509 = univ = missing()

:func:`missing` records which library failed and returns a :class:`Missing`
stand-in that lets the rest of the file evaluate (subclassing, calls,
attribute and item access at module level). Nothing works at run time with a
stand-in: front ends call :func:`missing_libraries` first and stop when it is
not empty. With the libraries installed none of this code runs.

A file that imports a library only inside its functions (to keep start-up
cheap: pyasn1 for the few paths that need it) declares it once with
:func:`imported_later`, so that :func:`missing_libraries` still names it when
it is absent (checked with ``importlib.util.find_spec``, which loads nothing)::

    imported_later("pyasn1", "pyasn1_modules")
"""

import sys

# top-level library name -> (first error message, its traceback)
_MISSING: dict[str, tuple[str, str]] = {}
# top-level names of libraries imported inside functions; those found present
_LATER: set[str] = set()
_PRESENT: set[str] = set()


class Missing(Exception):
    """Stand-in for an object of a library that could not be imported.

    It derives from Exception only so that ``except InvalidSignature:`` clauses
    still name an exception for linters; it is never raised.
    """

    def __init__(self, name):
        super().__init__(name)
        self._qpki_missing_name = name

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Missing("%s.%s" % (self._qpki_missing_name, attr))

    def __call__(self, *args, **kwargs):
        return Missing("%s()" % self._qpki_missing_name)

    def __getitem__(self, key):
        return Missing("%s[]" % self._qpki_missing_name)

    def __mro_entries__(self, bases):
        # `class Key(ec.EllipticCurvePrivateKey)`: derive from a fresh empty class instead.
        return (type("Missing", (), {"__doc__": "stand-in for %s" % self._qpki_missing_name}),)

    def __or__(self, other):
        return self

    __ror__ = __or__

    def __iter__(self):
        return iter(())

    def __repr__(self):
        return "<missing library object %s>" % self._qpki_missing_name


def missing():
    """In an ``except ImportError`` block: record the library that failed to
    import and return a stand-in for the names it should have provided."""
    import traceback  # only on this (rare) path: it costs a few ms at start-up

    exc = sys.exc_info()[1]
    name = (getattr(exc, "name", None) or "unknown").split(".")[0]
    if name not in _MISSING:
        _MISSING[name] = (str(exc), traceback.format_exc())
    return Missing(name)


def imported_later(*names):
    """Declare top-level libraries a core file imports only inside its
    functions; :func:`missing_libraries` checks that they can be found."""
    _LATER.update(names)


def _check_later():
    import importlib.util

    for name in sorted(_LATER - _PRESENT - set(_MISSING)):
        try:
            if importlib.util.find_spec(name) is None:
                raise ImportError("No module named %r" % name, name=name)
        except ValueError:  # in sys.modules without a spec: it is there
            pass
        except ImportError:
            missing()
            continue
        _PRESENT.add(name)


def missing_libraries():
    """``{library: error message}`` for every library a core file could not
    import (or declared with :func:`imported_later` and cannot be found)."""
    _check_later()
    return {name: message for name, (message, dummy) in _MISSING.items()}


def missing_traceback():
    """The tracebacks of the failed imports, for ``fail_json(exception=...)``."""
    _check_later()
    return "".join(trace for dummy, trace in _MISSING.values())
