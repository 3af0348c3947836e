"""Reading a file the user hands us (CSR, certificate, CRL, YAML), with a size cap.

Every input file goes through :func:`read_input`, which refuses a file larger
than the cap before parsing anything (a regular file by its size, a pipe or
device after reading one byte more than the cap), so a 2 GB "CSR" costs a
``stat``, not 2 GB of memory. The cap is 1 MiB, and 256 MiB for a CRL (a
CA that revoked 100,000 certificates publishes a CRL of about 5 MB), unless
the environment variable ``QPKI_MAX_INPUT_SIZE`` sets one cap for every kind
(bytes, or with a ``K``, ``M`` or ``G`` suffix: ``QPKI_MAX_INPUT_SIZE=16M``).

The CA's own files (index, audit log, its CRLs) are not input: they are read
by the store, which trusts their size.
"""

from __future__ import annotations

import os
import re
import stat

from .errors import InputError, UsageError

LIMIT_ENV = "QPKI_MAX_INPUT_SIZE"
DEFAULT_LIMIT = 1 << 20
CRL_LIMIT = 256 << 20
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
_SIZE = re.compile(r"([0-9]{1,12})\s*([KMG]?)(?:I?B)?", re.IGNORECASE)


def input_limit(default: int = DEFAULT_LIMIT) -> int:
    """The cap in bytes: ``QPKI_MAX_INPUT_SIZE`` when set, else ``default``."""
    text = os.environ.get(LIMIT_ENV, "").strip()
    if not text:
        return default
    match = _SIZE.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise UsageError(f"{LIMIT_ENV} must be a positive size such as 1048576 or 4M")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def size_text(size: int) -> str:
    """``1 MiB``, ``512 KiB`` or ``1234 bytes``."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def _too_large(error: type, what: str, path: str, limit: int, size: int | None) -> Exception:
    found = f" ({size} bytes)" if size is not None else ""
    return error(f"{what} {path}: larger than the {size_text(limit)} input limit{found}; "
                 f"set {LIMIT_ENV} to accept bigger files")


def read_input(path: str | os.PathLike[str], what: str, error: type = InputError,
               default_limit: int = DEFAULT_LIMIT) -> bytes:
    """The bytes of the input file ``path`` (``what`` names it in errors:
    "CSR", "profile file"...), refused when larger than
    ``input_limit(default_limit)``."""
    path = os.fspath(path)
    limit = input_limit(default_limit)
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            regular = stat.S_ISREG(info.st_mode)
            if regular and info.st_size > limit:
                raise _too_large(error, what, path, limit, info.st_size)
            # A regular file is read at its size (plus one byte, to see it
            # grow): a buffer of the whole cap, shrunk afterwards, would keep
            # a memory mapping of its own per input, and a batch of 100,000
            # CSRs would run out of mappings (vm.max_map_count).
            data = handle.read(info.st_size + 1 if regular else limit + 1)
            if regular and len(data) > info.st_size:
                data += handle.read(limit + 1 - len(data))
    except FileNotFoundError:
        raise error(f"cannot read {what} {path}: file not found") from None
    except IsADirectoryError:
        raise error(f"cannot read {what} {path}: is a directory") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise _too_large(error, what, path, limit, None)
    return data


def read_crl_input(path: str | os.PathLike[str], error: type = InputError) -> bytes:
    """``read_input`` for a CRL, whose cap is CRL_LIMIT by default."""
    return read_input(path, "CRL", error, CRL_LIMIT)
