"""Secrets (passphrases) read from an environment variable the user names.

The variable's name may be printed; its value never is. Both front ends read
passphrases through here, so a missing one gives the same one-line error.
"""

from __future__ import annotations

import os
import re

from .errors import InputError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def secret_from_env(name: str | None, what: str = "the passphrase") -> bytes | None:
    """The value of the environment variable ``name`` as UTF-8 bytes; None when
    no name is given. A name that is not a variable name, or a variable that
    is unset or empty, is an error naming the variable (never its value)."""
    if not name:
        return None
    if not _NAME.fullmatch(name):
        raise InputError(f"{what}: {name[:40]!r} is not an environment variable name")
    value = os.environ.get(name)
    if not value:
        raise InputError(f"environment variable {name} ({what}) is not set")
    return value.encode("utf-8")
