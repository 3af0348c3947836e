"""Invariants 4 (the CRL number part), 5 and 10: the CRL files, the
``crlnumber`` counter and the revocations the next CRL will list."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from ....dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ....errors import QpkiError, StoreError
from ....store.atomic import write_file
from ....store.ca_dir import CaDir
from ....store.cert_store import has_database, read_store, write_store
from ....store.counter_file import write_counter_file
from ....store.index import serial_hex
from ....store.serials import _read_hex
from ....x509.certificate import utcnow
from ....x509.signature import verify_crl_signature
from ...crl.entries import listed_entries, previous_crl
from .files import set_aside
from .report import Report


def check_crls(ca: CaDir, ca_cert: x509.Certificate, ca_key: Any, report: Report) -> None:
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
                           partial(set_aside, path, ".corrupt"))
            continue
        loaded[path] = (crl, number)
    if der_path in loaded and pem_path in loaded:
        (der_crl, der_n), (pem_crl, pem_n) = loaded[der_path], loaded[pem_path]
        if der_crl.public_bytes(serialization.Encoding.DER) != \
                pem_crl.public_bytes(serialization.Encoding.DER):
            newer = der_crl if der_n >= pem_n else pem_crl
            report.problem("%s (CRL %d) and %s (CRL %d) differ (interrupted crl gen)"
                           % (der_path.name, der_n, pem_path.name, pem_n),
                           partial(_write_crl_pair, ca, newer))
    elif len(loaded) == 1:
        path, (crl, number) = next(iter(loaded.items()))
        other = pem_path if path == der_path else der_path
        report.problem("%s is missing next to %s (interrupted crl gen)" % (other, path),
                       partial(_write_crl_pair, ca, crl))
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


def _write_crl_pair(ca: CaDir, crl: x509.CertificateRevocationList) -> None:
    write_file(ca.crl_path(der=True), crl.public_bytes(serialization.Encoding.DER))
    write_file(ca.crl_path(), crl.public_bytes(serialization.Encoding.PEM))


def _next_crl_number(ca: CaDir, report: Report) -> int | None:
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


def check_revocations(ca: CaDir, ca_cert: x509.Certificate, entries: list, report: Report) -> None:
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
