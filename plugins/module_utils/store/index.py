"""The CA's certificate database, ``index.txt``, in ``openssl ca`` format.

One line per issued certificate, six tab-separated columns::

    V  <expiry>  <empty>                  <SERIAL>  unknown  <subject>
    R  <expiry>  <revoked>[,<reason>...]  <SERIAL>  unknown  <subject>

Status ``V`` (valid), ``R`` (revoked) or ``E`` (expired, set by ``openssl ca
-updatedb``). Times are ``YYMMDDHHMMSSZ`` (UTCTime) for 1950..2049 and
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
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import lru_cache

from ..errors import InputError, StoreError
from .atomic import write_file, write_text
from .dn_oneline import escape_text, oneline

VALID, REVOKED, EXPIRED = "V", "R", "E"
ATTR_TEXT = "unique_subject = no\n"

# Reason names as ``openssl ca`` spells them (privilegeWithdrawn and
# aACompromise are RFC 5280 reasons that ``openssl ca -gencrl`` does not know).
REASONS = (
    "unspecified",
    "keyCompromise",
    "CACompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "certificateHold",
    "removeFromCRL",
    "privilegeWithdrawn",
    "aACompromise",
)
_REASON_KEYS = {name.lower(): name for name in REASONS}

_SERIAL = re.compile(r"-?[0-9A-Fa-f]+")


@dataclass(frozen=True)
class IndexEntry:
    """One index line. ``subject`` is in one-line form; datetimes are UTC.

    ``reason_arg`` keeps the third part of an OpenSSL revocation column
    (compromise time or hold instruction) so that lines written by
    ``openssl ca`` survive a rewrite unchanged.
    """

    status: str
    expires: datetime
    revoked_at: datetime | None
    reason: str | None
    serial: int
    subject: str
    reason_arg: str | None = None
    filename: str = "unknown"


def canonical_reason(reason):
    """OpenSSL's spelling of a revocation reason, accepting any case and
    ``_``/``-`` separators (``key_compromise`` -> ``keyCompromise``)."""
    key = str(reason).replace("_", "").replace("-", "").lower()
    if key not in _REASON_KEYS:
        raise InputError(
            f"unknown revocation reason {reason!r}; expected one of {', '.join(REASONS)}"
        )
    return _REASON_KEYS[key]


def serial_hex(serial):
    """``1A2B`` for 0x1a2b: upper case, even number of digits (``00`` for 0)."""
    text = f"{serial:X}" if serial >= 0 else f"{-serial:X}"
    if len(text) % 2:
        text = "0" + text
    return text if serial >= 0 else "-" + text


def format_time(value):
    """ASN.1 time text as OpenSSL stores it: UTCTime for 1950..2049."""
    return _format_time(value)


@lru_cache(maxsize=1024)
def _format_time(value):
    # Cached: the certificates of a batch share their notAfter.
    value = to_utc(value)
    if 1950 <= value.year < 2050:
        return value.strftime("%y%m%d%H%M%SZ")
    return f"{value.year:04d}" + value.strftime("%m%d%H%M%SZ")


def to_utc(value):
    """``value`` as an aware UTC datetime to the second (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(microsecond=0)


def parse_time(text):
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


def entry_for_certificate(cert):
    """The ``V`` line ``openssl ca`` would add for ``cert`` (a
    ``cryptography.x509.Certificate``)."""
    return valid_entry(cert.serial_number, cert.not_valid_after_utc, oneline(cert.subject))


def valid_entry(serial, expires, subject):
    """The ``V`` line of a new certificate from its serial, notAfter and
    one-line subject (``oneline``): ``entry_for_certificate`` for a caller
    that already has them (a batch worker works them out, its parent
    records them without loading the certificate again)."""
    return IndexEntry(status=VALID, expires=expires, revoked_at=None, reason=None,
                      serial=serial, subject=subject)


def format_line(entry):
    """The text line (with newline) for ``entry``."""
    revoked = ""
    if entry.revoked_at is not None:
        revoked = format_time(entry.revoked_at)
        if entry.reason:
            revoked += "," + entry.reason
            if entry.reason_arg:
                revoked += "," + entry.reason_arg
    fields = (
        entry.status,
        format_time(entry.expires),
        revoked,
        serial_hex(entry.serial),
        escape_text(entry.filename),
        escape_text(entry.subject),
    )
    return "\t".join(fields) + "\n"


def parse_line(line, path, number):
    """The IndexEntry of one line; StoreError naming path and line if bad."""
    fields = line.split("\t", 5)

    def bad(why):
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
        revoked_at = reason = reason_arg = None
        if revoked:
            when, dummy, tail = revoked.partition(",")
            revoked_at = parse_time(when)
            reason, dummy, reason_arg = tail.partition(",")
            reason, reason_arg = reason or None, reason_arg or None
    except ValueError as err:
        raise bad(str(err)) from None
    if status == REVOKED and revoked_at is None:
        raise bad("revoked entry without a revocation date")
    return IndexEntry(
        status,
        expires_at,
        revoked_at,
        reason,
        int(serial, 16),
        subject,
        reason_arg,
        filename,
    )


def _read_text(path, missing_ok):
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


def _parse(text, path):
    entries = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line or line.startswith("#"):
            continue
        entries.append(parse_line(line, path, number))
    return entries


def read_index(path):
    """All entries of the index file at ``path``, in file order."""
    path = os.fspath(path)
    return _parse(_read_text(path, missing_ok=False), path)


_ROW = re.compile(
    r"^([VRE])\t(\d{12}Z|\d{14}Z)\t([^\t\n]*)\t(-?[0-9A-Fa-f]+)\t[^\t\n]*\t[^\n]*$", re.M)
_NOT_DATA = re.compile(r"^(?:#[^\n]*|\r?)$", re.M)  # comments and blank lines


def _data_lines(text):
    """How many lines of ``text`` _parse would read (not blank, not comments)."""
    return text.count("\n") + 1 - len(_NOT_DATA.findall(text))


def _rows_cover(text, rows):
    """True when ``rows``, the _ROW matches of ``text``, are all its data
    lines (those _parse would read)."""
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    # Every line a row (the usual file) settles it without the slower count.
    return len(rows) == lines or len(rows) == _data_lines(text)


_from_iso = datetime.fromisoformat


def _time_of(text, tzinfo):
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


def _times_valid(texts):
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


def index_serials(path):
    """The set of serials listed in the index at ``path`` (missing file:
    empty). Accepts and refuses the same files as ``read_index`` but builds
    no entries: what issuance needs to draw a fresh serial."""
    path = os.fspath(path)
    if not os.path.exists(path):
        return set()
    text = _read_text(path, missing_ok=False)
    rows = _ROW.findall(text)
    times = set()
    for _status, expires, revoked, _serial in rows:
        times.add(expires)
        if revoked:
            times.add(revoked.partition(",")[0])
    if (not _rows_cover(text, rows) or not _times_valid(times)
            or any(status == REVOKED and not revoked for status, _e, revoked, _s in rows)):
        return {entry.serial for entry in read_index(path)}  # raises, naming the line
    return {int(serial, 16) for _status, _expires, _revoked, serial in rows}


def read_revoked(path, naive=False):
    """(serial, revocation datetime, reason or None) of every revoked entry
    of the index at ``path``, in file order, for building a CRL. Datetimes
    are UTC: aware, or naive with ``naive`` (what cryptography stores).

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
        return [(e.serial, e.revoked_at if not naive else e.revoked_at.replace(tzinfo=None),
                 e.reason) for e in read_index(path) if e.status == REVOKED]
    out = []
    expiries = set()
    for status, expires, revoked, serial in rows:
        expiries.add(expires)
        if status != REVOKED:
            if revoked:
                expiries.add(revoked.partition(",")[0])
            continue
        when, dummy, tail = revoked.partition(",")
        try:
            revoked_at = _time_of(when, tzinfo) if len(when) in (13, 15) and when[-1] == "Z" \
                and when[:-1].isdigit() else parse_time(when)
        except ValueError:
            revoked_at = None
        if revoked_at is None:
            read_index(path)  # raises, naming the line
            raise StoreError(f"invalid revocation time {when!r} in {path}")
        out.append((int(serial, 16), revoked_at, tail.partition(",")[0] or None))
    if not _times_valid(expiries):  # a time read_index would reject
        read_index(path)  # raises, naming the line
        raise StoreError(f"invalid time in {path}")
    return out


def attr_path(path):
    return os.fspath(path) + ".attr"


def write_index(path, entries):
    """Atomically replace the index at ``path`` with ``entries``, and make
    sure ``index.txt.attr`` says ``unique_subject = no``. Serials must be
    unique (StoreError otherwise)."""
    path = os.fspath(path)
    seen = set()
    for entry in entries:
        if entry.serial in seen:
            raise StoreError(
                f"cannot write {path}: serial {serial_hex(entry.serial)} appears twice"
            )
        seen.add(entry.serial)
    write_text(path, "".join(format_line(entry) for entry in entries))
    _write_attr(attr_path(path))


def _write_attr(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            if handle.read() == ATTR_TEXT:
                return
    except (OSError, UnicodeDecodeError):
        pass
    write_text(path, ATTR_TEXT)


def append_entry(path, entry):
    """Add ``entry`` at the end of the index (created if missing).
    StoreError if its serial is already listed."""
    append_entries(path, [entry])
    return entry


def _read_bytes(path):
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


def _listed_serials(data, path):
    """{serial: status} of the index bytes ``data``, checking each line's
    shape (six columns, known status, hex serial) but not parsing it."""
    rows = _ROW_BYTES.findall(data)
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if len(rows) == lines:  # the usual file: every line has that shape, none is blank
        return {int(serial, 16): status.decode("ascii") for status, serial in rows}
    # Comments, blank lines or a bad line: line by line (naming a bad one).
    return _listed_serials_by_line(data, path)


def _listed_serials_by_line(data, path):
    """_listed_serials, one line at a time."""
    listed = {}
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


def append_entries(path, entries):
    """Add ``entries`` at the end of the index (created if missing), in one
    atomic replacement of the file. The lines already there are copied as
    they are. StoreError, before anything is written, if a serial is already
    listed or appears twice in ``entries``."""
    path = os.fspath(path)
    data = _read_bytes(path)
    listed = _listed_serials(data, path)
    for entry in entries:
        if entry.serial in listed:
            status = listed[entry.serial]
            raise StoreError(
                f"serial {serial_hex(entry.serial)} is already in {path} (status {status})"
                if status != "new" else
                f"cannot write {path}: serial {serial_hex(entry.serial)} appears twice"
            )
        listed[entry.serial] = "new"
    if data and not data.endswith(b"\n"):
        data += b"\n"
    added = "".join(format_line(entry) for entry in entries).encode("utf-8")
    write_file(path, data + added)
    _write_attr(attr_path(path))
    return list(entries)


def mark_revoked(path, serial, when, reason=None):
    """Turn the entry for ``serial`` into a revoked one and return it.

    ``when`` is the revocation time (datetime), ``reason`` a revocation
    reason name or None. StoreError if the serial is not in the index or
    already revoked; valid and expired entries may be revoked.
    """
    path = os.fspath(path)
    if reason is not None:
        reason = canonical_reason(reason)
    entries = read_index(path)
    for position, existing in enumerate(entries):
        if existing.serial != serial:
            continue
        if existing.status == REVOKED:
            raise StoreError(
                f"serial {serial_hex(serial)} is already revoked "
                f"(since {existing.revoked_at:%Y-%m-%d %H:%M:%S} UTC) in {path}"
            )
        updated = replace(
            existing,
            status=REVOKED,
            revoked_at=to_utc(when),
            reason=reason,
            reason_arg=None,
        )
        entries[position] = updated
        write_index(path, entries)
        return updated
    raise StoreError(
        f"serial {serial_hex(serial)} is not in the certificate index {path}"
    )
