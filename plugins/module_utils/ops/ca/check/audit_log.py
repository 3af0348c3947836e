"""Invariant 7: the audit log against the CA's state, and the records of an
interrupted operation waiting in ``audit.pending``."""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from ....dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ....errors import QpkiError
from ....store import audit as store_audit
from ....store.audit_pending import PENDING_NAME
from ....store.ca_dir import CaDir
from ....store.cert_store import append_audit
from ....store.index import serial_hex
from ....store.metafile import utc_text
from ....x509.certificate import utcnow
from ...audit import journal as audit_journal
from ...audit import trail as audit
from .certificates import load_cert_file
from .report import Report


def check_pending(ca: CaDir, report: Report) -> None:
    try:
        waiting = audit_journal.unlogged_pending(ca)
    except QpkiError as exc:
        report.problem(f"cannot compare {PENDING_NAME} with the audit log: {exc}")
        return
    if waiting:
        report.problem(f"{len(waiting)} audit record(s) of an interrupted operation wait in "
                       f"{PENDING_NAME} (the next operation on the CA completes them)",
                       lambda: report.notes.extend(audit_journal.complete_pending(ca)))
    elif report.repair:
        # Records already in the log but still marked open (the mark was
        # lost): settle them before --repair appends anything after them.
        audit_journal.complete_pending(ca)


def check_audit_log(ca: CaDir, report: Report) -> None:
    path = store_audit.audit_path(ca.path)
    if not os.path.exists(path):
        _missing_log(ca, path, report)
        return
    chain = audit.walk_chain(path)
    if chain.incomplete_tail and chain.broken_line == len(chain.records) + 1:
        report.problem(str(chain.problem), lambda: audit_journal.cut_torn_tail(
            ca, "incomplete last line removed by qpki ca check --repair"))
        if not report.repair:
            return
        chain = audit.walk_chain(path)
    if chain.problem:
        report.problem("audit log %s is broken at %s; not repaired (investigate: the log is "
                       "evidence)" % (path, chain.problem))
        return
    if chain.records and not any(record.get("op") == store_audit.INIT for record in chain.records):
        # The log of a CA installed from a CSR by qpki 0.1.0 starts with its
        # first operation: record the CA's creation now, saying so.
        report.problem(f"audit log {path} does not record the CA's creation (a CA installed "
                       "from a CSR by an earlier qpki)",
                       lambda: _record_creation(ca, "the CA's creation, recorded afterwards by "
                                                    "qpki ca check --repair"))
        if not report.repair:
            return
        chain = audit.walk_chain(path)
    problem = audit.start_problem(path) or audit.cert_problem(ca, chain.records)
    if problem:
        report.problem(f"audit log {path}: {problem}; not repaired (restore it from a backup)")
        return
    try:
        conflicts = audit.state_conflicts(ca, chain.records)
        gaps = audit.coverage_gaps(ca, chain.records)
    except QpkiError as exc:
        report.problem("cannot compare the audit log with the CA state: %s" % exc)
        return
    for message in conflicts:
        report.problem(f"audit log: {message}; not repaired (restore {ca.index.name}, or "
                       "revoke again)")
    for kind, key, message in gaps:
        report.problem("audit log: " + message, partial(_recover, ca, kind, key))


def _missing_log(ca: CaDir, path: str, report: Report) -> None:
    """No audit log: fail closed, unless the CA has signed nothing yet (a CA
    installed from a CSR by qpki 0.1.0 got its log at its first signature)."""
    signed = [p for p in (ca.crl_path(der=True), ca.crl_path(), ca.crlnumber) if p.exists()]
    try:
        signed += [ca.certs_dir / name for name in os.listdir(ca.certs_dir)]
    except FileNotFoundError:
        pass
    if signed or (ca.index.exists() and ca.index.stat().st_size):
        report.problem(f"no audit log {path}: nothing is signed or revoked until it is "
                       "restored from a backup")
        return
    report.problem(f"no audit log {path} (a CA installed from a CSR by an earlier qpki)",
                   lambda: _record_creation(ca, "the CA's creation, recorded by qpki ca check "
                                                "--repair before its first signature"))


def _record_creation(ca: CaDir, note: str) -> None:
    cert = x509.load_pem_x509_certificate(ca.read_cert_pem())
    store_audit.append_record(ca.path, audit.ca_init_record(cert, ca.load_meta(), note=note))


def _recover(ca: CaDir, kind: str, value: Any) -> None:
    append_audit(ca, [recover_record(ca, kind, value)])


def recover_record(ca: CaDir, kind: str, value: Any) -> dict[str, Any]:
    """The ``audit.recover`` record of state found on disk without its
    record (one of ``audit.coverage_gaps``)."""
    fields: dict[str, Any] = {"time": utc_text(utcnow()), "op": store_audit.RECOVER}
    if kind == "issue":
        fields["recovered"] = store_audit.ISSUE
        try:
            cert = load_cert_file(ca.cert_path(value.serial))
            fields.update(audit.cert_fields(cert))
        except (OSError, ValueError):
            fields.update(serial=serial_hex(value.serial), subject=value.subject)
    elif kind == "revoke":
        fields.update(recovered=store_audit.REVOKE, serial=serial_hex(value.serial),
                      subject=value.subject, reason=value.reason.value if value.reason else None,
                      revoked_at=utc_text(value.revoked_at))
    else:
        fields.update(recovered=store_audit.CRL, crl_number=value)
    fields["note"] = "state found on disk without its audit record (qpki ca check --repair)"
    return fields
