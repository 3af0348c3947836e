"""The CA audit trail: what to record for each signing operation, and
``qpki audit verify``.

Hooks (one call each, made by the operation while it holds the CA lock,
after its own state is on disk, so a failed command never appends):

    log_issue(authority, profile, cert)     ops/issuance.issue, after record()
    log_crl(authority, crl, number)         ops/crl.crl_gen, after the CRL files
    log_ca_init(ca_path, cert, meta)        ops/ca._create, in the staging directory
    log_revoke(ca_path, entry)              ops/cert.cert_revoke, after the index

The record format and the hash chain are in store/audit.py. ``audit_verify``
checks the chain line by line and then compares the log with the CA's own
state (index.txt, the current CRL, ca.crt), which is what reveals lines
removed from the end of the file. An operator can also keep the head
(``seq`` and ``hash`` printed by ``audit verify``) somewhere else and pass it
back with ``anchor``: the log must still hold that line unchanged.
"""

import functools
import hashlib
import os
import re

from ..dependencies import missing

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:
    serialization = missing()

from ..errors import InputError, QpkiError, StoreError
from ..store import audit as store_audit
from ..store.ca_dir import CaDir
from ..store.index import read_index, serial_hex
from ..store.lock import ca_lock
from ..store.metafile import utc_text
from ..x509.certificate import utcnow

ISSUE, REVOKE, CRL, INIT, RECOVER, REPAIR = (
    "cert.issue", "cert.revoke", "crl.gen", "ca.init", "audit.recover", "audit.repair")


# ---------------------------------------------------------------- record fields

def key_refs(meta_keys):
    """Which CA keys signed: id, algorithm and where the key lives (never a
    secret: a file path relative to the CA, or a token label / id)."""
    refs = []
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


def _now():
    return utc_text(utcnow())


def sha256_hex(data):
    """SHA-256 of ``data`` as the records hold it (upper-case hex)."""
    return hashlib.sha256(data).hexdigest().upper()


def cert_fields(cert):
    return issued_fields(cert.serial_number, cert.subject, cert.not_valid_after_utc,
                         cert.public_bytes(serialization.Encoding.DER))


# The certificates of a batch share a few notAfter values (one per validity).
_utc_text = functools.lru_cache(maxsize=16)(utc_text)


def issued_fields(serial, subject, not_after, der):
    """``cert_fields`` from a certificate's serial, subject Name, notAfter
    and DER, for a caller that has them already (batch issuance)."""
    return {
        "serial": serial_hex(serial),
        "subject": subject.rfc4514_string(),
        "not_after": _utc_text(not_after),
        "fingerprint": sha256_hex(der),
    }


def _authority_keys(authority):
    key_id = getattr(authority, "key_id", None)
    return {"keys": key_refs(authority.meta.get("keys")),
            "ca_key_id": key_id.hex().upper() if key_id else None}


def _profile_name(profile):
    return getattr(profile, "name", profile)


def audit_ready(ca_path):
    """StoreError unless the next record can be chained to the log's last
    line. Called under the CA lock *before* signing, so that a damaged log
    stops the operation while nothing has changed yet."""
    store_audit.last_record(store_audit.audit_path(ca_path))


def _issue_fields(authority, profile, cert):
    fields = {"time": _now(), "op": ISSUE}
    fields.update(cert_fields(cert))
    fields["profile"] = _profile_name(profile)
    fields.update(_authority_keys(authority))
    return fields


def log_issue(authority, profile, cert):
    """A certificate was signed by ``authority`` (Authority) and recorded."""
    return store_audit.append_record(authority.dir.path,
                                     _issue_fields(authority, profile, cert))


def log_issued_fields(authority, profiles, fields):
    """One record per certificate of a batch, from its ``cert_fields`` and
    its profile (same order), written at once (one write, one fsync; the
    hash chain is computed in memory). The time and the CA key references
    are the same for every record of the batch: they are computed once."""
    now = _now()
    keys = _authority_keys(authority)
    records = []
    for profile, cert_record in zip(profiles, fields):
        record = {"time": now, "op": ISSUE}
        record.update(cert_record)
        record["profile"] = _profile_name(profile)
        record.update(keys)
        records.append(record)
    return store_audit.append_records(authority.dir.path, records)


def log_crl(authority, crl, number):
    """CRL ``number`` was signed by ``authority`` and written."""
    fields = {
        "time": _now(), "op": CRL, "crl_number": int(number),
        "this_update": utc_text(crl.last_update_utc),
        "next_update": utc_text(crl.next_update_utc) if crl.next_update_utc else None,
        "revoked": len(crl),
        "fingerprint": sha256_hex(crl.public_bytes(serialization.Encoding.DER)),
    }
    fields.update(_authority_keys(authority))
    return store_audit.append_record(authority.dir.path, fields)


def log_ca_init(ca_path, cert, meta):
    """The first record of a new CA's log (its own certificate, self-signed
    or signed by a parent, whose log records the issuance)."""
    fields = {"time": _now(), "op": INIT}
    fields.update(cert_fields(cert))
    fields.update(issuer=cert.issuer.rfc4514_string(),
                  self_signed=cert.issuer == cert.subject,
                  profile=meta.get("profile"), keys=key_refs(meta.get("keys")))
    return store_audit.append_record(ca_path, fields)


def log_revoke(ca_path, entry):
    """The index now lists ``entry`` (an IndexEntry) as revoked."""
    return store_audit.append_record(os.fspath(ca_path), {
        "time": _now(), "op": REVOKE, "serial": serial_hex(entry.serial),
        "subject": entry.subject, "reason": entry.reason,
        "revoked_at": utc_text(entry.revoked_at)})


# ---------------------------------------------------------------- verification

class ChainReport:
    """Outcome of walking the chain of one log file."""

    def __init__(self):
        self.records = []          # parsed records of the intact prefix
        self.broken_line = None    # first bad line number, or None
        self.problem = None        # one-line description of it
        self.incomplete_tail = b""  # bytes after the last newline

    @property
    def head(self):
        if not self.records:
            return {"seq": 0, "hash": store_audit.GENESIS}
        return {"seq": self.records[-1]["seq"], "hash": self.records[-1]["hash"]}


def walk_chain(path):
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


def _line_problem(raw, number, prev):
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


def coverage_gaps(ca, records):
    """What the CA's state says happened but the log does not hold: one
    (kind, key, message) per gap. kind is "issue", "revoke" or "crl"."""
    issued, revoked, crls = set(), set(), set()
    for record in records:
        op = record.get("op")
        if op == RECOVER:
            op = record.get("recovered")
        if op == ISSUE:
            issued.add(record.get("serial"))
        elif op == REVOKE:
            revoked.add(record.get("serial"))
        elif op == CRL:
            crls.add(record.get("crl_number"))
    gaps = []
    if ca.index.exists():
        for entry in read_index(ca.index):
            serial = serial_hex(entry.serial)
            if serial not in issued:
                gaps.append(("issue", entry, "serial %s in %s has no issuance record"
                             % (serial, ca.index.name)))
            if entry.status == "R" and serial not in revoked:
                gaps.append(("revoke", entry, "revocation of serial %s has no record" % serial))
    number = current_crl_number(ca)
    if number is not None and number not in crls:
        gaps.append(("crl", number, "CRL number %d in crl/ has no record" % number))
    return gaps


def current_crl_number(ca):
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


def _init_problem(ca, records):
    first = records[0] if records else None
    if first is None or first.get("op") != INIT:
        return None
    try:
        from cryptography import x509

        der = x509.load_pem_x509_certificate(ca.cert.read_bytes()).public_bytes(
            serialization.Encoding.DER)
    except (OSError, ValueError):
        return "%s cannot be read to compare with line 1" % ca.cert.name
    if sha256_hex(der) != first.get("fingerprint"):
        return "%s is not the certificate recorded by line 1 (ca.init)" % ca.cert.name
    return None


_ANCHOR = re.compile(r"(\d+):([0-9a-fA-F]{64})")


def parse_anchor(text):
    """``SEQ:HASH`` -> (seq, hash)."""
    match = _ANCHOR.fullmatch(str(text).strip())
    if match is None:
        raise InputError("anchor %r: expected SEQ:HASH (a line number and its 64-digit hash)"
                         % text)
    return int(match.group(1)), match.group(2).lower()


def audit_verify(ca_dir, anchor=None):
    """Check the audit log of ``ca_dir``; ``valid`` false names the first
    problem (a line number when the chain itself is broken)."""
    ca = CaDir(ca_dir).require()
    seq, digest = parse_anchor(anchor) if anchor else (None, None)
    path = store_audit.audit_path(ca.path)
    with ca_lock(ca.path):
        report = walk_chain(path)
        problems = [report.problem] if report.problem else []
        if not problems and seq is not None:
            if seq > len(report.records) or seq < 1:
                problems.append("anchor %s: the log has only %d lines (lines were removed "
                                "from the end)" % (seq, len(report.records)))
            elif report.records[seq - 1]["hash"] != digest:
                problems.append("line %s: hash differs from the anchor (the log was "
                                "rewritten)" % seq)
        if not problems:
            try:
                problems += [message for dummy, dummy, message in coverage_gaps(ca, report.records)]
            except QpkiError as exc:
                problems.append("cannot compare with the CA state: %s" % exc)
            problem = _init_problem(ca, report.records)
            if problem:
                problems.append(problem)
    head = report.head
    if problems:
        reason = problems[0]
        if len(problems) > 1:
            reason += " (and %d more)" % (len(problems) - 1)
    else:
        reason = "%d records, chain intact, head %d:%s" % (len(report.records), head["seq"], head["hash"])
    return {"changed": False, "valid": not problems, "reason": reason,
            "line": report.broken_line, "records": len(report.records), "head": head,
            "problems": problems, "path": path}


def require_log(ca_dir):
    """StoreError unless the CA directory has an audit log."""
    path = store_audit.audit_path(ca_dir)
    if not os.path.exists(path):
        raise StoreError("no audit log: %s" % path)
    return path
