"""The CA audit trail: what to record for each signing operation, and
``qpki audit verify``.

Records (made by the operation while it holds the CA lock, written ahead of
the change through ``audit_journal.journaled``, so that a killed operation
is completed by the next one and a failed command never appends):

    issue_records(authority, profiles, fields)  ops/issuance, ops/batch_sign
    crl_record(authority, crl, number)          ops/crl.crl_gen
    revoke_record(entry) / unhold_record(...)   ops/revoke
    install_record(cert)                        ops/ca_state, a renewed CA certificate
    log_ca_init(ca_path, cert, meta)            ops/ca._create (staging), ops/ca_state.ca_install

``audit_ready`` is the gate every such operation passes first: no log, or a
log whose first record is not this CA's creation, stops it (fail closed).

The record format and the hash chain are in store/audit.py. ``audit_verify``
checks the chain line by line and then compares the log with the CA's own
state both ways (``audit_replay``): every index line needs its records, and
every issuance, revocation and release in the log must still show in
``index.txt``. That comparison is also what reveals lines removed from the
end of the file. An operator can also keep the head (``seq`` and ``hash``
printed by ``audit verify``) somewhere else and pass it back with
``anchor``: the log must still hold that line unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...dependencies import missing

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:
    serialization = missing()

from ...errors import InputError, QpkiError, StoreError
from ...store import audit as store_audit
from ...store.audit import ACTIVATE, CRL, INIT, INSTALL, ISSUE, REVOKE, UNHOLD
from ...store.ca_dir import CaDir
from ...store.cert_store import current_entries, postgres_variable
from ...store.index import IndexEntry, serial_hex
from ...store.lock import ca_lock
from ...store.metafile import utc_text
from ...x509.certificate import utcnow
from . import replay as audit_replay
from .results import AuditVerdict

if TYPE_CHECKING:  # annotations only: no import cycle, nothing loaded at run time
    from cryptography import x509

    from ...profiles.profile import Profile
    from ..ca.authority import Authority


# ---------------------------------------------------------------- record fields

def key_refs(meta_keys: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Which CA keys signed: id, algorithm and where the key lives (never a
    secret: a file path relative to the CA, or a token label / id)."""
    refs: list[dict[str, Any]] = []
    for entry in meta_keys or []:
        storage = entry.get("storage") or {}
        ref = {"id": entry.get("id"), "algorithm": entry.get("algorithm"),
               "storage": storage.get("type")}
        if storage.get("type") == "software":
            ref["path"] = storage.get("path")
        else:
            for field in ("label", "key_id"):
                if storage.get(field):
                    ref[field] = storage[field]
        refs.append(ref)
    return refs


def _now() -> str:
    return utc_text(utcnow())


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as the records hold it (upper-case hex)."""
    return hashlib.sha256(data).hexdigest().upper()


def cert_fields(cert: x509.Certificate) -> dict[str, Any]:
    return issued_fields(cert.serial_number, cert.subject, cert.not_valid_after_utc,
                         cert.public_bytes(serialization.Encoding.DER))


# The certificates of a batch share a few notAfter values (one per validity).
_utc_text = functools.lru_cache(maxsize=16)(utc_text)


def issued_fields(serial: int, subject: x509.Name, not_after: datetime,
                  der: bytes) -> dict[str, Any]:
    """``cert_fields`` from a certificate's serial, subject Name, notAfter
    and DER, for a caller that has them already (batch issuance)."""
    return {
        "serial": serial_hex(serial),
        "subject": subject.rfc4514_string(),
        "not_after": _utc_text(not_after),
        "fingerprint": sha256_hex(der),
    }


def _authority_keys(authority: Authority) -> dict[str, Any]:
    key_id = getattr(authority, "key_id", None)
    return {"keys": key_refs(authority.meta.get("keys")),
            "ca_key_id": key_id.hex().upper() if key_id else None}


def profile_name(profile: Profile | str) -> str:
    return str(getattr(profile, "name", profile))


def audit_ready(ca_path: str | os.PathLike) -> None:
    """The gate of every operation that signs or changes the CA, called
    under the CA lock before anything changes: StoreError unless the log
    exists and starts with this CA's creation, after completing the records
    of an operation that was killed (``audit_journal``), and unless the next
    record can be chained to the log's last line."""
    from .journal import complete_pending
    from ..ca.database import complete_store

    ca = CaDir(ca_path)
    path = store_audit.audit_path(ca.path)
    shared = postgres_variable(ca) is not None
    if shared:
        # The log of a working directory of a shared database is a copy of
        # the database's chain: brought up to date before it is checked.
        complete_store(ca)
    if not os.path.exists(path):
        raise StoreError(f"no audit log {path}: qpki signs and revokes nothing without the "
                         "CA's audit log (restore it from a backup; qpki ca check says more)")
    problem = start_problem(path)
    if problem:
        raise StoreError(f"audit log {path}: {problem}; qpki signs and revokes nothing until "
                         "the log is restored (qpki ca check says more)")
    complete_pending(ca)
    if not shared:
        complete_store(ca)
    store_audit.last_record(path)


def start_problem(path: str) -> str | None:
    """Why the log at ``path`` does not start as a CA's log must, or None:
    line 1 is the sealed first record of the chain and the log records the
    CA's creation (``ca.init``, line 1 for every CA made by this version;
    later for the log of a CA installed from a CSR by qpki 0.1.0, whose
    creation ``ca check --repair`` records)."""
    first = store_audit.first_record(path)
    if first is None:
        return "the log is empty (line 1 must record the CA's creation)"
    if first.get("seq") != 1 or first.get("prev") != store_audit.GENESIS:
        return "line 1 is not the first record of a chain (lines were removed)"
    try:
        if store_audit.record_hash(first) != first.get("hash"):
            return "line 1: hash mismatch (the line was edited)"
    except (TypeError, ValueError):
        return "line 1 cannot be hashed"
    if first.get("op") != INIT and not store_audit.holds_op(path, INIT):
        return (f"the log does not record the CA's creation (line 1 is "
                f"{str(first.get('op'))[:40]!r}, not ca.init)")
    return None


def cert_problem(ca: CaDir, records: list[dict]) -> str | None:
    """Why ``ca.crt`` is not the certificate the log last recorded for the
    CA itself (``ca.init``, or ``ca.install`` of a renewed certificate)."""
    own = [r for r in records if r.get("op") in (INIT, INSTALL, ACTIVATE)]
    if not own:
        return "the log does not record the CA's creation (no ca.init record)"
    try:
        from cryptography import x509

        der = x509.load_pem_x509_certificate(ca.cert.read_bytes()).public_bytes(
            serialization.Encoding.DER)
    except (OSError, ValueError):
        return f"{ca.cert.name} cannot be read to compare with the log"
    if sha256_hex(der) != own[-1].get("fingerprint"):
        return (f"{ca.cert.name} is not the certificate recorded by line "
                f"{records.index(own[-1]) + 1} ({own[-1].get('op')})")
    return None


def issue_records(authority: Authority, profiles: list[Profile | str],
                  fields: list[dict]) -> list[dict]:
    """One record per certificate of a batch, from its ``cert_fields`` and
    its profile (same order). The time and the CA key references are the
    same for every record of the batch: they are computed once."""
    now = _now()
    keys = _authority_keys(authority)
    records = []
    for profile, cert_record in zip(profiles, fields, strict=False):
        record = {"time": now, "op": ISSUE}
        record.update(cert_record)
        record["profile"] = profile_name(profile)
        record.update(keys)
        records.append(record)
    return records


def crl_record(authority: Authority, crl: x509.CertificateRevocationList, number: int) -> dict:
    """CRL ``number`` signed by ``authority``."""
    fields = {
        "time": _now(), "op": CRL, "crl_number": int(number),
        "this_update": utc_text(crl.last_update_utc),
        "next_update": utc_text(crl.next_update_utc) if crl.next_update_utc else None,
        "revoked": len(crl),
        "fingerprint": sha256_hex(crl.public_bytes(serialization.Encoding.DER)),
    }
    fields.update(_authority_keys(authority))
    return fields


def ca_init_record(cert: x509.Certificate, meta: dict, **extra: object) -> dict:
    """The record of a CA's creation: its own certificate (self-signed, or
    signed by a parent, whose log records the issuance) and keys."""
    fields: dict[str, Any] = {"time": _now(), "op": INIT}
    fields.update(cert_fields(cert))
    fields.update(issuer=cert.issuer.rfc4514_string(),
                  self_signed=cert.issuer == cert.subject,
                  profile=meta.get("profile"), keys=key_refs(meta.get("keys")), **extra)
    return fields


def log_ca_init(ca_path: str | os.PathLike, cert: x509.Certificate, meta: dict) -> dict:
    """Start a new CA's log with the record of its creation."""
    return store_audit.append_record(ca_path, ca_init_record(cert, meta))


def install_record(cert: x509.Certificate) -> dict:
    """A renewed certificate for the same key and subject replaces ca.crt."""
    fields = {"time": _now(), "op": INSTALL}
    fields.update(cert_fields(cert))
    fields["issuer"] = cert.issuer.rfc4514_string()
    return fields


def revoke_record(entry: IndexEntry) -> dict:
    """The index now lists ``entry`` (an IndexEntry) as revoked."""
    record = {"time": _now(), "op": REVOKE, "serial": serial_hex(entry.serial),
              "subject": entry.subject, "reason": entry.reason.value if entry.reason else None,
              "revoked_at": utc_text(entry.revoked_at)}
    if entry.invalidity_date is not None:
        record["invalidity_date"] = utc_text(entry.invalidity_date)
    return record


def unhold_record(entry: IndexEntry, held_since: datetime | None) -> dict:
    """``entry``, on hold since ``held_since``, is valid again."""
    return {"time": _now(), "op": UNHOLD, "serial": serial_hex(entry.serial),
            "subject": entry.subject, "held_since": utc_text(held_since)}


# ---------------------------------------------------------------- verification

class ChainReport:
    """Outcome of walking the chain of one log file."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []  # parsed records of the intact prefix
        self.broken_line: int | None = None    # first bad line number, or None
        self.problem: str | None = None        # one-line description of it
        self.incomplete_tail = b""  # bytes after the last newline

    @property
    def head(self) -> dict[str, Any]:
        if not self.records:
            return {"seq": 0, "hash": store_audit.GENESIS}
        return {"seq": self.records[-1]["seq"], "hash": self.records[-1]["hash"]}


def walk_chain(path: str) -> ChainReport:
    """Check every line of the log at ``path``; stops at the first bad one."""
    report = ChainReport()
    lines, tail = store_audit.read_lines(path)
    prev = store_audit.GENESIS
    for number, raw in enumerate(lines, 1):
        problem = _line_problem(raw, number, prev)
        if problem is not None:
            report.broken_line, report.problem = number, "line %d: %s" % (number, problem)
            return report
        record = store_audit.parse_line(raw)
        report.records.append(record)
        prev = record["hash"]
    if tail:
        number = len(lines) + 1
        report.incomplete_tail = tail
        report.broken_line = number
        report.problem = ("line %d: incomplete (%d bytes without a newline: the log was "
                          "truncated or a write was interrupted)" % (number, len(tail)))
    return report


def _line_problem(raw: bytes, number: int, prev: str) -> str | None:
    try:
        record = store_audit.parse_line(raw)
    except (ValueError, UnicodeDecodeError):
        return "not a JSON object (the line was edited or damaged)"
    digest = record.get("hash")
    if not isinstance(digest, str) or "prev" not in record or "seq" not in record:
        return "not a sealed record (seq, prev or hash missing)"
    try:
        expected = store_audit.record_hash(record)
    except (TypeError, ValueError):
        return "cannot be hashed"
    if digest != expected:
        return "hash mismatch (the line was edited)"
    if record["seq"] != number:
        return ("seq is %r, expected %d (a line was deleted, inserted or moved)"
                % (record["seq"], number))
    if record["prev"] != prev:
        return ("prev does not match the hash of line %d (a line was deleted, inserted, "
                "moved or rewritten)" % (number - 1) if number > 1
                else "prev is not the genesis value (lines were removed from the start)")
    if store_audit.line_bytes(record)[:-1] != raw:
        return "not byte-identical to its record (the line was rewritten)"
    return None


def coverage_gaps(ca: CaDir, records: list[dict]) -> list[tuple[str, object, str]]:
    """What the CA's state says happened but the log does not hold: one
    (kind, key, message) per gap. kind is "issue", "revoke" or "crl"."""
    entries = current_entries(ca)
    states, crls = audit_replay.replay(records)
    return [(gap.kind, gap.key, gap.message) for gap in audit_replay.gaps(
        entries, states, crls, current_crl_number(ca), ca.index.name)]


def state_conflicts(ca: CaDir, records: list[dict]) -> list[str]:
    """What the log holds but the CA's index no longer shows (see
    ``audit_replay.conflicts``)."""
    entries = current_entries(ca)
    return audit_replay.conflicts(entries, audit_replay.replay(records)[0], ca.index.name)


def current_crl_number(ca: CaDir) -> int | None:
    """The number of the CRL in crl/ca.crl.der (else crl/ca.crl), or None."""
    from cryptography import x509

    for path in (ca.crl_path(der=True), ca.crl_path()):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        try:
            crl = (x509.load_der_x509_crl(data) if path.suffix == ".der"
                   else x509.load_pem_x509_crl(data))
            return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        except (ValueError, x509.ExtensionNotFound):
            continue
    return None


_ANCHOR = re.compile(r"(\d+):([0-9a-fA-F]{64})")


def parse_anchor(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` -> (seq, hash)."""
    match = _ANCHOR.fullmatch(str(text).strip())
    if match is None:
        raise InputError("anchor %r: expected SEQ:HASH (a line number and its 64-digit hash)"
                         % text)
    return int(match.group(1)), match.group(2).lower()


def _caught_up(ca: CaDir) -> list[str]:
    """A working directory of a shared database first copies what the
    database's chain and rows hold beyond its files: its log is checked
    as the database's chain."""
    if postgres_variable(ca) is None:
        return []
    from ..ca.database import complete_store

    try:
        complete_store(ca)
    except QpkiError as exc:
        return [f"cannot bring this working directory up to date with the CA database: {exc}"]
    return []


def audit_verify(ca_dir: str | os.PathLike, anchor: str | None = None) -> AuditVerdict:
    """Check the audit log of ``ca_dir``; ``valid`` false names the first
    problem (a line number when the chain itself is broken)."""
    ca = CaDir(ca_dir).require()
    seq, digest = parse_anchor(anchor) if anchor else (None, None)
    path = store_audit.audit_path(ca.path)
    with ca_lock(ca.path):
        problems: list[str] = _caught_up(ca)
        report = walk_chain(path)
        problems += [report.problem] if report.problem else []
        if not problems and seq is not None:
            if seq > len(report.records) or seq < 1:
                problems.append("anchor %s: the log has only %d lines (lines were removed "
                                "from the end)" % (seq, len(report.records)))
            elif report.records[seq - 1]["hash"] != digest:
                problems.append("line %s: hash differs from the anchor (the log was "
                                "rewritten)" % seq)
        if not problems:
            problem = start_problem(path) or cert_problem(ca, report.records)
            if problem:
                problems.append(problem)
            try:
                problems += state_conflicts(ca, report.records)
                problems += [message for _kind, _key, message in coverage_gaps(ca, report.records)]
            except QpkiError as exc:
                problems.append(f"cannot compare with the CA state: {exc}")
    head = report.head
    if problems:
        reason = problems[0]
        if len(problems) > 1:
            reason += " (and %d more)" % (len(problems) - 1)
    else:
        reason = "%d records, chain intact, head %d:%s" % (len(report.records), head["seq"], head["hash"])
    return AuditVerdict(changed=False, valid=not problems, reason=reason,
                        line=report.broken_line, records=len(report.records), head=head,
                        problems=problems, path=path)
