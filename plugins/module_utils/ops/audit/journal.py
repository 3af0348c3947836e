"""Audit records written ahead of the change they describe, and the
completion of an operation that was killed before its records reached
``audit.log`` (issue 13, item 18).

``journaled(ca_path, records, change)``: the records go to ``audit.pending``
(synced), ``change()`` writes the CA's files, then the records are appended
to ``audit.log`` and ``audit.pending`` is marked done. Callers hold the CA
lock. Every other append to the log (``ca check --repair``) first settles
``audit.pending`` with ``complete_pending``: an open record must be compared
with the log's last line, not with a line appended after it.

``complete_pending(ca)`` runs first in every operation that changes the CA
(``audit.audit_ready``) and in ``ca check --repair``. For each pending
record it looks at the CA's files to see whether the change was made:

- ``cert.issue``: the index lists the serial and ``certs/<SERIAL>.crt`` has
  the recorded fingerprint; a certificate file with that fingerprint but no
  index line yet gets its line (and the ``serial`` file), as the killed
  operation would have written them;
- ``cert.revoke``: the index shows the serial revoked at the recorded time;
- ``cert.unhold``: the index shows the serial valid;
- ``crl.gen``: ``crl/ca.crl.der`` has the recorded fingerprint (and
  ``crl/ca.crl`` is rewritten from it if it is not the same CRL);
- ``ca.install``: ``ca.crt`` is the recorded certificate.

Records of changes that were made, and are not yet the last lines of the
log, are appended unchanged (their time is the operation's); the others
describe a change that never happened and are dropped. An incomplete last
line of the log is the killed append itself: it is cut off and an
``audit.repair`` record says so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, TypeVar

from ...dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ...der import pem_armor
from ...errors import StoreError
from ...store import audit as store_audit
from ...store.atomic import write_file
from ...store.audit_pending import clear_pending, read_pending, write_pending
from ...store.ca_dir import CaDir
from ...store.cert_store import append_audit
from ...store.index import REVOKED, append_entries, entry_for_certificate, find_entry, \
    index_serials
from ...store.metafile import utc_text
from ...store.serials import last_serial, record_serial
from ...x509.certificate import utcnow
from . import trail as audit

Result = TypeVar("Result")


def journaled(ca_path: str | os.PathLike, records: list[dict[str, Any]],
              change: Callable[[], Result]) -> Result:
    """Run ``change`` (the state change ``records`` describe) between writing
    the records to ``audit.pending`` and appending them to ``audit.log``."""
    begin(ca_path, records)
    try:
        result = change()
    except BaseException:
        _settle(ca_path)
        raise
    commit(ca_path, records)
    return result


def begin(ca_path: str | os.PathLike, records: list[dict[str, Any]]) -> None:
    write_pending(ca_path, records)


def commit(ca_path: str | os.PathLike, records: list[dict[str, Any]]) -> None:
    append_audit(CaDir(ca_path), records)
    clear_pending(ca_path)


def _settle(ca_path: str | os.PathLike) -> None:
    """After a failed change: record what did reach the disk, if anything
    (best effort: the next operation tries again)."""
    try:
        complete_pending(CaDir(ca_path))
    except Exception:  # noqa: BLE001 - the change's own error is the one to report
        pass


def complete_pending(ca: CaDir) -> list[str]:
    """Append the pending records whose change is on disk (see the module
    docstring); returns one note per record appended or dropped."""
    pending = read_pending(ca.path)
    if not pending:
        return []
    path = store_audit.audit_path(ca.path)
    notes = _drop_torn_tail(ca, path)
    last, dummy = store_audit.last_line(path)
    done = store_audit.already_logged(pending, last)
    todo = pending[done:]
    made = _present(ca, todo)
    if made:
        append_audit(ca, made)
    notes += [f"completed the audit record of an interrupted {record.get('op')} "
              f"({_subject_of(record)})" for record in made]
    dropped = len(todo) - len(made)
    if dropped:
        notes.append(f"dropped {dropped} pending audit record(s) of an interrupted "
                     "operation that changed nothing")
    clear_pending(ca.path)
    return notes


def cut_torn_tail(ca: CaDir, note: str) -> bytes:
    """Cut an incomplete last line off the log and record that it was done
    (an ``audit.repair`` record saying ``note``). Returns the bytes cut."""
    removed = store_audit.drop_incomplete_tail(ca.path)
    if removed:
        append_audit(ca, [{
            "time": utc_text(utcnow()), "op": store_audit.REPAIR, "dropped_bytes": len(removed),
            "dropped_sha256": audit.sha256_hex(removed), "note": note}])
    return removed


def _drop_torn_tail(ca: CaDir, path: str) -> list[str]:
    """Cut the interrupted append's incomplete last line, if any."""
    dummy, tail = store_audit.last_line(path)
    if not tail:
        return []
    removed = cut_torn_tail(ca, "incomplete last line of an interrupted append removed")
    return [f"removed an incomplete last line ({len(removed)} bytes) of {path}"]


def unlogged_pending(ca: CaDir) -> list[dict]:
    """The pending records not in the log yet (read only)."""
    pending = read_pending(ca.path)
    if not pending:
        return []
    last, dummy = store_audit.last_line(store_audit.audit_path(ca.path))
    return pending[store_audit.already_logged(pending, last):]


def _subject_of(record: dict) -> str:
    if record.get("op") == store_audit.CRL:
        return f"CRL {record.get('crl_number')}"
    return f"serial {record.get('serial')}"


def _present(ca: CaDir, records: list[dict]) -> list[dict]:
    """The records whose change is on disk (issuance completed if its
    certificate file is there)."""
    issued = [r for r in records if r.get("op") == store_audit.ISSUE]
    done_issues = _issues_present(ca, issued)
    made = []
    for record in records:
        op = record.get("op")
        if op == store_audit.ISSUE:
            ok = id(record) in done_issues
        elif op in (store_audit.REVOKE, store_audit.UNHOLD):
            ok = _index_state_present(ca, record)
        elif op == store_audit.CRL:
            ok = _crl_present(ca, record)
        elif op == store_audit.INSTALL:
            ok = _sha256_of(ca.cert) == record.get("fingerprint")
        elif op in (store_audit.ROTATE, store_audit.ACTIVATE):
            ok = _version_present(ca, record)
        else:
            ok = False
        if ok:
            made.append(record)
    return made


def _version_present(ca: CaDir, record: dict) -> bool:
    """A rotation is made when the metadata lists its version, an
    activation when the metadata names its version active."""
    try:
        meta = ca.load_ca_meta()
    except (StoreError, OSError):
        return False
    if record["op"] == store_audit.ROTATE:
        return record.get("version") in meta.versions
    return meta.active == record.get("version")


def _issues_present(ca: CaDir, records: list[dict]) -> set[int]:
    """ids of the issuance records whose certificate is recorded, after
    adding the index lines of certificates written but not yet indexed."""
    if not records:
        return set()
    listed = index_serials(ca.index)
    present, to_index = set(), []
    for record in records:
        serial = int(record["serial"], 16)
        cert = _certificate(ca, serial, record.get("fingerprint"))
        if cert is None:
            continue
        present.add(id(record))
        if serial not in listed:
            to_index.append(entry_for_certificate(cert))
    if to_index:
        append_entries(ca.index, to_index)
    last = [int(r["serial"], 16) for r in records if id(r) in present]
    if last and last_serial(ca) != last[-1]:
        record_serial(ca, last[-1])
    return present


def _load(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def _sha256_of(path: Path) -> str | None:
    """The recorded fingerprint of the certificate in ``path`` (None if none)."""
    cert = _load(path)
    return None if cert is None else audit.sha256_hex(
        cert.public_bytes(serialization.Encoding.DER))


def _certificate(ca: CaDir, serial: int, fingerprint: str | None) -> x509.Certificate | None:
    """certs/<SERIAL>.crt when it holds the certificate with ``fingerprint``."""
    cert = _load(ca.cert_path(serial))
    if cert is None:
        return None
    der = cert.public_bytes(serialization.Encoding.DER)
    return cert if audit.sha256_hex(der) == fingerprint else None


def _index_state_present(ca: CaDir, record: dict) -> bool:
    entry = find_entry(ca.index, int(record["serial"], 16))
    if entry is None:
        return False
    if record["op"] == store_audit.UNHOLD:
        return entry.status != REVOKED
    return entry.status == REVOKED and entry.revoked_at is not None \
        and utc_text(entry.revoked_at) == record.get("revoked_at")


def _crl_paths(ca: CaDir, record: dict) -> tuple[Path, Path]:
    """(DER, PEM) paths of the CRL a record describes: full, delta, or an
    earlier version's."""
    if record.get("delta_of") is not None:
        return ca.delta_crl_path(der=True), ca.delta_crl_path()
    version = record.get("version")
    return ca.crl_path(der=True, version=version), ca.crl_path(version=version)


def _crl_present(ca: CaDir, record: dict) -> bool:
    der_path, pem_path = _crl_paths(ca, record)
    try:
        der = der_path.read_bytes()
    except OSError:
        return False
    if audit.sha256_hex(der) != record.get("fingerprint"):
        return False
    pem = pem_armor(der, "X509 CRL")
    try:
        current = pem_path.read_bytes()
    except OSError:
        current = None
    if current != pem:
        write_file(pem_path, pem)
    return True
