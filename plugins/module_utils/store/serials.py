"""Certificate serial numbers and CRL numbers of a CA directory.

Serials are random: 159 bits from ``secrets`` with the top one set, so every
serial is positive, carries 158 bits of CSPRNG output (well over the 64 the
CA/Browser Forum asks for), always encodes as exactly 20 DER octets (the
RFC 5280 maximum) and always names a 40-digit ``certs/<SERIAL>.crt``.
Uniqueness within the CA is checked against the serials already used, and
checked again by ``fresh_serials``, the one way issuance gets serials.

The ``serial`` file holds the last serial issued, in hex, for tooling.
Note that ``openssl ca`` reads that file as the *next* serial: it would
refuse the duplicate rather than reuse it.

The ``crlnumber`` file works as in ``openssl ca``: it holds the number the
next CRL gets, in hex. Callers hold the CA lock around these functions.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Container
from typing import Protocol

from ..errors import StoreError
from .atomic import StrPath
from .ca_dir import CaDir
from .counter_file import write_counter_file
from .index import index_serials, serial_hex

SERIAL_BITS = 159


def new_serial(used: Container[int] = ()) -> int:
    """A fresh random serial that is not in ``used``."""
    top = 1 << (SERIAL_BITS - 1)
    while True:
        serial = secrets.randbits(SERIAL_BITS - 1) | top
        if serial not in used:
            return serial


class UsedSerials(Protocol):
    """A set of serials, or a view of the CA's database that answers the
    same two questions (``cert_store.SerialsInUse``)."""

    def __contains__(self, serial: object) -> bool: ...

    def add(self, serial: int) -> None: ...


def fresh_serials(used: UsedSerials, count: int = 1) -> list[int]:
    """``count`` new serials for certificates about to be signed; each is
    checked against ``used`` (the CA's used serials, ``used_serials``) and
    added to it. StoreError, before anything is signed or written, if the
    serial source ever gives a used serial or one of the wrong size: two
    certificates with one serial would make revocation ambiguous."""
    serials: list[int] = []
    for dummy in range(count):
        serial = new_serial(used)
        if serial in used or serial.bit_length() != SERIAL_BITS:
            fault = "one this CA has already used" if serial in used else "one of the wrong size"
            raise StoreError(f"the serial source gave serial {serial_hex(serial)}, {fault}; "
                             "nothing was signed or written")
        used.add(serial)
        serials.append(serial)
    return serials


def _as_ca_dir(ca_dir: CaDir | StrPath) -> CaDir:
    return ca_dir if isinstance(ca_dir, CaDir) else CaDir(ca_dir)


def used_serials(ca_dir: CaDir | StrPath) -> set[int]:
    """Serials the CA has used: those in the index and those of the files
    in ``certs/`` (a crash between writing the certificate and the index
    must not let its serial be drawn again)."""
    ca = _as_ca_dir(ca_dir)
    used = index_serials(ca.index)  # the serial column only: no full parse
    try:
        names = os.listdir(ca.certs_dir)
    except FileNotFoundError:
        names = []
    for name in names:
        stem, dot, ext = name.partition(".")
        if dot and ext == "crt":
            try:
                used.add(int(stem, 16))
            except ValueError:
                continue
    return used


def _read_hex(path: StrPath) -> int | None:
    try:
        with open(path, "r", encoding="ascii") as handle:
            text = handle.read().strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise StoreError(
            f"cannot read {path}: {getattr(err, 'strerror', None) or err}"
        ) from err
    try:
        value = int(text, 16)
    except ValueError:
        raise StoreError(
            f"invalid counter in {path}: {text[:40]!r} is not a hex number"
        ) from None
    if value < 0:
        raise StoreError(f"invalid counter in {path}: negative value")
    return value


def record_serial(ca_dir: CaDir | StrPath, serial: int) -> None:
    """Write ``serial`` to the ``serial`` file as the last one issued."""
    write_counter_file(_as_ca_dir(ca_dir).serial, serial)


def last_serial(ca_dir: CaDir | StrPath) -> int | None:
    """The serial in the ``serial`` file, or None if there is none yet."""
    return _read_hex(_as_ca_dir(ca_dir).serial)


def next_crl_number(ca_dir: CaDir | StrPath) -> int:
    """Take the next CRL number: 1 for the first CRL, then 2, 3...

    Reads ``crlnumber`` (the number to use now), stores the following one
    atomically and returns the number taken.
    """
    path = _as_ca_dir(ca_dir).crlnumber
    number = _read_hex(path)
    if number is None:
        number = 1
    write_counter_file(path, number + 1)
    return number


def last_crl_number(ca_dir: CaDir | StrPath) -> int | None:
    """The number of the latest CRL taken, or None if none was."""
    number = _read_hex(_as_ca_dir(ca_dir).crlnumber)
    return None if number is None or number <= 1 else number - 1
