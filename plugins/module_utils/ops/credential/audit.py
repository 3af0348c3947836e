"""The audit log of a credential: ``<credential>/audit.log``, the same
hash-chained format as a CA's (store/audit.py), one record per lifecycle
event of the credential:

    credential.enroll    line 1 of a credential enrolled by this version
    credential.renew     a new version, same key (serial, version, CA link)
    credential.rotate    a new version, new key (serial, version, key reference, CA link)
    credential.activate  another version made the one in use
    credential.revoke    the credential revoked (serials revoked, CA link)
    credential.export    a copy written out (format, path, SHA-256 of the file, key or not)

What the CA did for the credential stays in the CA's own log (``cert.issue``,
``cert.revoke``). A record of an event that needed the CA names it and
holds ``ca_audit``, the CA log's head (``SEQ:HASH``) just after the CA wrote
its record, under the CA lock: an anchor that ``qpki audit verify --ca-dir
CA --anchor SEQ:HASH`` checks, so the two chains vouch for each other.

Records never hold a secret: key references are file paths relative to the
credential or token labels, never a PIN or passphrase.

Every event runs under the credential directory's lock (taken before the
CA's, in that order everywhere), with its record written ahead to
``audit.pending`` and appended once the change is on disk; a killed event is
completed (or dropped, if it changed nothing) by the next one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable, TypeVar

from ...errors import InputError, QpkiError
from ...store import audit as store_audit
from ...store.audit_pending import clear_pending, read_pending, write_pending
from ...store.credential_dir import CredentialDir
from ...store.lock import ca_lock
from ...store.metafile import utc_text
from ...x509.certificate import utcnow
from ..audit.results import AuditVerdict
from ..audit.trail import parse_anchor, walk_chain

ENROLL, RENEW, ROTATE, ACTIVATE, REVOKE, EXPORT = (
    "credential.enroll", "credential.renew", "credential.rotate", "credential.activate",
    "credential.revoke", "credential.export")
# The events after which the credential's active version is the record's.
_SETS_VERSION = (ENROLL, RENEW, ROTATE, ACTIVATE)

Result = TypeVar("Result")


def event(op: str, cred_id: str, **fields: Any) -> dict[str, Any]:
    return {"time": utc_text(utcnow()), "op": op, "credential": cred_id, **fields}


def key_reference(storage: dict[str, Any]) -> dict[str, Any]:
    """Where a credential key lives, without anything secret."""
    ref = {"storage": storage.get("type")}
    for field in ("path", "label", "key_id"):
        if storage.get(field):
            ref[field] = storage[field]
    return ref


def ca_audit_head(ca_path: str | os.PathLike) -> str:
    """``SEQ:HASH`` of the CA log's last line (the caller holds the CA lock)."""
    seq, digest = store_audit.last_record(store_audit.audit_path(ca_path))
    return f"{seq}:{digest}"


def sha256_of_file(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest().upper()


def first_line(record: dict[str, Any]) -> bytes:
    """The log of a new credential: ``record`` as line 1, written with the
    credential's other files before it is renamed into place."""
    return store_audit.line_bytes(store_audit.seal(record, 1, store_audit.GENESIS))


def recorded(cred: CredentialDir, record: dict[str, Any], change: Callable[[], Result]) -> Result:
    """Run ``change`` between writing ``record`` ahead and appending it to
    the credential's log. The caller holds the credential lock (``locked``)."""
    write_pending(cred.path, [record])
    try:
        result = change()
    except BaseException:
        try:
            settle(cred)
        except Exception:  # noqa: BLE001 - the change's own error is the one to report
            pass
        raise
    store_audit.append_records(os.fspath(cred.path), [record])
    clear_pending(cred.path)
    return result


@contextlib.contextmanager
def locked(cred: CredentialDir) -> Iterator[CredentialDir]:
    """The credential's lock, with the record of a killed event settled and
    the log checked to end on a complete line before anything changes."""
    cred.require()
    with ca_lock(cred.path):
        settle(cred)
        store_audit.last_record(store_audit.audit_path(cred.path))
        yield cred


def settle(cred: CredentialDir) -> list[str]:
    """Append the pending record of a killed event if its change reached
    the disk, drop it otherwise (see the module docstring)."""
    pending = read_pending(cred.path)
    if not pending:
        return []
    path = store_audit.audit_path(cred.path)
    notes = []
    if os.path.exists(path):
        cut = store_audit.drop_incomplete_tail(cred.path)
        if cut:
            notes.append(f"removed an incomplete last line ({len(cut)} bytes) of {path}")
        last, dummy = store_audit.last_line(path)
    else:
        last = None
    todo = pending[store_audit.already_logged(pending, last):]
    made = [record for record in todo if _present(cred, record)]
    if made:
        store_audit.append_records(os.fspath(cred.path), made)
    notes += [f"completed the audit record of an interrupted {r.get('op')}" for r in made]
    clear_pending(cred.path)
    return notes


def _present(cred: CredentialDir, record: dict[str, Any]) -> bool:
    op = record.get("op")
    if op == EXPORT:
        try:
            return sha256_of_file(record["path"]) == record.get("sha256")
        except (OSError, KeyError):
            return False
    meta = cred.load_meta()
    if op in (RENEW, ROTATE):
        entry = (meta.get("versions") or {}).get(record.get("version")) or {}
        return _serial_of(entry) == _as_int(record.get("serial"))
    if op == ACTIVATE:
        return meta.get("active") == record.get("version")
    if op == REVOKE:
        return meta.get("status") == "revoked"
    return False


def _as_int(text: object) -> int | None:
    try:
        return int(str(text), 16)
    except ValueError:
        return None


def _serial_of(entry: dict[str, Any]) -> int | None:
    certificates = entry.get("certificates") or [{}]
    serial = str(certificates[0].get("serial", ""))
    return _as_int(serial[2:] if serial[:2].lower() == "0x" else serial)


# ---------------------------------------------------------------- verification

def _state_problems(meta: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    """Where the credential's metadata contradicts its log (and, for a log
    that starts with the enrolment, what the log misses)."""
    problems = []
    versions = meta.get("versions") or {}
    for line, record in enumerate(records, 1):
        if record.get("op") in (RENEW, ROTATE):
            entry = versions.get(record.get("version"))
            if entry is None:
                problems.append(f"line {line}: version {record.get('version')} is not in "
                                "the credential's metadata")
            elif _serial_of(entry) != _as_int(record.get("serial")):
                problems.append(f"line {line}: version {record.get('version')} has another "
                                "serial in the credential's metadata")
    setters = [r for r in records if r.get("op") in _SETS_VERSION]
    active = meta.get("active") or "v1"
    if setters and setters[-1].get("version") != active:
        problems.append(f"the log's last version change names {setters[-1].get('version')}, "
                        f"the credential's metadata {active}")
    revoked = any(r.get("op") == REVOKE for r in records)
    if revoked != (meta.get("status") == "revoked"):
        problems.append("the credential is revoked but the log holds no revocation" if not revoked
                        else "the log records a revocation but the credential is not revoked")
    if records and records[0].get("op") == ENROLL:
        made = {r.get("version") for r in records if r.get("op") in (ENROLL, RENEW, ROTATE)}
        problems += [f"version {v} has no enrolment, renewal or rotation record"
                     for v in versions if v not in made]
    return problems


def credential_audit_verify(cred_root: str | os.PathLike, cred_id: str,
                            anchor: str | None = None) -> AuditVerdict:
    """Check the log of credential ``cred_id``: the chain line by line, the
    anchor if given, then the log against the credential's metadata."""
    cred = CredentialDir(cred_root, cred_id).require()
    path = store_audit.audit_path(cred.path)
    if not os.path.exists(path):
        raise InputError(f"no audit log {path} (credentials enrolled before qpki kept one "
                         "start it at their first renewal, rotation, activation, revocation "
                         "or export)")
    seq, digest = parse_anchor(anchor) if anchor else (None, None)
    with ca_lock(cred.path):
        report = walk_chain(path)
        problems = [report.problem] if report.problem else []
        if not problems and seq is not None:
            if not 1 <= seq <= len(report.records):
                problems.append(f"anchor {seq}: the log has only {len(report.records)} lines "
                                "(lines were removed from the end)")
            elif report.records[seq - 1]["hash"] != digest:
                problems.append(f"line {seq}: hash differs from the anchor (the log was rewritten)")
        if not problems:
            first = report.records[0] if report.records else {}
            if first.get("seq") != 1 or first.get("prev") != store_audit.GENESIS:
                problems.append("the log is empty or does not start a chain")
            try:
                problems += _state_problems(cred.load_meta(), report.records)
            except QpkiError as exc:
                problems.append(f"cannot compare with the credential: {exc}")
    head = report.head
    if problems:
        reason = problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
    else:
        reason = f"{len(report.records)} records, chain intact, head {head['seq']}:{head['hash']}"
    return AuditVerdict(changed=False, valid=not problems, reason=reason,
                        line=report.broken_line, records=len(report.records), head=head,
                        problems=problems, path=path)
