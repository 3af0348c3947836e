"""The CA's certificate database, ``index.txt``, in ``openssl ca`` format.

One line per issued certificate, six tab-separated columns::

    V  <expiry>  <empty>                  <SERIAL>  unknown  <subject>
    R  <expiry>  <revoked>[,<reason>...]  <SERIAL>  unknown  <subject>

Status ``V`` (valid), ``R`` (revoked) or ``E`` (expired, set by ``openssl ca
-updatedb``). The revocation column holds the date and, optionally, the
reason as ``openssl ca`` spells it (``RevocationReason.index_name``), or
one of its two-value forms: ``keyTime,<time>`` / ``CAkeyTime,<time>``
(keyCompromise / cACompromise with an invalidity date) and
``holdInstruction,<oid>`` (certificateHold). A reason qpki cannot map makes
the line invalid: no CRL is built from a line whose meaning is unknown.
Times are ``YYMMDDHHMMSSZ`` (UTCTime) for 1950..2049 and
``YYYYMMDDHHMMSSZ`` (GeneralizedTime) otherwise; serials are upper-case hex
with an even number of digits; the subject is OpenSSL's one-line form (see
``dn_oneline``). Next to it, ``index.txt.attr`` holds ``unique_subject = no``
so that ``openssl ca`` accepts several valid certificates for one subject,
as qpki does.

Every change rewrites the file atomically (temporary file, fsync, rename):
after a crash the file holds the old or the new lines, never a truncated
line, which a plain ``O_APPEND`` write could not promise. Appending keeps
the existing lines byte for byte and only reads their serial column, so it
costs one sequential read and write of the file per call; a batch of
certificates is appended with one call (``append_entries``), not one per
certificate. Callers that modify the file hold the CA lock
(``lock.ca_lock``) so that no concurrent change is lost.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import InputError, StoreError
from ..revocation import RevocationReason, RevokedEntry
from .atomic import write_file, write_text
from .dn_oneline import escape_text, oneline

if TYPE_CHECKING:
    from cryptography import x509

    from .atomic import StrPath

VALID, REVOKED, EXPIRED = "V", "R", "E"
ATTR_TEXT = "unique_subject = no\n"

# ``openssl ca`` forms of the revocation column that carry a second value:
# a hold instruction (certificateHold), or a compromise time, which is the
# CRL entry's invalidity date (keyCompromise / CACompromise).
_HOLD, _KEY_TIME, _CA_KEY_TIME = "holdInstruction", "keyTime", "CAkeyTime"
_WITH_ARGUMENT = {
    _HOLD.lower(): RevocationReason.certificate_hold,
    _KEY_TIME.lower(): RevocationReason.key_compromise,
    _CA_KEY_TIME.lower(): RevocationReason.ca_compromise,
}
_TIME_FORM = {RevocationReason.key_compromise: _KEY_TIME,
              RevocationReason.ca_compromise: _CA_KEY_TIME}

_SERIAL = re.compile(r"-?[0-9A-Fa-f]+")


@dataclass(frozen=True)
class IndexEntry:
    """One index line. ``subject`` is in one-line form; datetimes are UTC.

    ``invalidity_date`` and ``hold_instruction`` are the second value of
    ``openssl ca``'s ``keyTime`` / ``CAkeyTime`` and ``holdInstruction``
    revocation forms, so that such lines survive a rewrite.
    """

    status: str
    expires: datetime
    revoked_at: datetime | None
    reason: RevocationReason | None
    serial: int
    subject: str
    filename: str = "unknown"
    invalidity_date: datetime | None = None
    hold_instruction: str | None = None


def index_reason(text: str) -> tuple[RevocationReason, bool]:
    """(reason, whether a second value follows) of a revocation column's
    reason text, in any of the spellings ``openssl ca`` and qpki write.
    InputError for a name that is none of them."""
    special = _WITH_ARGUMENT.get(text.lower())
    if special is not None:
        return special, True
    return RevocationReason.parse(text), False


def serial_hex(serial: int) -> str:
    """``1A2B`` for 0x1a2b: upper case, even number of digits (``00`` for 0)."""
    text = f"{serial:X}" if serial >= 0 else f"{-serial:X}"
    if len(text) % 2:
        text = "0" + text
    return text if serial >= 0 else "-" + text


def format_time(value: datetime) -> str:
    """ASN.1 time text as OpenSSL stores it: UTCTime for 1950..2049."""
    return _format_time(value)


@lru_cache(maxsize=1024)
def _format_time(value: datetime) -> str:
    # Cached: the certificates of a batch share their notAfter.
    value = to_utc(value)
    if 1950 <= value.year < 2050:
        return value.strftime("%y%m%d%H%M%SZ")
    return f"{value.year:04d}" + value.strftime("%m%d%H%M%SZ")


def to_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime to the second (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(microsecond=0)


def parse_time(text: str) -> datetime:
    """The aware UTC datetime of a UTCTime / GeneralizedTime text."""
    if len(text) == 13 and text.endswith("Z") and text[:12].isdigit():
        year = int(text[:2])
        year += 1900 if year >= 50 else 2000
        rest = text[2:12]
    elif len(text) == 15 and text.endswith("Z") and text[:14].isdigit():
        year = int(text[:4])
        rest = text[4:14]
    else:
        raise ValueError(f"bad time {text!r}")
    return datetime(year, int(rest[0:2]), int(rest[2:4]), int(rest[4:6]), int(rest[6:8]),
                    int(rest[8:10]), tzinfo=timezone.utc)


def entry_for_certificate(cert: x509.Certificate) -> IndexEntry:
    """The ``V`` line ``openssl ca`` would add for ``cert`` (a
    ``cryptography.x509.Certificate``)."""
    return valid_entry(cert.serial_number, cert.not_valid_after_utc, oneline(cert.subject))


def valid_entry(serial: int, expires: datetime, subject: str) -> IndexEntry:
    """The ``V`` line of a new certificate from its serial, notAfter and
    one-line subject (``oneline``): ``entry_for_certificate`` for a caller
    that already has them (a batch worker works them out, its parent
    records them without loading the certificate again)."""
    return IndexEntry(status=VALID, expires=expires, revoked_at=None, reason=None,
                      serial=serial, subject=subject)


def format_line(entry: IndexEntry) -> str:
    """The text line (with newline) for ``entry``."""
    fields = (
        entry.status,
        format_time(entry.expires),
        _revocation_text(entry),
        serial_hex(entry.serial),
        escape_text(entry.filename),
        escape_text(entry.subject),
    )
    return "\t".join(fields) + "\n"


def _revocation_text(entry: IndexEntry) -> str:
    """The third column: ``<date>[,<reason>[,<value>]]`` as ``openssl ca``
    writes it."""
    if entry.revoked_at is None:
        return ""
    text = format_time(entry.revoked_at)
    reason = entry.reason
    if reason is None:
        return text
    if entry.invalidity_date is not None and reason in _TIME_FORM:
        return f"{text},{_TIME_FORM[reason]},{generalized_time(entry.invalidity_date)}"
    if entry.hold_instruction and reason is RevocationReason.certificate_hold:
        return f"{text},{_HOLD},{entry.hold_instruction}"
    return f"{text},{reason.index_name}"


def generalized_time(value: datetime) -> str:
    """``YYYYMMDDHHMMSSZ``, the form ``openssl ca`` gives a compromise time."""
    return f"{to_utc(value):%Y%m%d%H%M%S}Z"


@dataclass(frozen=True)
class _Revocation:
    reason: RevocationReason | None
    invalidity_date: datetime | None
    hold_instruction: str | None


@lru_cache(maxsize=256)
def _revocation_tail(tail: str) -> _Revocation:
    """What follows the date in the third column (``keyCompromise``,
    ``keyTime,20260101000000Z``...). ValueError naming what is wrong.
    Cached: an index repeats a handful of reason texts."""
    if not tail:
        return _Revocation(None, None, None)
    name, comma, value = tail.partition(",")
    try:
        reason, takes_value = index_reason(name)
    except InputError as err:
        raise ValueError(str(err)) from None
    if takes_value != bool(value):
        raise ValueError(f"reason {name!r} {'needs a' if takes_value else 'takes no'} "
                         "second value")
    if reason is RevocationReason.certificate_hold:
        return _Revocation(reason, None, value or None)
    return _Revocation(reason, parse_time(value) if value else None, None)


def parse_line(line: str, path: str, number: int) -> IndexEntry:
    """The IndexEntry of one line; StoreError naming path and line if bad."""
    fields = line.split("\t", 5)

    def bad(why: str) -> StoreError:
        return StoreError(f"invalid line {number} in {path}: {why}")

    if len(fields) != 6:
        raise bad(f"expected 6 tab-separated fields, found {len(fields)}")
    status, expires, revoked, serial, filename, subject = fields
    if status not in (VALID, REVOKED, EXPIRED):
        raise bad(f"unknown status {status!r}")
    if _SERIAL.fullmatch(serial) is None:
        raise bad(f"bad serial {serial!r}")
    try:
        expires_at = parse_time(expires)
        revoked_at, revocation = None, _Revocation(None, None, None)
        if revoked:
            when, dummy, tail = revoked.partition(",")
            revoked_at = parse_time(when)
            revocation = _revocation_tail(tail)
    except ValueError as err:
        raise bad(str(err)) from None
    if status == REVOKED and revoked_at is None:
        raise bad("revoked entry without a revocation date")
    return IndexEntry(status=status, expires=expires_at, revoked_at=revoked_at,
                      reason=revocation.reason, serial=int(serial, 16), subject=subject,
                      filename=filename, invalidity_date=revocation.invalidity_date,
                      hold_instruction=revocation.hold_instruction)


def _read_text(path: str, missing_ok: bool) -> str:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        if missing_ok:
            return ""
        raise StoreError(f"missing certificate index {path}") from None
    except OSError as err:
        raise StoreError(f"cannot read {path}: {err.strerror or err}") from err
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # OpenSSL escapes non-ASCII bytes, but stay usable on odd files.
        return raw.decode("latin-1")


def _parse(text: str, path: str) -> list[IndexEntry]:
    entries: list[IndexEntry] = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line or line.startswith("#"):
            continue
        entries.append(parse_line(line, path, number))
    return entries


def read_index(path: StrPath) -> list[IndexEntry]:
    """All entries of the index file at ``path``, in file order."""
    name = os.fspath(path)
    return _parse(_read_text(name, missing_ok=False), name)


_ROW = re.compile(
    r"^([VRE])\t(\d{12}Z|\d{14}Z)\t([^\t\n]*)\t(-?[0-9A-Fa-f]+)\t[^\t\n]*\t[^\n]*$", re.M)
_NOT_DATA = re.compile(r"^(?:#[^\n]*|\r?)$", re.M)  # comments and blank lines


def _data_lines(text: str) -> int:
    """How many lines of ``text`` _parse would read (not blank, not comments)."""
    return text.count("\n") + 1 - len(_NOT_DATA.findall(text))


def _rows_cover(text: str, rows: list[tuple[str, str, str, str]]) -> bool:
    """True when ``rows``, the _ROW matches of ``text``, are all its data
    lines (those _parse would read)."""
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    # Every line a row (the usual file) settles it without the slower count.
    return len(rows) == lines or len(rows) == _data_lines(text)


_from_iso = datetime.fromisoformat


def _time_of(text: str, tzinfo: timezone | None) -> datetime:
    """parse_time for a text _ROW already matched (13 or 15 characters),
    through fromisoformat: a few times faster, same ranges checked."""
    if len(text) == 13:
        iso = "%s%s-%s-%sT%s:%s:%s" % ("19" if text[0] >= "5" else "20", text[:2], text[2:4],
                                       text[4:6], text[6:8], text[8:10], text[10:12])
    else:
        iso = "%s-%s-%sT%s:%s:%s" % (text[:4], text[4:6], text[6:8], text[8:10], text[10:12],
                                     text[12:14])
    value = _from_iso(iso)
    return value if tzinfo is None else value.replace(tzinfo=tzinfo)


def _times_valid(texts: Iterable[str]) -> bool:
    """True when every time text of ``texts`` is one parse_time accepts."""
    for text in texts:
        if text:
            try:
                if len(text) in (13, 15) and text[-1] == "Z" and text[:-1].isdigit():
                    _time_of(text, None)
                else:
                    parse_time(text)
            except ValueError:
                return False
    return True


def index_serials(path: StrPath) -> set[int]:
    """The set of serials listed in the index at ``path`` (missing file:
    empty). Accepts and refuses the same files as ``read_index`` but builds
    no entries: what issuance needs to draw a fresh serial."""
    name = os.fspath(path)
    if not os.path.exists(name):
        return set()
    text = _read_text(name, missing_ok=False)
    rows = _ROW.findall(text)
    times: set[str] = set()
    for _status, expires, revoked, _serial in rows:
        times.add(expires)
        if revoked:
            times.add(revoked.partition(",")[0])
    if (not _rows_cover(text, rows) or not _times_valid(times)
            or any(status == REVOKED and not revoked for status, _e, revoked, _s in rows)):
        return {entry.serial for entry in read_index(name)}  # raises, naming the line
    return {int(serial, 16) for _status, _expires, _revoked, serial in rows}


def read_revoked(path: str | os.PathLike, naive: bool = False,
                 with_expiry: bool = False) -> list[RevokedEntry]:
    """A RevokedEntry for every revoked line of the index at ``path``, in
    file order, for building a CRL; ``expires`` is filled in with
    ``with_expiry``. Datetimes are UTC: aware, or naive with ``naive`` (what
    cryptography stores).

    Accepts and refuses the same files as ``read_index`` (StoreError naming
    the line), but matches the lines with one regular expression and builds
    datetimes only for revoked entries: with 100,000 revocations this is
    several times faster than ``read_index``.
    """
    path = os.fspath(path)
    text = _read_text(path, missing_ok=False)
    rows = _ROW.findall(text)
    tzinfo = None if naive else timezone.utc
    if not _rows_cover(text, rows):
        # Some line has an unusual shape: the exact parser accepts it or
        # names what is wrong with it.
        return [_revoked_entry(e, naive, with_expiry) for e in read_index(path)
                if e.status == REVOKED]
    out = []
    expiries = set()
    try:
        for status, expires, revoked, serial in rows:
            when, dummy, tail = revoked.partition(",")
            revocation = _revocation_tail(tail)
            if status != REVOKED:
                expiries.add(expires)
                if revoked:
                    expiries.add(when)
                continue
            if with_expiry:
                expiry = _fast_time(expires, tzinfo)
            else:
                expiry = None
                expiries.add(expires)
            out.append(RevokedEntry(
                int(serial, 16), _fast_time(when, tzinfo), revocation.reason,
                _as_naive(revocation.invalidity_date) if naive else revocation.invalidity_date,
                expiry))
    except ValueError:  # a time or reason read_index would reject
        read_index(path)  # raises, naming the line
        raise StoreError(f"invalid revocation in {path}") from None
    if not _times_valid(expiries):  # a time read_index would reject
        read_index(path)  # raises, naming the line
        raise StoreError(f"invalid time in {path}")
    return out


def _fast_time(text: str, tzinfo: timezone | None) -> datetime:
    if len(text) in (13, 15) and text[-1] == "Z" and text[:-1].isdigit():
        return _time_of(text, tzinfo)
    value = parse_time(text)  # raises ValueError
    return value if tzinfo is not None else value.replace(tzinfo=None)


def _as_naive(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=None)


def _revoked_entry(entry: IndexEntry, naive: bool, with_expiry: bool) -> RevokedEntry:
    convert = _as_naive if naive else (lambda value: value)
    revoked_at = convert(entry.revoked_at)
    if revoked_at is None:  # parse_line gives every revoked line its date
        raise StoreError(f"serial {serial_hex(entry.serial)} is revoked without a revocation date")
    return RevokedEntry(entry.serial, revoked_at, entry.reason,
                        convert(entry.invalidity_date),
                        convert(entry.expires) if with_expiry else None)


def attr_path(path: StrPath) -> str:
    return os.fspath(path) + ".attr"


def write_index(path: StrPath, entries: Iterable[IndexEntry]) -> None:
    """Atomically replace the index at ``path`` with ``entries``, and make
    sure ``index.txt.attr`` says ``unique_subject = no``. Serials must be
    unique (StoreError otherwise)."""
    name = os.fspath(path)
    entries = list(entries)
    seen: set[int] = set()
    for entry in entries:
        if entry.serial in seen:
            raise StoreError(
                f"cannot write {name}: serial {serial_hex(entry.serial)} appears twice"
            )
        seen.add(entry.serial)
    write_text(name, "".join(format_line(entry) for entry in entries))
    _write_attr(attr_path(name))


def _write_attr(path: str) -> None:
    try:
        with open(path, "r", encoding="utf-8") as handle:
            if handle.read() == ATTR_TEXT:
                return
    except (OSError, UnicodeDecodeError):
        pass
    write_text(path, ATTR_TEXT)


def append_entry(path: StrPath, entry: IndexEntry) -> IndexEntry:
    """Add ``entry`` at the end of the index (created if missing).
    StoreError if its serial is already listed."""
    append_entries(path, [entry])
    return entry


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return b""
    except OSError as err:
        raise StoreError(f"cannot read {path}: {err.strerror or err}") from err


# One index line as _listed_serials_by_line accepts it: (status, serial).
_ROW_BYTES = re.compile(
    rb"^([VRE])\t[^\t\n]*\t[^\t\n]*\t(-?[0-9A-Fa-f]+)\t[^\t\n]*\t[^\n]*$", re.M)


def _listed_serials(data: bytes, path: str) -> dict[int, str]:
    """{serial: status} of the index bytes ``data``, checking each line's
    shape (six columns, known status, hex serial) but not parsing it."""
    rows = _ROW_BYTES.findall(data)
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if len(rows) == lines:  # the usual file: every line has that shape, none is blank
        return {int(serial, 16): status.decode("ascii") for status, serial in rows}
    # Comments, blank lines or a bad line: line by line (naming a bad one).
    return _listed_serials_by_line(data, path)


def _listed_serials_by_line(data: bytes, path: str) -> dict[int, str]:
    """_listed_serials, one line at a time."""
    listed: dict[int, str] = {}
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip(b"\r") or line.startswith(b"#"):
            continue
        fields = line.split(b"\t", 5)
        if len(fields) != 6 or fields[0] not in (b"V", b"R", b"E"):
            # Let the full parser name what is wrong with the line.
            parse_line(line.rstrip(b"\r").decode("latin-1"), path, number)
        try:
            serial = int(fields[3], 16)
        except ValueError:
            serial = None
        if serial is None or _SERIAL.fullmatch(fields[3].decode("latin-1")) is None:
            raise StoreError(f"invalid line {number} in {path}: bad serial {fields[3]!r}")
        listed[serial] = fields[0].decode("ascii")
    return listed


def append_entries(path: StrPath, entries: Iterable[IndexEntry]) -> list[IndexEntry]:
    """Add ``entries`` at the end of the index (created if missing), in one
    atomic replacement of the file. The lines already there are copied as
    they are. StoreError, before anything is written, if a serial is already
    listed or appears twice in ``entries``."""
    name = os.fspath(path)
    entries = list(entries)
    data = _read_bytes(name)
    listed = _listed_serials(data, name)
    for entry in entries:
        if entry.serial in listed:
            status = listed[entry.serial]
            raise StoreError(
                f"serial {serial_hex(entry.serial)} is already in {name} (status {status})"
                if status != "new" else
                f"cannot write {name}: serial {serial_hex(entry.serial)} appears twice"
            )
        listed[entry.serial] = "new"
    if data and not data.endswith(b"\n"):
        data += b"\n"
    added = "".join(format_line(entry) for entry in entries).encode("utf-8")
    write_file(name, data + added)
    _write_attr(attr_path(name))
    return entries


def find_entry(path: str | os.PathLike, serial: int) -> IndexEntry | None:
    """The entry of ``serial`` in the index at ``path`` (None if it has no
    line, or no file), found without parsing the other lines."""
    path = os.fspath(path)
    if not os.path.exists(path):
        return None
    text = _read_text(path, missing_ok=True)
    digits = f"{serial:X}" if serial >= 0 else None
    if digits is None:
        return None
    pattern = re.compile(rf"^[^\t\n]*\t[^\t\n]*\t[^\t\n]*\t0*{digits}\t[^\n]*$",
                         re.M | re.I)
    match = pattern.search(text)
    if match is None:
        return None
    number = text.count("\n", 0, match.start()) + 1
    return parse_line(match.group(0).rstrip("\r"), path, number)


class IndexLookup:
    """Entries of one index.txt by serial for a long-running reader (the
    OCSP responder): the file is read again only when it changed (another
    inode, size or modification time), then each answer is a dictionary
    lookup and the parse of one line."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self._stamp: tuple[int, int, int] | None = None
        self._lines: dict[int, tuple[int, str]] = {}

    def find(self, serial: int) -> IndexEntry | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
        if stamp != self._stamp:  # taken before the read: a later change is seen next time
            self._lines = self._read()
            self._stamp = stamp
        found = self._lines.get(serial)
        return None if found is None else parse_line(found[1], self.path, found[0])

    def _read(self) -> dict[int, tuple[int, str]]:
        lines = {}
        for number, line in enumerate(_read_text(self.path, missing_ok=True).split("\n"), 1):
            fields = line.split("\t", 4)
            if len(fields) < 4:
                continue
            try:
                lines[int(fields[3], 16)] = (number, line.rstrip("\r"))
            except ValueError:
                continue
        return lines
