"""Keep secrets out of core files and away from other processes.

:func:`disable_core_dumps` runs first in the ``qpki`` command and in every
module, before a PIN, a passphrase or a private key is read: the core file
size limit goes to zero (soft and hard, so nothing in the process can raise
it again) and the process is marked not dumpable (``prctl(PR_SET_DUMPABLE,
0)``). The second matters as much as the first: a ``core_pattern`` that pipes
to a crash collector ignores the size limit, and a non-dumpable process
cannot be attached to with ``ptrace`` nor have its memory or environment
read through ``/proc`` by other processes of the same user (its ``/proc``
files belong to root). Linux only; elsewhere the limit is set and the rest
is skipped.
"""

from __future__ import annotations

PR_SET_DUMPABLE = 4


def disable_core_dumps() -> None:
    """No core file, not dumpable, for this process and what it forks."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (ImportError, OSError, AttributeError):
        pass
