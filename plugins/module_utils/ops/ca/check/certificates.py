"""Invariants 2 to 4 (the serial part): every index line has its certificate
file and every certificate file its line; the ``serial`` file names the
last one."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

from ....dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ....errors import QpkiError, StoreError
from ....store.atomic import is_temp_name
from ....store.ca_dir import CaDir
from ....store.cert_store import current_entries, has_database, write_store
from ....store.dn_oneline import oneline
from ....store.index import IndexEntry, append_entry, entry_for_certificate, serial_hex
from ....store.serials import _read_hex, record_serial
from ....x509.signature import verify_certificate_signature
from .files import set_aside
from .report import Report


def load_cert_file(path: Path) -> x509.Certificate:
    data = path.read_bytes()
    if not data:
        raise ValueError("empty file")
    return x509.load_pem_x509_certificate(data)


def _issued_by_ca(cert: x509.Certificate, ca_cert: x509.Certificate,
                  ca_keys: list[Any]) -> str | None:
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


def check_certificates(ca: CaDir, ca_cert: x509.Certificate, ca_keys: list[Any],
                       entries: list[IndexEntry], report: Report) -> list[IndexEntry]:
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
            cert = load_cert_file(path)
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
            cert = load_cert_file(path)
        except (OSError, ValueError) as exc:
            report.problem("%s is not a certificate (%s) and has no index line" % (path, exc),
                           partial(set_aside, path, ".corrupt"))
            continue
        wrong = _issued_by_ca(cert, ca_cert, ca_keys) if cert.serial_number == serial else \
            "its serial is %s" % serial_hex(cert.serial_number)
        if wrong:
            report.problem("%s has no index line and is not a certificate of this CA (%s)"
                           % (path, wrong), partial(set_aside, path, ".rejected"))
            continue
        report.problem("issued but unrecorded certificate %s (serial %s, %s): no line in %s"
                       % (path, serial_hex(serial), cert.subject.rfc4514_string(),
                          ca.index.name),
                       partial(_record_found, ca, cert))
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
    from ...cert.issued import Issued

    with write_store(ca) as store:
        store.record_issued([Issued(cert, ca.certs_dir).row(None)], [])


def check_serial_file(ca: CaDir, entries: list[IndexEntry], report: Report) -> None:
    current: int | StoreError | None
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
