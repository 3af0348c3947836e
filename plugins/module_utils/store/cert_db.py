"""The CA database, ``ca.db``: the truth about the certificates a CA issued.

SQLite through Python's ``sqlite3``, in WAL mode with ``synchronous=FULL``
(a commit is on disk when it returns; readers such as the OCSP responder
see it at once and never block the writer). Tables:

- ``certificates``: one row per certificate (serial as upper-case hex text,
  status, dates, one-line subject, SANs, profile, SHA-256 fingerprint, DER)
  and where its line sits in ``index.txt`` (byte offset and width);
- ``counters``: the last serial, the next CRL number and the size of
  ``index.txt`` as the database laid it out;
- ``outbox``: what an operation committed but has not yet put into the
  files derived from the database (audit records to append to
  ``audit.log``, certificates whose file and index line are to be
  written), so that a crash between the commit and those writes is
  finished by the next operation (``cert_store.CertStore.sync``).

Times are stored as ``2026-01-02T03:04:05Z`` text, which sorts in time
order. The schema version is SQLite's ``user_version``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import StoreError
from ..revocation import RevocationReason, RevokedEntry
from .index import IndexEntry, serial_hex
from .metafile import utc_text

DB_NAME = "ca.db"
SCHEMA_VERSION = 1
LAST_SERIAL, CRL_NUMBER, INDEX_SIZE = "last_serial", "crl_number", "index_size"

_SCHEMA = """
CREATE TABLE certificates (
    serial TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('V', 'R', 'E')),
    not_before TEXT,
    not_after TEXT NOT NULL,
    revoked_at TEXT,
    reason TEXT,
    invalidity_date TEXT,
    hold_instruction TEXT,
    subject TEXT NOT NULL,
    sans TEXT,
    profile TEXT,
    fingerprint TEXT,
    der BLOB,
    filename TEXT NOT NULL DEFAULT 'unknown',
    index_offset INTEGER NOT NULL,
    index_width INTEGER NOT NULL
);
CREATE INDEX certificates_by_expiry ON certificates (not_after);
CREATE INDEX certificates_revoked ON certificates (serial) WHERE status = 'R';
CREATE TABLE counters (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE outbox (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL);
"""

_COLUMNS = ("serial, status, not_before, not_after, revoked_at, reason, invalidity_date, "
            "hold_instruction, subject, sans, profile, fingerprint, der, filename, "
            "index_offset, index_width")
_ENTRY_COLUMNS = ("status, not_after, revoked_at, reason, invalidity_date, hold_instruction, "
                  "serial, subject, filename")


@dataclass(frozen=True)
class CertRow:
    """One certificate as the database holds it: its index entry, what the
    index cannot say (notBefore, SANs, profile, fingerprint, DER) and the
    place of its line in ``index.txt``."""

    entry: IndexEntry
    not_before: datetime | None = None
    sans: tuple[str, ...] = ()
    profile: str | None = None
    fingerprint: str | None = None
    der: bytes | None = field(default=None, repr=False)
    index_offset: int = 0
    index_width: int = 0

    @property
    def serial(self) -> int:
        return self.entry.serial

    def placed(self, offset: int, width: int) -> CertRow:
        # Not dataclasses.replace, which looks up the fields every time: once
        # per certificate of a batch, in the transaction.
        return CertRow(self.entry, self.not_before, self.sans, self.profile, self.fingerprint,
                       self.der, offset, width)


@dataclass(frozen=True)
class Outbox:
    """What committed operations still have to write to the derived files."""

    records: list[dict]
    serials: list[int]
    rewrite_index: bool

    def __bool__(self) -> bool:
        return bool(self.records or self.serials or self.rewrite_index)


def _text(value: datetime | None) -> str | None:
    return None if value is None else utc_text(value)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def _required_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _entry(row: tuple) -> IndexEntry:
    status, not_after, revoked_at, reason, invalidity, hold, serial, subject, filename = row
    return IndexEntry(status=status, expires=_required_time(not_after), revoked_at=_time(revoked_at),
                      reason=RevocationReason.parse(reason) if reason else None,
                      serial=int(serial, 16), subject=subject, filename=filename,
                      invalidity_date=_time(invalidity), hold_instruction=hold)


def _entry_values(entry: IndexEntry) -> tuple:
    return (entry.status, _text(entry.expires), _text(entry.revoked_at),
            entry.reason.value if entry.reason else None, _text(entry.invalidity_date),
            entry.hold_instruction)


class CertDatabase:
    """An open ``ca.db``. Writes happen inside ``transaction()``; callers
    hold the CA lock, so SQLite's own lock is never contended by writers."""

    def __init__(self, path: str, connection: Any) -> None:
        self.path = path
        self._db = connection  # sqlite3's, or psycopg's (cert_db_postgres)

    @classmethod
    def open(cls, path: str | os.PathLike, create: bool = False) -> CertDatabase:
        path = os.fspath(path)
        if not create and not os.path.exists(path):
            raise StoreError(f"missing CA database {path}")
        try:
            connection = sqlite3.connect(path, timeout=30.0, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version == 0 and create:
                connection.executescript("BEGIN;" + _SCHEMA
                                         + f"PRAGMA user_version={SCHEMA_VERSION};COMMIT;")
            elif version != SCHEMA_VERSION:
                connection.close()
                raise StoreError(f"CA database {path} has schema version {version}; this qpki "
                                 f"reads version {SCHEMA_VERSION}")
        except sqlite3.Error as err:
            raise StoreError(f"cannot open the CA database {path}: {err}") from None
        return cls(path, connection)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic change: every write inside is committed together, or
        none is. Writers wait for each other (``_begin``)."""
        try:
            self._begin()
        except self.ERRORS as err:
            raise StoreError(f"cannot write the CA database {self.where}: "
                             f"{self._describe(err)}") from None
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except self.ERRORS as err:
            raise StoreError(f"cannot commit to the CA database {self.where}: "
                             f"{self._describe(err)}") from None

    # What a back end changes: how a write transaction starts, how a
    # statement with ``?`` parameters runs, the errors it raises.
    ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)

    @property
    def where(self) -> str:
        return self.path

    def _begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def _describe(self, err: Exception) -> str:
        return str(err)

    def _query(self, sql: str, params: Iterable = ()) -> Any:
        try:
            return self._db.execute(sql, tuple(params))
        except self.ERRORS as err:
            raise StoreError(f"CA database {self.where}: {self._describe(err)}") from None

    def _many(self, sql: str, rows: Iterable[tuple]) -> None:
        try:
            self._db.executemany(sql, rows)
        except self.ERRORS as err:
            raise StoreError(f"CA database {self.where}: {self._describe(err)}") from None

    # ------------------------------------------------------------ reads

    def entry(self, serial: int) -> IndexEntry | None:
        found = self._query(f"SELECT {_ENTRY_COLUMNS} FROM certificates WHERE serial = ?",
                            (serial_hex(serial),)).fetchone()
        return None if found is None else _entry(found)

    def placement(self, serial: int) -> tuple[IndexEntry, int, int] | None:
        """The entry of ``serial`` with its line's offset and width."""
        found = self._query(f"SELECT {_ENTRY_COLUMNS}, index_offset, index_width FROM "
                            "certificates WHERE serial = ?", (serial_hex(serial),)).fetchone()
        return None if found is None else (_entry(found[:9]), found[9], found[10])

    def contains(self, serial: int) -> bool:
        return self._query("SELECT 1 FROM certificates WHERE serial = ?",
                           (serial_hex(serial),)).fetchone() is not None

    def revoked(self) -> list[tuple]:
        """(serial, revoked_at, reason, invalidity_date, not_after) text
        tuples of the revoked certificates, through the partial index."""
        return self._query("SELECT serial, revoked_at, reason, invalidity_date, not_after "
                           "FROM certificates WHERE status = 'R'").fetchall()

    def counts(self) -> tuple[int, int]:
        """(certificates, revoked ones)."""
        total = self._query("SELECT count(*) FROM certificates").fetchone()[0]
        revoked = self._query("SELECT count(*) FROM certificates WHERE status = 'R'").fetchone()[0]
        return total, revoked

    def entries(self) -> Iterator[tuple[IndexEntry, int, int]]:
        """Every entry with its line's offset and width, in index order."""
        cursor = self._query(f"SELECT {_ENTRY_COLUMNS}, index_offset, index_width FROM "
                             "certificates ORDER BY index_offset")
        for found in cursor:
            yield _entry(found[:9]), found[9], found[10]

    def rows(self, where: str = "", params: Iterable = (), order: str = "index_offset",
             limit: int | None = None) -> Iterator[CertRow]:
        """Full rows matching the SQL condition ``where`` (written by this
        package, never from input: values go in ``params``)."""
        sql = f"SELECT {_COLUMNS} FROM certificates"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        for found in self._query(sql, params):
            (serial, status, not_before, not_after, revoked_at, reason, invalidity, hold,
             subject, sans, profile, fingerprint, der, filename, offset, width) = found
            entry = _entry((status, not_after, revoked_at, reason, invalidity, hold, serial,
                            subject, filename))
            yield CertRow(entry, _time(not_before), tuple(json.loads(sans)) if sans else (),
                          profile, fingerprint, der, offset, width)

    def counter(self, name: str) -> str | None:
        found = self._query("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return None if found is None else found[0]

    def outbox(self) -> Outbox:
        records, serials, rewrite = [], [], False
        for kind, body in self._query("SELECT kind, body FROM outbox ORDER BY id"):
            if kind == "audit":
                records.append(json.loads(body))
            elif kind == "cert":
                serials.append(int(body, 16))
            elif kind == "rewrite":
                rewrite = True
        return Outbox(records, serials, rewrite)

    # ------------------------------------------------------------ writes

    def insert(self, rows: list[CertRow]) -> None:
        self._many(f"INSERT INTO certificates ({_COLUMNS}) VALUES "
                   "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", map(_row_values, rows))

    def replace_all(self, rows: list[CertRow]) -> None:
        """Every row replaced by ``rows``."""
        self._query("DELETE FROM certificates")
        self.insert(rows)

    def update_entry(self, entry: IndexEntry) -> None:
        """Write ``entry``'s status and revocation columns."""
        status, dummy, revoked_at, reason, invalidity, hold = _entry_values(entry)
        self._query("UPDATE certificates SET status = ?, revoked_at = ?, reason = ?, "
                    "invalidity_date = ?, hold_instruction = ? WHERE serial = ?",
                    (status, revoked_at, reason, invalidity, hold, serial_hex(entry.serial)))

    def move_lines(self, placements: list[tuple[int, int, int]]) -> None:
        """New (offset, width) of index lines: (serial, offset, width) each."""
        self._many(
            "UPDATE certificates SET index_offset = ?, index_width = ? WHERE serial = ?",
            [(offset, width, serial_hex(serial)) for serial, offset, width in placements])

    def set_counter(self, name: str, value: str) -> None:
        self._query("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) "
                    "DO UPDATE SET value = excluded.value", (name, value))

    def add_outbox(self, records: Sequence[dict] = (), serials: Iterable[int] = (),
                   rewrite_index: bool = False) -> None:
        items = [("audit", json.dumps(record, sort_keys=False)) for record in records]
        items += [("cert", serial_hex(serial)) for serial in serials]
        if rewrite_index:
            items.append(("rewrite", ""))
        self._many("INSERT INTO outbox (kind, body) VALUES (?, ?)", items)

    def clear_outbox(self) -> None:
        self._query("DELETE FROM outbox")


def _row_values(row: CertRow) -> tuple:
    status, not_after, revoked_at, reason, invalidity, hold = _entry_values(row.entry)
    return (serial_hex(row.serial), status, _text(row.not_before), not_after, revoked_at, reason,
            invalidity, hold, row.entry.subject, json.dumps(list(row.sans)) if row.sans else None,
            row.profile, row.fingerprint, row.der, row.entry.filename, row.index_offset,
            row.index_width)


def revoked_entry(found: tuple, naive: bool, with_expiry: bool) -> RevokedEntry:
    """A RevokedEntry from a ``CertDatabase.revoked`` tuple."""
    serial, revoked_at, reason, invalidity, not_after = found
    convert = _naive if naive else _time
    when = _required_time(revoked_at)
    return RevokedEntry(int(serial, 16), when.replace(tzinfo=None) if naive else when,
                        RevocationReason.parse(reason) if reason else None,
                        convert(invalidity), convert(not_after) if with_expiry else None)


def _naive(text: str | None) -> datetime | None:
    value = _time(text)
    return None if value is None else value.replace(tzinfo=None)
