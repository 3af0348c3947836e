"""The counter files of a CA directory, ``serial`` and ``crlnumber``: one
hex number and a newline, as ``openssl ca`` writes them."""

from __future__ import annotations

import os

from .atomic import write_file
from .index import serial_hex


def counter_file_text(value: int) -> bytes:
    """What a counter file holding ``value`` contains: ``0A\\n`` for 10."""
    return (serial_hex(value) + "\n").encode("ascii")


def write_counter_file(path: str | os.PathLike[str], value: int) -> None:
    """Atomically make the counter file ``path`` hold ``value``; a file that
    already does is left as it is (no rewrite, no flush)."""
    text = counter_file_text(value)
    try:
        with open(path, "rb") as handle:
            if handle.read(len(text) + 1) == text:
                return
    except OSError:
        pass
    write_file(path, text)
