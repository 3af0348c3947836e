"""Making the CA database of a CA directory that has none.

A new CA gets an empty ``ca.db`` at ``ca init``; a CA made before the
database existed (or by ``openssl ca``) gets one at its first change, built
from what the directory holds:

- every line of ``index.txt`` becomes a row, with the byte offset and width
  the line already has (the file is not rewritten; comments and blank lines
  stay where they are, owned by no row);
- each row takes the DER, notBefore, SANs and fingerprint of its
  ``certs/<SERIAL>.crt`` when that file is there, and the profile from the
  audit log's issuance record of its serial;
- the ``serial`` and ``crlnumber`` files become the database's counters.

The database is built under a temporary name and renamed into place, so a
crash leaves either no database (the next change builds it again) or a
complete one. ``ca.meta.json`` then gets its ``store`` entry.
"""

from __future__ import annotations

import json
import os
from typing import Any
from dataclasses import replace

from ...dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
except ImportError:
    x509 = hashes = missing()

from ...errors import InputError, StoreError
from ...store import audit as store_audit
from ...store.atomic import fsync_dir
from ...store.metafile import dump_json, load_json_object
from ...store.ca_dir import CaDir
from ...store.cert_db import CRL_NUMBER, INDEX_SIZE, LAST_SERIAL, CertDatabase, CertRow
from ...store.cert_store import INDEX_STAMP, CertStore, database_path, has_database, \
    postgres_variable, write_store
from ...store.shared_store import SharedCertStore
from ...store.index import IndexEntry, parse_line, serial_hex
from ...store.index_file import stamp
from ...store.serials import _read_hex
from ...x509.names import san_texts

STORE_ENTRY = {"type": "sqlite", "path": "ca.db"}
# The SHA-256 of the certificate of the CA whose database it is.
CA_CERTIFICATE = "ca_certificate"


def store_entry_for(dsn_env: str | None) -> dict:
    """The ``store`` entry of a new CA: ``ca.db``, or the PostgreSQL
    database whose connection string is in the variable ``dsn_env``."""
    if dsn_env is None:
        return dict(STORE_ENTRY)
    if not dsn_env.replace("_", "A").isalnum() or dsn_env[0].isdigit():
        raise InputError(f"{dsn_env!r} is not an environment variable name (the one holding "
                         "the CA database's connection string)")
    return {"type": "postgresql", "dsn_env": dsn_env}


def claim_database(ca: CaDir, cert: x509.Certificate) -> None:
    """Make the new CA's database, which must hold no other CA: a
    PostgreSQL database another CA uses is refused."""
    if postgres_variable(ca) is None:
        ensure_database(ca)
    fingerprint = cert.fingerprint(hashes.SHA256()).hex().upper()
    with _created(ca) as store:
        with store.db.transaction():
            owner = store.db.counter(CA_CERTIFICATE)
            if owner is not None and owner != fingerprint:
                raise StoreError(f"the CA's {store.db.where} already holds the certificates of "
                                 f"another CA (its certificate's SHA-256 is {owner[:16]}...)")
            store.db.set_counter(CA_CERTIFICATE, fingerprint)
            if isinstance(store, SharedCertStore):
                store.start_chain()  # so that any working directory can be the first to issue


def _created(ca: CaDir) -> CertStore:
    """The CA's store, its tables made if the database has none yet."""
    return write_store(ca, create=True)


def complete_store(ca: CaDir) -> list[str]:
    """The gate of every change to the CA's certificates (``audit_ready``,
    under the CA lock): the database is made if the CA has none, what a
    crash left undone after a commit is written, and ``index.txt`` must be
    the file qpki last wrote. A working directory of a shared database
    also catches up with what the others changed. Returns notes on what
    was completed."""
    from ..audit.journal import cut_torn_tail

    notes = ["made the CA database ca.db from index.txt"] if ensure_database(ca) else []
    with write_store(ca) as store:
        if isinstance(store, SharedCertStore):
            return notes + _catch_up(ca, store)
        box = store.outbox()
        if box:
            if box.records and store_audit.last_line(store_audit.audit_path(ca.path))[1]:
                cut_torn_tail(ca, "incomplete last line of an interrupted append removed")
            notes += store.finish(box)
        elif store.index_changed():
            notes.append(take_index_file(ca, store))
    return notes


def _catch_up(ca: CaDir, store: SharedCertStore) -> list[str]:
    if store.interrupted():
        return store.catch_up(after_crash=True)
    if store.index_changed():
        if ca.index.exists():
            raise StoreError(f"{ca.index} was changed outside qpki; the certificates of a CA on "
                             "a shared database change through qpki only (qpki ca check "
                             "--repair writes the file again from the database)")
        return store.catch_up(everything=True)  # a lost copy is made again
    return store.catch_up()


def take_index_file(ca: CaDir, store: CertStore) -> str:
    """Make the database say what an ``index.txt`` changed outside qpki
    says (``openssl ca -revoke`` or ``-updatedb``, an operator's edit): a
    line's status and revocation are taken, a new line becomes a row, a
    row whose line is gone is removed. What the audit log recorded is
    compared with the result by ``audit verify`` and ``ca check``, as it
    would be with the file alone. StoreError naming a line that does not
    parse, with nothing changed. A working directory of a shared database
    takes nothing: its file is written again from the database."""
    if isinstance(store, SharedCertStore):
        store.catch_up(everything=True)
        return f"wrote {ca.index.name}, changed outside qpki, again from the CA database"
    rows, size = _index_rows(ca, known=store)
    with store.db.transaction():
        store.db.replace_all(rows)
        store.db.set_counter(INDEX_SIZE, str(size))
        store.db.set_counter(INDEX_STAMP, stamp(ca.index))
    return f"took {ca.index.name}, changed outside qpki, into the CA database"


def ensure_database(ca: CaDir) -> bool:
    """Build the CA's database if it has none; True when one was built.
    The caller holds the CA lock."""
    if postgres_variable(ca) is not None:
        return False  # made by ca init (claim_database)
    if has_database(ca):
        _record_store_entry(ca)
        return False
    target = database_path(ca)
    temporary = target + ".building"
    for leftover in (temporary, temporary + "-wal", temporary + "-shm", temporary + "-journal"):
        if os.path.exists(leftover):
            os.unlink(leftover)
    db = CertDatabase.open(temporary, create=True)
    try:
        rows, size = _index_rows(ca)
        with db.transaction():
            db.insert(rows)
            db.set_counter(INDEX_SIZE, str(size))
            last = _read_hex(ca.serial)
            if last is not None:
                db.set_counter(LAST_SERIAL, serial_hex(last))
            crl_number = _read_hex(ca.crlnumber)
            if crl_number is not None:
                db.set_counter(CRL_NUMBER, serial_hex(crl_number))
            db.set_counter(INDEX_STAMP, stamp(ca.index))
    finally:
        db.close()
    os.replace(temporary, target)
    fsync_dir(ca.path)
    _record_store_entry(ca)
    return True


def _record_store_entry(ca: CaDir) -> None:
    """``store`` in ``ca.meta.json`` names the database (written once)."""
    raw = load_json_object(ca.meta)
    if raw.get("store") == STORE_ENTRY:
        return
    raw["store"] = dict(STORE_ENTRY)
    dump_json(ca.meta, raw)


def _index_rows(ca: CaDir, known: CertStore | None = None) -> tuple[list[CertRow], int]:
    """A row per line of ``index.txt`` (with its place), and the file's
    size. A certificate ``known`` holds keeps what the database says of it
    beyond the line."""
    try:
        data = ca.index.read_bytes()
    except FileNotFoundError:
        return [], 0
    profiles = _issued_profiles(ca) if known is None else {}
    rows, offset, seen = [], 0, set()
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        width = len(raw)
        text = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
        if text and not text.startswith("#"):
            entry = parse_line(text, os.fspath(ca.index), number)
            if entry.serial in seen:
                raise StoreError(f"invalid line {number} in {ca.index}: serial "
                                 f"{serial_hex(entry.serial)} appears twice")
            seen.add(entry.serial)
            held = known.row(entry.serial) if known is not None else None
            if held is not None:
                rows.append(replace(held, entry=entry).placed(offset, width))
            else:
                rows.append(_row(ca, entry, profiles.get(serial_hex(entry.serial)), offset,
                                 width))
        offset += width
    return rows, offset


def _row(ca: CaDir, entry: IndexEntry, profile: str | None, offset: int, width: int) -> CertRow:
    try:
        cert = x509.load_pem_x509_certificate(ca.cert_path(entry.serial).read_bytes())
    except (OSError, ValueError, StoreError):
        return CertRow(entry, profile=profile, index_offset=offset, index_width=width)
    der = cert.public_bytes(_der())
    return CertRow(entry, cert.not_valid_before_utc, tuple(san_texts(cert)), profile,
                   cert.fingerprint(hashes.SHA256()).hex().upper(), der, offset, width)


def _der() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _issued_profiles(ca: CaDir) -> dict[str, str]:
    """Serial -> profile, from the audit log's issuance records."""
    profiles: dict[str, str] = {}
    try:
        lines, dummy = store_audit.read_lines(store_audit.audit_path(ca.path))
    except StoreError:
        return profiles
    for line in lines:
        if b'"cert.issue"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record.get("serial"), str) and isinstance(record.get("profile"), str):
            profiles[record["serial"]] = record["profile"]
    return profiles
