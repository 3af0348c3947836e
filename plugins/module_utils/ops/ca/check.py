"""``qpki ca check [--repair]``: consistency of a CA directory after a crash.

What a consistent CA directory looks like (the invariants):

1. ``ca.meta.json`` and ``ca.crt`` load; ``index.txt`` parses.
2. Every index line has ``certs/<SERIAL>.crt``, a certificate with that
   serial, issued and signed by this CA, whose subject is the line's.
3. Every ``certs/<SERIAL>.crt`` has an index line. A file without one is an
   *issued-but-unrecorded* certificate: the process died between writing
   the file and appending the index line. It was signed, so it must be
   recorded (``--repair`` appends the line it would have got).
4. ``serial`` names the last index line's serial (or is absent with an
   empty index); ``crlnumber`` is a hex counter above the current CRL's
   number.
5. ``crl/ca.crl`` and ``crl/ca.crl.der`` hold the same CRL, signed by this CA.
6. No orphan temporary files (``.<name>.tmp-<hex>``, left by a write that
   was killed before its rename) in the CA directory, ``certs/``, ``crl/``
   or ``private/``. They are never read by anything, so they are harmless,
   but ``--repair`` deletes them.
7. The audit log exists, starts with the CA's creation, its chain is
   intact, and it matches the index both ways: it records every index
   line, every revocation and the current CRL (a state found without its
   record is filled in by ``--repair`` with an ``audit.recover`` record
   that says so), and every issuance, revocation and release it records
   still shows in the index (an undone revocation or a deleted line is
   reported, never repaired). Records of an interrupted operation waiting
   in ``audit.pending`` are completed by the next operation or by
   ``--repair``. A log ending in an incomplete line (a torn write) is cut
   back to its last complete line by ``--repair``, which then records that
   it did so. A missing log or a broken chain is never repaired: that is
   evidence for a human.
8. Software key files under ``private/`` are not open to group/others
   (reported, never changed: an exposed CA key is an incident).
9. No leftover ``.<name>.init-*`` staging directory beside the CA (left by a
   killed ``ca init``; it may hold an unused private key). ``--repair``
   removes those older than ``stale_age`` seconds.
10. Every revocation reason in the index maps to an RFC 5280 reason, none
   is removeFromCRL (delta CRLs only), and the next CRL would list every
   serial the current CRL lists (``crl_entries``).
11. With a CA database: no committed change waits for its files, and
   ``index.txt`` is the file qpki last wrote; one changed outside qpki is
   what the next change takes into the database (``--repair`` does it now).

Everything runs under the CA lock, so it is safe next to running
operations. Repairs never sign anything (no key, PIN or passphrase needed).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from ...dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ...errors import QpkiError, StoreError
from ...store import audit as store_audit
from ...store.atomic import is_temp_name, write_file
from ...store.ca_dir import CaDir
from ...store.counter_file import write_counter_file
from ...store.dn_oneline import oneline
from ...store.audit_pending import PENDING_NAME
from ...store.cert_store import append_audit, current_entries, has_database, postgres_variable, \
    read_store, write_store
from ...store.index import append_entry, entry_for_certificate, read_index, serial_hex
from ...store.lock import ca_lock
from ...store.serials import _read_hex, record_serial
from ...store.metafile import utc_text
from ...x509.certificate import utcnow
from ...x509.parse import public_key_of_certificate
from .publish import version_public_keys
from .results import CaCheck
from ...x509.signature import verify_certificate_signature, verify_crl_signature
from ..audit import trail as audit
from ..audit import journal as audit_journal
from .database import complete_store, take_index_file
from ...store.shared_store import SharedCertStore
from ..crl.entries import listed_entries, previous_crl

STALE_AGE = 60.0


class _Report:
    def __init__(self, repair):
        self.repair = repair
        self.problems = []   # still wrong after this run
        self.repaired = []   # were wrong, fixed now
        self.notes = []      # informational

    def problem(self, message, fix=None):
        """Record a problem; with --repair and a ``fix`` callable, fix it."""
        if self.repair and fix is not None:
            try:
                fix()
            except (QpkiError, OSError) as exc:
                self.problems.append("%s (repair failed: %s)" % (message, exc))
                return
            self.repaired.append(message)
        else:
            self.problems.append(message + (" [repairable]" if fix is not None else ""))

    def result(self, ca_path: str | os.PathLike) -> CaCheck:
        valid = not self.problems
        if not valid:
            reason = self.problems[0]
            if len(self.problems) > 1:
                reason += " (and %d more)" % (len(self.problems) - 1)
        elif self.repaired:
            reason = "ok after %d repair(s)" % len(self.repaired)
        else:
            reason = "ok"
        return CaCheck(changed=bool(self.repaired), valid=valid, reason=reason,
                       ca_dir=os.fspath(ca_path), problems=self.problems,
                       repaired=self.repaired, notes=self.notes)


def ca_check(ca_dir: str | os.PathLike, repair: bool = False, stale_age: float = STALE_AGE) -> CaCheck:
    """Check (and with ``repair`` fix) the CA directory ``ca_dir``."""
    ca = CaDir(ca_dir)
    report = _Report(repair)
    if not ca.exists():
        leftovers = _staging_leftovers(ca, report, stale_age)
        if not leftovers:
            raise StoreError("not a CA directory: %s (no ca.meta.json)" % ca.path)
        return report.result(ca.path)
    ca.require()  # nothing is read or repaired in a directory others can change
    with ca_lock(ca.path):
        _check_locked(ca, report, stale_age)
    return report.result(ca.path)


def _check_locked(ca, report, stale_age):
    for directory in (ca.path, ca.certs_dir, ca.crl_dir, ca.private_dir):
        _temp_files(directory, report)
    _staging_leftovers(ca, report, stale_age)
    try:
        ca.load_meta()
        ca_cert = x509.load_pem_x509_certificate(ca.read_cert_pem())
        ca_key = public_key_of_certificate(ca_cert)
        ca_keys = version_public_keys(ca, ca_cert)
    except (QpkiError, ValueError) as exc:
        report.problem("the CA itself does not load: %s" % exc)
        return
    try:
        ca.check_private_key_modes()
    except StoreError as exc:
        report.problem("%s; consider the key exposed" % exc)
    _shared_directory(ca, report)  # the log a pending record is compared with is the database's
    _pending(ca, report)  # first: completing an operation may add an index line
    _committed(ca, report)
    try:
        entries = _entries(ca, report)
    except StoreError as exc:
        report.problem(str(exc))
        return
    entries = _certificates(ca, ca_cert, ca_keys, entries, report)
    _serial_file(ca, entries, report)
    _crls(ca, ca_cert, ca_key, report)
    _revocations(ca, ca_cert, entries, report)
    _audit(ca, report)


# ------------------------------------------------------------------ files

def _temp_files(directory, report):
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return
    for name in names:
        if is_temp_name(name):
            path = os.path.join(directory, name)
            report.problem("orphan temporary file %s (from an interrupted write)" % path,
                           lambda p=path: _unlink(p))


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _staging_leftovers(ca, report, stale_age):
    """``.<name>.init-*`` directories ``ca init`` left beside the CA."""
    parent = os.path.dirname(os.path.abspath(ca.path)) or "."
    prefix = ".%s.init-" % os.path.basename(os.path.abspath(ca.path))
    try:
        names = sorted(n for n in os.listdir(parent) if n.startswith(prefix))
    except OSError:
        return []
    found = []
    for name in names:
        path = os.path.join(parent, name)
        if not os.path.isdir(path) or os.path.islink(path):
            continue
        found.append(path)
        age = time.time() - os.lstat(path).st_mtime
        fix = (lambda p=path: shutil.rmtree(p)) if age >= stale_age else None
        message = "leftover staging directory %s from an interrupted ca init" % path
        if fix is None:
            message += " (younger than %gs: it may belong to a running ca init)" % stale_age
        report.problem(message, fix)
    return found


# ------------------------------------------------------------ certificates

def _load_cert_file(path):
    data = path.read_bytes()
    if not data:
        raise ValueError("empty file")
    return x509.load_pem_x509_certificate(data)


def _issued_by_ca(cert, ca_cert, ca_keys):
    """None if one of the CA's keys (any version) signed ``cert``, else why not."""
    if cert.issuer != ca_cert.subject:
        return "issuer is %s, not this CA" % cert.issuer.rfc4514_string()
    failure = None
    for ca_key in ca_keys:
        try:
            verify_certificate_signature(cert, ca_key, ca_cert.subject)
            return None
        except QpkiError as exc:
            failure = failure or str(exc)
    return failure


def _certificates(ca, ca_cert, ca_keys, entries, report):
    """Invariants 2 and 3; returns the index entries after any repair."""
    by_serial = {entry.serial: entry for entry in entries}
    files = {}
    try:
        names = sorted(os.listdir(ca.certs_dir))
    except FileNotFoundError:
        names = []
        report.problem("missing directory %s" % ca.certs_dir,
                       lambda: os.mkdir(ca.certs_dir, 0o755))
    for name in names:
        stem, dot, ext = name.partition(".")
        if is_temp_name(name):
            continue
        try:
            serial = int(stem, 16) if dot and ext == "crt" else None
        except ValueError:
            serial = None
        if serial is None:
            report.notes.append("ignored file %s" % (ca.certs_dir / name))
            continue
        files[serial] = ca.certs_dir / name

    for entry in entries:
        path = files.get(entry.serial)
        label = "serial %s in %s" % (serial_hex(entry.serial), ca.index.name)
        if path is None:
            report.problem("%s has no certificate file %s" % (label, ca.cert_path(entry.serial)))
            continue
        try:
            cert = _load_cert_file(path)
        except (OSError, ValueError) as exc:
            report.problem("%s: %s is not a certificate (%s)" % (label, path, exc))
            continue
        if cert.serial_number != entry.serial:
            report.problem("%s holds serial %s, not %s" % (path, serial_hex(cert.serial_number),
                                                           serial_hex(entry.serial)))
            continue
        wrong = _issued_by_ca(cert, ca_cert, ca_keys)
        if wrong:
            report.problem("%s: %s" % (path, wrong))
        elif oneline(cert.subject) != entry.subject:
            report.problem("%s: subject differs from the index line" % path)

    for serial, path in sorted(files.items()):
        if serial in by_serial:
            continue
        try:
            cert = _load_cert_file(path)
        except (OSError, ValueError) as exc:
            report.problem("%s is not a certificate (%s) and has no index line" % (path, exc),
                           lambda p=path: os.replace(p, str(p) + ".corrupt"))
            continue
        wrong = _issued_by_ca(cert, ca_cert, ca_keys) if cert.serial_number == serial else \
            "its serial is %s" % serial_hex(cert.serial_number)
        if wrong:
            report.problem("%s has no index line and is not a certificate of this CA (%s)"
                           % (path, wrong), lambda p=path: os.replace(p, str(p) + ".rejected"))
            continue
        report.problem("issued but unrecorded certificate %s (serial %s, %s): no line in %s"
                       % (path, serial_hex(serial), cert.subject.rfc4514_string(),
                          ca.index.name),
                       lambda c=cert: _record_found(ca, c))
    try:
        return current_entries(ca)
    except StoreError:
        return entries


def _record_found(ca: CaDir, cert: x509.Certificate) -> None:
    """Record a certificate file nothing recorded (its audit record is
    the audit check's to add)."""
    if not has_database(ca):
        append_entry(ca.index, entry_for_certificate(cert))
        return
    from ..cert.issued import Issued

    with write_store(ca) as store:
        store.record_issued([Issued(cert, ca.certs_dir).row(None)], [])


def _committed(ca: CaDir, report: _Report) -> None:
    """Changes committed to the database whose files a crash left unwritten."""
    if not has_database(ca):
        return
    with write_store(ca) as store:
        box = store.outbox()
    if box:
        report.problem(f"{len(box.serials)} certificate change(s) and {len(box.records)} audit "
                       "record(s) committed to the CA database wait for their files (the next "
                       "operation on the CA writes them)",
                       lambda: report.notes.extend(complete_store(ca)))


def _shared_directory(ca: CaDir, report: _Report) -> None:
    """A working directory of a shared database, first: a process that died
    here before the files of its commit were complete is a problem; the
    changes made from other directories are copied (that is not one)."""
    if postgres_variable(ca) is None:
        return
    with write_store(ca) as store:
        if not isinstance(store, SharedCertStore):
            return
        if not store.interrupted():
            report.notes.extend(store.copy_changes())
            return
    report.problem("a process died in this working directory before the files of its "
                   "committed change were complete (the next operation on the CA writes "
                   "them)", lambda: report.notes.extend(complete_store(ca)))


def _entries(ca: CaDir, report: _Report) -> list:
    """The certificates as the next change to the CA will find them: an
    ``index.txt`` changed outside qpki is what it takes into the database
    (``ca_database.take_index_file``), done now with --repair."""
    if not has_database(ca):
        return read_index(ca.index)
    with write_store(ca) as store:
        if isinstance(store, SharedCertStore) and store.index_changed():
            report.problem(f"{ca.index} was changed outside qpki (on a shared CA database it "
                           "is only a copy)", lambda: report.notes.append(take_index_file(ca, store)))
            return store.entries()
        if store.index_changed():
            if not report.repair:
                entries = read_index(ca.index)
                report.notes.append(f"{ca.index} was changed outside qpki: the next change to "
                                    "the CA takes its lines into the CA database")
                return entries
            report.notes.append(take_index_file(ca, store))
        return store.entries()


def _serial_file(ca, entries, report):
    try:
        current = _read_hex(ca.serial)
    except StoreError as exc:
        current = exc
    expected = entries[-1].serial if entries else None
    if isinstance(current, StoreError):
        fix = (lambda: record_serial(ca, expected)) if expected is not None else \
            (lambda: os.unlink(ca.serial))
        report.problem(str(current), fix)
    elif current != expected and expected is not None:
        report.problem("%s holds %s, not the last issued serial %s (stale after an "
                       "interrupted issuance)" % (ca.serial, "nothing" if current is None
                                                  else serial_hex(current),
                                                  serial_hex(expected)),
                       lambda: record_serial(ca, expected))


# -------------------------------------------------------------------- CRLs

def _crls(ca, ca_cert, ca_key, report):
    pem_path, der_path = ca.crl_path(), ca.crl_path(der=True)
    loaded = {}
    for path, loader in ((der_path, x509.load_der_x509_crl), (pem_path, x509.load_pem_x509_crl)):
        if not path.exists():
            continue
        try:
            crl = loader(path.read_bytes())
            number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
            verify_crl_signature(crl, ca_key)
            if crl.issuer != ca_cert.subject:
                raise ValueError("issuer is not this CA")
        except (OSError, ValueError, x509.ExtensionNotFound, QpkiError) as exc:
            report.problem("%s is not a valid CRL of this CA (%s)" % (path, exc),
                           (lambda p=path: os.replace(p, str(p) + ".corrupt")))
            continue
        loaded[path] = (crl, number)
    if der_path in loaded and pem_path in loaded:
        (der_crl, der_n), (pem_crl, pem_n) = loaded[der_path], loaded[pem_path]
        if der_crl.public_bytes(serialization.Encoding.DER) != \
                pem_crl.public_bytes(serialization.Encoding.DER):
            newer = der_crl if der_n >= pem_n else pem_crl
            report.problem("%s (CRL %d) and %s (CRL %d) differ (interrupted crl gen)"
                           % (der_path.name, der_n, pem_path.name, pem_n),
                           lambda c=newer: _write_crl_pair(ca, c))
    elif len(loaded) == 1:
        path, (crl, number) = next(iter(loaded.items()))
        other = pem_path if path == der_path else der_path
        report.problem("%s is missing next to %s (interrupted crl gen)" % (other, path),
                       lambda c=crl: _write_crl_pair(ca, c))
    numbers = [number for dummy, number in loaded.values()]
    if numbers:
        try:
            counter = _next_crl_number(ca, report)
        except StoreError as exc:
            counter = None
            report.problem(str(exc), lambda: _write_hex_counter(ca.crlnumber, max(numbers) + 1))
        else:
            if counter is None or counter <= max(numbers):
                report.problem("%s is %s but CRL %d exists: the next CRL would reuse a number"
                               % (ca.crlnumber, counter, max(numbers)),
                               lambda: _write_hex_counter(ca.crlnumber, max(numbers) + 1))


def _write_crl_pair(ca, crl):
    write_file(ca.crl_path(der=True), crl.public_bytes(serialization.Encoding.DER))
    write_file(ca.crl_path(), crl.public_bytes(serialization.Encoding.PEM))


def _next_crl_number(ca: CaDir, report: _Report) -> int | None:
    """The number the next CRL gets: the database's counter (crlnumber, made
    from it, must say the same), else crlnumber's."""
    in_file = _read_hex(ca.crlnumber)
    if not has_database(ca):
        return in_file
    with write_store(ca) as store:
        last = store.crl_number()
    number = 1 if last is None else last + 1
    if last is not None and in_file != number:
        report.problem(f"{ca.crlnumber} holds {in_file}, not the CA database's next CRL number "
                       f"{number}", lambda: _write_hex_counter(ca.crlnumber, number))
    return number


def _write_hex_counter(path: Path, value: int) -> None:
    if path.name == "crlnumber" and has_database(CaDir(path.parent)):
        with write_store(CaDir(path.parent)) as store:
            store.set_next_crl_number(value)
    write_counter_file(path, value)


# ------------------------------------------------------------------- audit

def _pending(ca: CaDir, report: _Report) -> None:
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


def _revocations(ca: CaDir, ca_cert: x509.Certificate, entries: list, report: _Report) -> None:
    for entry in entries:
        if entry.reason is not None and entry.reason.delta_only:
            report.problem(f"serial {serial_hex(entry.serial)} in {ca.index.name} has reason "
                           f"{entry.reason}, which only a delta CRL may carry (release it "
                           "from hold: qpki cert unhold, or released_serials of qpki_crl)")
    try:
        with read_store(ca) as store:
            revoked = store.revoked_entries(naive=True)
        listed_entries(ca, revoked,
                       previous_crl(ca, ca_cert.subject), utcnow())
    except QpkiError as exc:
        report.problem(str(exc))


def _audit(ca, report):
    path = store_audit.audit_path(ca.path)
    if not os.path.exists(path):
        _missing_log(ca, path, report)
        return
    chain = audit.walk_chain(path)
    if chain.incomplete_tail and chain.broken_line == len(chain.records) + 1:
        report.problem(chain.problem, lambda: audit_journal.cut_torn_tail(
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
        report.problem("audit log: " + message, lambda k=kind, v=key: _recover(ca, k, v))


def _missing_log(ca: CaDir, path: str, report: _Report) -> None:
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


def _recover(ca, kind, value):
    append_audit(ca, [recover_record(ca, kind, value)])


def recover_record(ca: CaDir, kind: str, value) -> dict:
    """The ``audit.recover`` record of state found on disk without its
    record (one of ``audit.coverage_gaps``)."""
    fields = {"time": utc_text(utcnow()), "op": store_audit.RECOVER}
    if kind == "issue":
        fields["recovered"] = store_audit.ISSUE
        try:
            cert = _load_cert_file(ca.cert_path(value.serial))
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
