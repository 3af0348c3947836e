"""The certificate state of a CA directory, behind one interface.

``CertStore`` is the CA database (``ca.db``, see ``cert_db``) and the files
made from it: ``certs/<SERIAL>.crt``, ``index.txt`` (``index_file``), the
``serial`` and ``crlnumber`` counters and ``audit.log``. Every change is one
database transaction holding the certificate rows, the counters and the
change's audit records (in the outbox); the files follow, then the outbox
is emptied. Whatever a crash left between the commit and the files is
finished by ``finish`` in the next operation that changes the CA, from the
database alone.

``IndexFileReader`` answers the same questions from ``index.txt`` for a CA
directory that has no database yet (made by an earlier qpki or by
``openssl ca``): reading never migrates; the first change does
(``ops.ca.database``).

Callers that change the store hold the CA lock.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import Protocol

from ..der import pem_armor
from ..errors import StoreError
from ..revocation import RevokedEntry
from . import audit as store_audit
from .atomic import StagedFiles, remove_stale_temps, staged_files
from .ca_dir import CaDir
from .counter_file import write_counter_file
from .cert_query import CertQuery
from .cert_db import CRL_NUMBER, DB_NAME, INDEX_SIZE, LAST_SERIAL, CertDatabase, CertRow, \
    Outbox, revoked_entry
from .index import IndexEntry, IndexLookup, find_entry, index_serials, read_index, read_revoked, serial_hex
from .index_file import fitted_line, new_line, rewrite, stamp, truncate, write_at

INDEX_STAMP = "index_stamp"


class CertReader(Protocol):
    """What every store answers."""

    def find(self, serial: int) -> IndexEntry | None: ...

    def revoked_entries(self, naive: bool = False,
                        with_expiry: bool = False) -> list[RevokedEntry]: ...

    def counts(self) -> tuple[int, int]: ...

    def entries(self) -> list[IndexEntry]: ...

    def close(self) -> None: ...

    def __enter__(self) -> CertReader: ...

    def __exit__(self, *exc: object) -> None: ...


def database_path(ca: CaDir) -> str:
    return os.path.join(ca.path, DB_NAME)


def store_entry(ca: CaDir) -> dict:
    """The ``store`` entry of ``ca.meta.json`` ({} when there is none)."""
    try:
        with open(ca.meta, "rb") as handle:
            entry = json.load(handle).get("store")
    except (OSError, ValueError, AttributeError):
        return {}
    return entry if isinstance(entry, dict) else {}


def postgres_variable(ca: CaDir) -> str | None:
    """The environment variable of a CA whose database is on PostgreSQL."""
    entry = store_entry(ca)
    if entry.get("type") != "postgresql":
        return None
    if not isinstance(entry.get("dsn_env"), str) or not entry["dsn_env"]:
        raise StoreError(f"invalid {ca.meta}: store.dsn_env must name an environment variable")
    return entry["dsn_env"]


def has_database(ca: CaDir) -> bool:
    return postgres_variable(ca) is not None or os.path.exists(database_path(ca))


def read_store(ca: CaDir) -> CertReader:
    """The CA's store for reading: its database, or its index file when it
    has none yet."""
    if has_database(ca):
        return write_store(ca)
    return IndexFileReader(ca)


def write_store(ca: CaDir, create: bool = False) -> CertStore:
    """The CA's database for a change (``ops.ca.database.ensure_database``
    made it at the operation's start): ``ca.db``, or a PostgreSQL database
    that working directories may share (``shared_store``)."""
    variable = postgres_variable(ca)
    if variable is not None:
        from .cert_db_postgres import PostgresCertDatabase
        from .shared_store import SharedCertStore

        return SharedCertStore(ca, PostgresCertDatabase.connect(variable, create))
    return CertStore(ca, CertDatabase.open(database_path(ca), create))


def append_audit(ca: CaDir, records: list[dict]) -> None:
    """Append audit records of a change made outside a store transaction
    (a CRL, a rotation, a repair): to ``audit.log``, or first to the chain
    a shared database keeps. The caller holds the CA lock."""
    if postgres_variable(ca) is None:
        store_audit.append_records(ca.path, records)
        return
    from .shared_store import SharedCertStore

    with write_store(ca) as store:
        if not isinstance(store, SharedCertStore):
            raise StoreError(f"internal error: CA {ca.path} names a PostgreSQL database but "
                             "opened another")
        store.append_audit(records)


def current_entries(ca: CaDir) -> list[IndexEntry]:
    """The certificates as the next change to the CA will find them: the
    database's, or the lines of an ``index.txt`` changed outside qpki,
    which that change takes into the database."""
    with read_store(ca) as store:
        if isinstance(store, CertStore) and store.index_changed():
            return read_index(ca.index)
        return store.entries()


def find_certificate(ca: CaDir, serial: int) -> IndexEntry | None:
    """The entry of ``serial`` in the CA's store (None if it has none)."""
    with read_store(ca) as store:
        return store.find(serial)


def revoked_serials(ca: CaDir) -> set[int]:
    """The serials the CA lists as revoked."""
    with read_store(ca) as store:
        return {entry.serial for entry in store.revoked_entries()}


class IndexFileReader:
    """The read side of a store, from ``index.txt`` alone."""

    def __init__(self, ca: CaDir) -> None:
        self.ca = ca

    def find(self, serial: int) -> IndexEntry | None:
        return find_entry(self.ca.index, serial)

    def revoked_entries(self, naive: bool = False,
                        with_expiry: bool = False) -> list[RevokedEntry]:
        if not self.ca.index.exists():
            return []
        return read_revoked(self.ca.index, naive=naive, with_expiry=with_expiry)

    def counts(self) -> tuple[int, int]:
        if not self.ca.index.exists():
            return 0, 0
        return len(index_serials(self.ca.index)), len(read_revoked(self.ca.index))

    def entries(self) -> list[IndexEntry]:
        return read_index(self.ca.index) if self.ca.index.exists() else []

    def close(self) -> None:
        pass

    def __enter__(self) -> IndexFileReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CertStore:
    """A CA database and the files derived from it."""

    def __init__(self, ca: CaDir, db: CertDatabase) -> None:
        self.ca = ca
        self.db = db
        self.stamp_counter = INDEX_STAMP

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> CertStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ reads

    def find(self, serial: int) -> IndexEntry | None:
        return self.db.entry(serial)

    def __contains__(self, serial: int) -> bool:
        return self.db.contains(serial)

    def revoked_entries(self, naive: bool = False,
                        with_expiry: bool = False) -> list[RevokedEntry]:
        return [revoked_entry(found, naive, with_expiry) for found in self.db.revoked()]

    def counts(self) -> tuple[int, int]:
        return self.db.counts()

    def entries(self) -> list[IndexEntry]:
        return [entry for entry, dummy, unused in self.db.entries()]

    def row(self, serial: int) -> CertRow | None:
        return next(self.db.rows("serial = ?", (serial_hex(serial),)), None)

    def rows(self, where: str = "", params: tuple = (), order: str = "index_offset",
             limit: int | None = None) -> Iterator[CertRow]:
        return self.db.rows(where, params, order, limit)

    def select(self, query: CertQuery) -> Iterator[CertRow]:
        """The rows ``query`` selects, in its order."""
        where, params, order = query.sql()
        return self.db.rows(where, params, order)

    # ------------------------------------------------------------ changes

    def record_issued(self, rows: list[CertRow], records: list[dict],
                      files: StagedFiles | None = None) -> None:
        """Commit new certificates (``rows``, in issuing order) with their
        audit ``records``, then write their files: ``files`` (the CA's
        copies, already staged) or files made from the rows' DER."""
        if not rows:
            return
        try:
            with self.db.transaction():
                size = self._index_size()
                placed, lines = [], []
                for row in rows:
                    line = new_line(row.entry)
                    placed.append(row.placed(size, len(line)))
                    lines.append(line)
                    size += len(line)
                self.db.insert(placed)
                self.db.set_counter(INDEX_SIZE, str(size))
                self.db.set_counter(LAST_SERIAL, serial_hex(rows[-1].serial))
                self._log_change(records, [row.serial for row in rows])
        except BaseException:
            if files is not None:
                files.discard()
            raise
        self._write_issued(placed, b"".join(lines), files, records)

    def _log_change(self, records: list[dict], serials: list[int],
                    rewrite_index: bool = False) -> None:
        """Inside a change's transaction: what its files will need."""
        self.db.add_outbox(records, serials, rewrite_index)

    def _write_issued(self, placed: list[CertRow], lines: bytes, files: StagedFiles | None,
                      records: list[dict]) -> None:
        """After the commit of new certificates: their files."""
        if files is None:
            files = self._cert_files(placed)
        files.commit()
        write_at(self.ca.index, placed[0].index_offset, lines)
        self._finish_files(records)

    def change(self, serial: int, change: Callable[[IndexEntry], IndexEntry],
               record: Callable[[IndexEntry, IndexEntry], dict]) -> tuple[IndexEntry, IndexEntry]:
        """Replace the entry of ``serial`` by ``change(entry)`` (which raises
        to refuse), with the audit record ``record(before, after)``, in one
        transaction; then its index line. Returns (before, after)."""
        with self.db.transaction():
            found = self.db.placement(serial)
            if found is None:
                raise StoreError(f"serial {serial_hex(serial)} is not in the certificate index "
                                 f"of CA {self.ca.path}")
            before, offset, width = found
            after = change(before)
            records = [record(before, after)]
            line = fitted_line(after, width)
            self.db.update_entry(after)
            self._log_change(records, [serial], rewrite_index=line is None)
        self._write_changed(offset, line, records)
        return before, after

    def _write_changed(self, offset: int, line: bytes | None, records: list[dict]) -> None:
        """After the commit of a changed row: its index line."""
        if line is None:
            self._rewrite_index()
        else:
            write_at(self.ca.index, offset, line)
        self._finish_files(records)

    def take_crl_number(self) -> int:
        """The number of the next CRL (1, 2, 3...), taken for good."""
        with self.db.transaction():
            number = int(self.db.counter(CRL_NUMBER) or "1", 16)
            self.db.set_counter(CRL_NUMBER, serial_hex(number + 1))
        self._write_counter_file(self.ca.crlnumber, serial_hex(number + 1))
        return number

    def set_next_crl_number(self, number: int) -> None:
        with self.db.transaction():
            self.db.set_counter(CRL_NUMBER, serial_hex(number))

    def crl_number(self) -> int | None:
        """The number of the latest CRL taken, or None if none was."""
        number = int(self.db.counter(CRL_NUMBER) or "1", 16)
        return None if number <= 1 else number - 1

    # ------------------------------------------------------------ derived files

    def outbox(self) -> Outbox:
        return self.db.outbox()

    def finish(self, box: Outbox) -> list[str]:
        """Write the files of committed changes a crash left behind (the
        audit log's torn last line is the caller's to cut first). Returns
        one note per kind of file made again."""
        notes = []
        if box.serials:
            for directory in (self.ca.certs_dir, self.ca.path):
                remove_stale_temps(directory, min_age=0)  # under the CA lock: orphans
            self._cert_files([row for serial in box.serials
                              for row in self.rows("serial = ?", (serial_hex(serial),))]).commit()
            notes.append(f"wrote the files of {len(box.serials)} certificate(s) an interrupted "
                         "operation had committed")
        if box.rewrite_index:
            self._rewrite_index()
        else:
            for serial in box.serials:
                found = self.db.placement(serial)
                if found is not None:
                    entry, offset, width = found
                    line = fitted_line(entry, width)
                    if line is None:
                        self._rewrite_index()
                        break
                    write_at(self.ca.index, offset, line)
            truncate(self.ca.index, self._index_size())
        if box.records:
            appended = store_audit.append_unlogged(self.ca.path, box.records)
            if appended:
                notes.append(f"appended {len(appended)} audit record(s) of an interrupted "
                             "operation")
        self._finish_files([])
        return notes

    def index_changed(self) -> bool:
        """True when ``index.txt`` is not the file qpki last wrote."""
        return self.db.counter(self.stamp_counter) != stamp(self.ca.index)

    def _index_size(self) -> int:
        return int(self.db.counter(INDEX_SIZE) or "0")

    def _cert_files(self, rows: list[CertRow]) -> StagedFiles:
        return staged_files([(self.ca.cert_path(row.serial), pem_armor(row.der, "CERTIFICATE"))
                             for row in rows if row.der is not None])

    def _rewrite_index(self) -> None:
        placements, size = rewrite(self.ca.index, (entry for entry, dummy, unused
                                                   in self.db.entries()))
        with self.db.transaction():
            self.db.move_lines(placements)
            self.db.set_counter(INDEX_SIZE, str(size))

    def _finish_files(self, records: list[dict]) -> None:
        """After the index: the counters' files, the audit records, and the
        outbox emptied with the index file's stamp recorded."""
        self._write_counter_file(self.ca.serial, self.db.counter(LAST_SERIAL))
        self._write_counter_file(self.ca.crlnumber, self.db.counter(CRL_NUMBER))
        if records:
            store_audit.append_records(self.ca.path, records)
        with self.db.transaction():
            self.db.clear_outbox()
            self.db.set_counter(self.stamp_counter, stamp(self.ca.index))

    @staticmethod
    def _write_counter_file(path: os.PathLike[str], value: str | None) -> None:
        """A counter file from the database's hex text (nothing when unset)."""
        if value is not None:
            write_counter_file(path, int(value, 16))


class StatusLookup:
    """Entries by serial for a long-running reader (the OCSP responder's
    threads): from the database once the CA has one (every answer sees the
    last commit), else from ``index.txt`` (``index.IndexLookup``)."""

    def __init__(self, ca: CaDir) -> None:
        self.ca = ca
        self._lock = threading.Lock()
        self._store: CertStore | None = None
        self._index = IndexLookup(ca.index)

    def find(self, serial: int) -> IndexEntry | None:
        with self._lock:
            if self._store is None and has_database(self.ca):
                self._store = write_store(self.ca)
            if self._store is not None:
                return self._store.find(serial)
        return self._index.find(serial)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


class SerialsInUse:
    """The serials a CA has used, asked of its database one at a time, plus
    those drawn for the batch being signed (``serials.fresh_serials`` adds
    them)."""

    def __init__(self, store: CertStore) -> None:
        self._store = store
        self._drawn: set[int] = set()

    def __contains__(self, serial: object) -> bool:
        return serial in self._drawn or (isinstance(serial, int) and serial in self._store)

    def add(self, serial: int) -> None:
        self._drawn.add(serial)
