"""The CA database on a PostgreSQL server, through psycopg 3.

Chosen at ``ca init`` with the name of an environment variable that holds
the connection string (``ca.meta.json`` records ``{"type": "postgresql",
"dsn_env": NAME}``, never the string: it may hold a password). The tables
are those of ``cert_db`` in PostgreSQL's types; one database holds one CA.
A write transaction first takes a transaction-level advisory lock, so
issuers on several machines that share the database change it one at a
time, as the CA lock does on one machine.

Two more tables let several working directories share one CA
(``shared_store``): ``audit_log`` holds the sealed audit chain (each
directory's ``audit.log`` is a copy of it) and ``changes`` numbers every
change to a certificate row, so that each directory can bring its files up
to date from where it last stopped.

Error messages name the variable, never the connection string.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import StoreError
from .cert_db import SCHEMA_VERSION, CertDatabase, CertRow
from .index import serial_hex

_SCHEMA = (
    """CREATE TABLE certificates (
        serial TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('V', 'R', 'E')),
        not_before TEXT, not_after TEXT NOT NULL, revoked_at TEXT, reason TEXT,
        invalidity_date TEXT, hold_instruction TEXT, subject TEXT NOT NULL, sans TEXT,
        profile TEXT, fingerprint TEXT, der BYTEA, filename TEXT NOT NULL DEFAULT 'unknown',
        index_offset BIGINT NOT NULL, index_width INTEGER NOT NULL)""",
    "CREATE INDEX certificates_by_expiry ON certificates (not_after)",
    "CREATE INDEX certificates_revoked ON certificates (serial) WHERE status = 'R'",
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE outbox (id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE TABLE qpki_schema (version INTEGER NOT NULL)",
)
# Added after the first schema: made when missing, in databases of either age.
_SHARING = (
    "CREATE TABLE IF NOT EXISTS audit_log (seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, "
    "line TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS changes (seq BIGSERIAL PRIMARY KEY, serial TEXT NOT NULL)",
)
# pg_advisory_xact_lock key of every write transaction ("qpki").
_WRITE_LOCK = 0x71706B69


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError("the CA database is on PostgreSQL, which needs the Python package "
                         "psycopg (pip install 'psycopg[binary]')") from None
    return psycopg


def _one_line(err: Exception, secret: str) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text.replace(secret, "(connection string)") if secret else text


class PostgresCertDatabase(CertDatabase):
    """``CertDatabase`` on a PostgreSQL connection."""

    def __init__(self, dsn_env: str, connection: Any, dsn: str) -> None:
        super().__init__(f"PostgreSQL database (from ${dsn_env})", connection)
        self.ERRORS = (_psycopg().Error,)
        self._dsn = dsn

    @classmethod
    def connect(cls, dsn_env: str, create: bool = False) -> PostgresCertDatabase:
        dsn = os.environ.get(dsn_env, "")
        where = f"PostgreSQL database (from ${dsn_env})"
        if not dsn:
            raise StoreError(f"the CA database is a {where}, but the environment variable "
                             f"{dsn_env} is not set")
        psycopg = _psycopg()
        try:
            connection = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
        except psycopg.Error as err:
            raise StoreError(f"cannot connect to the CA's {where}: "
                             f"{_one_line(err, dsn)}") from None
        except Exception:  # noqa: BLE001 - a malformed string; its text may hold the password
            raise StoreError(f"cannot connect to the CA's {where}: the connection string in "
                             f"{dsn_env} is not valid") from None
        database = cls(dsn_env, connection, dsn)
        try:
            database._check_schema(create)
        except BaseException:
            connection.close()
            raise
        return database

    def _check_schema(self, create: bool) -> None:
        schema, sharing = self._query("SELECT to_regclass('qpki_schema'), "
                                      "to_regclass('changes')").fetchone()
        if schema is None:
            if not create:
                raise StoreError(f"the {self.where} holds no CA database (no qpki tables)")
            with self.transaction():
                for statement in _SCHEMA + _SHARING:
                    self._query(statement)
                self._query("INSERT INTO qpki_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            return
        version = self._query("SELECT version FROM qpki_schema").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise StoreError(f"the {self.where} has schema version {version}; this qpki reads "
                             f"version {SCHEMA_VERSION}")
        if sharing is None:
            with self.transaction():
                for statement in _SHARING:
                    self._query(statement)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads that all see the same committed state."""
        self._query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            self._query("COMMIT")

    # ------------------------------------------------ sharing between directories

    def audit_head(self) -> tuple[int, str]:
        """(seq, hash) of the chain's last record; (0, "") when it is empty."""
        found = self._query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        return (0, "") if found is None else (found[0], found[1])

    def audit_hash(self, seq: int) -> str | None:
        found = self._query("SELECT hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
        return None if found is None else found[0]

    def audit_lines(self, after: int) -> list[str]:
        """The sealed lines after record ``after``, in order."""
        return [line for (line,) in self._query(
            "SELECT line FROM audit_log WHERE seq > ? ORDER BY seq", (after,))]

    def add_audit_lines(self, sealed: list[tuple[int, str, str]]) -> None:
        """(seq, hash, line) each."""
        self._many("INSERT INTO audit_log (seq, hash, line) VALUES (?, ?, ?)", sealed)

    def add_changes(self, serials: Iterable[int]) -> None:
        self._many("INSERT INTO changes (serial) VALUES (?)",
                   [(serial_hex(serial),) for serial in serials])

    def last_change(self) -> int:
        return self._query("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]

    def changed_rows(self, after: int) -> Iterator[CertRow]:
        """The rows changed by the changes numbered above ``after``."""
        return self.rows("serial IN (SELECT serial FROM changes WHERE seq > ?)", (after,))

    @property
    def where(self) -> str:
        return self.path

    def _begin(self) -> None:
        self._db.execute("BEGIN")
        self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))

    def _describe(self, err: Exception) -> str:
        return _one_line(err, self._dsn)

    def _query(self, sql: str, params: Any = ()) -> Any:
        return super()._query(sql.replace("?", "%s"), params)

    def _many(self, sql: str, rows: Any) -> None:
        cursor = self._db.cursor()
        try:
            cursor.executemany(sql.replace("?", "%s"), list(rows))
        except self.ERRORS as err:
            raise StoreError(f"CA database {self.where}: {self._describe(err)}") from None
        finally:
            cursor.close()
