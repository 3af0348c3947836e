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

This module runs the checks in order; each invariant's check and repair
live in ``files`` (6, 9), ``certificates`` (2-4), ``store`` (11), ``crls``
(4, 5, 10) and ``audit_log`` (7); ``report`` collects what they find.
"""

from __future__ import annotations

import os

from ....dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ....errors import QpkiError, StoreError
from ....store.ca_dir import CaDir
from ....store.lock import ca_lock
from ....x509.parse import public_key_of_certificate
from ..publish import version_public_keys
from ..results import CaCheck
from .audit_log import check_audit_log, check_pending, recover_record
from .certificates import check_certificates, check_serial_file
from .crls import check_crls, check_revocations
from .files import staging_leftovers, temp_files
from .report import Report
from .store import check_committed, check_shared_directory, index_entries

__all__ = ["STALE_AGE", "ca_check", "recover_record"]

STALE_AGE = 60.0


def ca_check(ca_dir: str | os.PathLike, repair: bool = False,
             stale_age: float = STALE_AGE) -> CaCheck:
    """Check (and with ``repair`` fix) the CA directory ``ca_dir``."""
    ca = CaDir(ca_dir)
    report = Report(repair)
    if not ca.exists():
        leftovers = staging_leftovers(ca, report, stale_age)
        if not leftovers:
            raise StoreError("not a CA directory: %s (no ca.meta.json)" % ca.path)
        return report.result(ca.path)
    ca.require()  # nothing is read or repaired in a directory others can change
    with ca_lock(ca.path):
        _check_locked(ca, report, stale_age)
    return report.result(ca.path)


def _check_locked(ca: CaDir, report: Report, stale_age: float) -> None:
    for directory in (ca.path, ca.certs_dir, ca.crl_dir, ca.private_dir):
        temp_files(directory, report)
    staging_leftovers(ca, report, stale_age)
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
    check_shared_directory(ca, report)  # the log a pending record is compared with is the database's
    check_pending(ca, report)  # first: completing an operation may add an index line
    check_committed(ca, report)
    try:
        entries = index_entries(ca, report)
    except StoreError as exc:
        report.problem(str(exc))
        return
    entries = check_certificates(ca, ca_cert, ca_keys, entries, report)
    check_serial_file(ca, entries, report)
    check_crls(ca, ca_cert, ca_key, report)
    check_revocations(ca, ca_cert, entries, report)
    check_audit_log(ca, report)
