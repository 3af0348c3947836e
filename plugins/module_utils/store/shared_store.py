"""A CA database that several working directories share (PostgreSQL).

Each issuer host works in a CA directory of its own (``ca.meta.json``,
``ca.crt``, the key reference: the key itself in an HSM they share) and the
CA's truth is one PostgreSQL database. Every working directory holds the
files made from the database (``certs/``, ``index.txt``, ``serial``,
``crlnumber``, ``audit.log``), and brings them up to date from it:

- the audit chain is sealed in the database (table ``audit_log``), in the
  transaction of the change each record describes; a directory's
  ``audit.log`` is a copy of that chain, line for line, so ``audit verify``
  gives the same head everywhere. The chain starts as the log of the first
  directory that changes the CA (its ``ca.init`` line);
- every change to a certificate row is numbered (table ``changes``); a
  directory keeps the number it has written its files up to (counter
  ``written <host>:<directory>``) and catches up from there: certificate
  files from the DER, index lines at the offsets the database gave them
  (the same in every directory), the counter files, the audit lines it
  lacks;
- a directory's change, or a catch-up with something to write, first marks
  it (counter ``pending <host>:<directory>``); a mark found at the start of
  the next command means a process died there before its files were
  complete, so its temporary files are removed and the catch-up done again.
  Without the mark, an ``index.txt`` that is not the file qpki last wrote
  was changed outside qpki and is refused (on a shared database the
  certificates change through qpki only); a missing one is written again.
"""

from __future__ import annotations

import os
import socket

from ..errors import StoreError
from . import audit as store_audit
from .atomic import StagedFiles, ensure_dir, remove_stale_temps
from .ca_dir import CaDir
from .cert_db import CRL_NUMBER, LAST_SERIAL, CertRow, Outbox
from .cert_db_postgres import PostgresCertDatabase
from .cert_store import CertStore
from .index import serial_hex
from .index_file import fitted_line, stamp, truncate, write_lines


def working_directory(ca: CaDir) -> str:
    """``host:/real/path`` of a working directory."""
    return f"{socket.gethostname()}:{os.path.realpath(ca.path)}"


class SharedCertStore(CertStore):
    """``CertStore`` for a working directory of a shared database."""

    db: PostgresCertDatabase

    def __init__(self, ca: CaDir, db: PostgresCertDatabase) -> None:
        super().__init__(ca, db)
        here = working_directory(ca)
        self.stamp_counter = f"index_stamp {here}"
        self._written = f"written {here}"
        self._pending = f"pending {here}"

    def outbox(self) -> Outbox:
        return Outbox([], [], False)

    # ------------------------------------------------------------ changes

    def _log_change(self, records: list[dict], serials: list[int],
                    rewrite_index: bool = False) -> None:
        if rewrite_index:
            raise StoreError(f"{self.ca.index}: a line has no room for its new state (a CA on a "
                             "shared database writes every line with room)")
        self._seal(records)
        self.db.add_changes(serials)
        self.db.set_counter(self._pending, "1")

    def _write_issued(self, placed: list[CertRow], lines: bytes, files: StagedFiles | None,
                      records: list[dict]) -> None:
        if files is not None:
            files.commit()
        self.catch_up()

    def _write_changed(self, offset: int, line: bytes | None, records: list[dict]) -> None:
        self.catch_up()

    def append_audit(self, records: list[dict]) -> None:
        """Seal ``records`` into the chain, then copy them to the log."""
        with self.db.transaction():
            self._seal(records)
        self.catch_up()

    def _seal(self, records: list[dict]) -> None:
        """Inside a write transaction: chain ``records`` after the last one."""
        if not records:
            return
        seq, prev = self.start_chain()
        sealed = []
        for fields in records:
            seq += 1
            record = store_audit.seal(fields, seq, prev)
            prev = record["hash"]
            sealed.append((seq, prev, store_audit.line_bytes(record)[:-1].decode("utf-8")))
        self.db.add_audit_lines(sealed)

    def start_chain(self) -> tuple[int, str]:
        """Inside a write transaction: (seq, hash) of the chain's end; an
        empty chain starts as this directory's log (``ca init``'s)."""
        seq, prev = self.db.audit_head()
        if seq:
            return seq, prev
        path = store_audit.audit_path(self.ca.path)
        lines, dummy = store_audit.read_lines(path)
        seq, prev, rows = 0, store_audit.GENESIS, []
        for raw in lines:
            seq += 1
            try:
                record = store_audit.parse_line(raw)
                sealed = (record.get("seq") == seq and record.get("prev") == prev
                          and record.get("hash") == store_audit.record_hash(record))
            except (ValueError, TypeError, UnicodeDecodeError):
                sealed = False
            if not sealed:
                raise StoreError(f"audit log {path}: line {seq} is not a sealed record of its "
                                 "chain; run qpki audit verify")
            prev = record["hash"]
            rows.append((seq, prev, raw.decode("utf-8")))
        self.db.add_audit_lines(rows)
        return seq, prev

    # ------------------------------------------------------------ catching up

    def index_changed(self) -> bool:
        """A directory that never wrote its index (a new one) has no stamp:
        its first catch-up writes every line."""
        known = self.db.counter(self.stamp_counter)
        return known is not None and known != stamp(self.ca.index)

    def interrupted(self) -> bool:
        """True when a process died here before its files were complete."""
        return bool(self.db.counter(self._pending))

    def copy_changes(self) -> list[str]:
        """Copy what the database holds beyond this directory's files,
        nothing more: not after a crash here (the next change finishes
        that), not over an index changed outside qpki (refused by the next
        change). The caller holds the CA lock."""
        if self.interrupted() or self.index_changed():
            return []
        return self.catch_up()

    def catch_up(self, after_crash: bool = False, everything: bool = False) -> list[str]:
        """Write what the database holds and this directory's files do not
        yet: ``after_crash`` also removes temporary files a killed process
        left; ``everything`` writes every row's line again. The caller
        holds the CA lock. Returns notes on what was written."""
        for directory in (self.ca.certs_dir, self.ca.crl_dir):
            ensure_dir(directory)  # a new working directory has only the CA's own files
        log = store_audit.audit_path(self.ca.path)
        if os.path.exists(log):
            store_audit.drop_incomplete_tail(self.ca.path)
        local_seq, local_hash = store_audit.last_record(log)
        with self.db.snapshot():
            written = 0 if everything else int(self.db.counter(self._written) or "0")
            last = self.db.last_change()
            rows = list(self.db.changed_rows(written)) if last > written or everything else []
            size = self._index_size()
            last_serial, crl_number = self.db.counter(LAST_SERIAL), self.db.counter(CRL_NUMBER)
            marked = bool(self.db.counter(self._pending))
            lines = self._missing_audit_lines(log, local_seq, local_hash)
        if not (rows or lines or marked or after_crash or everything):
            return []
        if not marked:
            with self.db.transaction():
                self.db.set_counter(self._pending, "1")
        if after_crash:
            for directory in (self.ca.certs_dir, self.ca.path):
                remove_stale_temps(directory, min_age=0)  # under the CA lock: orphans
        self._cert_files([row for row in rows
                          if not self.ca.cert_path(row.serial).exists()]).commit()
        write_lines(self.ca.index, [(row.index_offset, self._line(row)) for row in rows])
        truncate(self.ca.index, size)
        self._write_counter_file(self.ca.serial, last_serial)
        self._write_counter_file(self.ca.crlnumber, crl_number)
        if lines:
            store_audit.append_lines(log, "".join(line + "\n" for line in lines).encode("utf-8"))
        with self.db.transaction():
            self.db.set_counter(self._written, str(last))
            self.db.set_counter(self.stamp_counter, stamp(self.ca.index))
            self.db.set_counter(self._pending, "")
        notes = []
        if rows:
            notes.append(f"wrote the files of {len(rows)} certificate change(s) from the CA "
                         "database")
        if lines:
            notes.append(f"copied {len(lines)} audit record(s) from the CA database")
        return notes

    def _missing_audit_lines(self, log: str, local_seq: int, local_hash: str) -> list[str]:
        """The chain's lines this directory's log lacks (none while the
        chain is empty: the log then becomes its start)."""
        head, dummy = self.db.audit_head()
        if head == 0:
            return []
        if local_seq > head:
            raise StoreError(f"audit log {log} holds {local_seq} records, more than the CA "
                             f"database's chain ({head}): it was written outside the database")
        if local_seq and self.db.audit_hash(local_seq) != local_hash:
            raise StoreError(f"audit log {log}: record {local_seq} is not the CA database's "
                             f"record {local_seq} (the log was changed, or is another CA's)")
        return self.db.audit_lines(local_seq)

    def _line(self, row: CertRow) -> bytes:
        line = fitted_line(row.entry, row.index_width)
        if line is None:
            raise StoreError(f"serial {serial_hex(row.serial)}: its line has no room at offset "
                             f"{row.index_offset} of {self.ca.index}")
        return line
