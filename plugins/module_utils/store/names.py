"""Checks for names that become path components inside a store directory.

Credential ids, key roles and algorithm names end up as file or directory
names. They are restricted to a small portable alphabet so that none of them
can climb out of the directory (``..``), name a hidden file, or smuggle a
separator or control character into a path.
"""

from __future__ import annotations

import re
import unicodedata

from ..errors import InputError

_COMPONENT = re.compile(r"[A-Za-z0-9._-]+")

MAX_COMPONENT = 128


def safe_component(value: object, what: str) -> str:
    """Return ``value`` if it is usable as one path component, else raise.

    Allowed: 1..128 characters from ``[A-Za-z0-9._-]``, not starting with a
    dot (which also rules out ``.`` and ``..``). ``what`` names the value in
    the error ("credential id", "algorithm"...).
    """
    if not isinstance(value, str):
        raise InputError(f"invalid {what} {value!r}: expected a string")
    if not value:
        raise InputError(f"invalid {what} '': must not be empty")
    if len(value) > MAX_COMPONENT:
        raise InputError(
            f"invalid {what} {value!r}: longer than {MAX_COMPONENT} characters"
        )
    if _COMPONENT.fullmatch(value) is None:
        raise InputError(
            f"invalid {what} {value!r}: only letters, digits, '.', '_' and '-' are allowed"
        )
    if value.startswith("."):
        raise InputError(f"invalid {what} {value!r}: must not start with '.'")
    return value


def safe_relative_path(value: object, what: str) -> str:
    """Return ``value`` if it is a relative path that stays below its base.

    Used for paths read back from metadata (``private/ca.ecdsa-p384.key``):
    no absolute path, no empty or ``..`` component, no control characters.
    """
    if not isinstance(value, str) or not value:
        raise InputError(f"invalid {what} {value!r}: expected a relative path")
    if value.startswith("/") or "\\" in value:
        raise InputError(f"invalid {what} {value!r}: must be a relative path")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise InputError(f"invalid {what} {value!r}: contains control characters")
    for part in value.split("/"):
        if part in ("", ".."):
            raise InputError(f"invalid {what} {value!r}: must not contain '..' or '//'")
    return value


def slugify(text: object, max_length: int = 64) -> str:
    """Lower-case ASCII slug of ``text``: runs of other characters become '-'."""
    ascii_text = (
        unicodedata.normalize("NFKD", str(text))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")
