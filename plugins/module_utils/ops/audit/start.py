"""``qpki audit start``: begin the audit log of a CA directory that another
tool made (QPKI writes no ``audit.log``).

qpki signs nothing for a CA without a log, and ``ca check --repair`` never
makes one for a CA that has signed something: there, a missing log looks
exactly like a deleted one. Starting a log is therefore an explicit step of
the operator, done once: a ``ca.init`` record of the CA certificate in
place, saying the log was started afterwards, then one ``audit.recover``
record per certificate, revocation and CRL the directory already shows (as
``ca check --repair`` records state found without its record). From there
on every operation is recorded as for a CA qpki made.
"""

from __future__ import annotations

import os

from ...dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ...errors import InputError
from ...store import audit as store_audit
from ...store.ca_dir import CaDir
from ...store.lock import ca_lock
from . import trail as audit
from ..ca.check import recover_record
from .results import AuditStarted

NOTE = ("log started by qpki audit start for a CA directory made by another tool; "
        "what happened before is not in it")


def audit_start(ca_dir: str | os.PathLike) -> AuditStarted:
    """Start the log of ``ca_dir``; InputError if it has one."""
    ca = CaDir(ca_dir).require()
    path = store_audit.audit_path(ca.path)
    with ca_lock(ca.path):
        if os.path.lexists(path):
            raise InputError(f"{path} exists: a CA's audit log is started only once "
                             "(qpki audit verify checks it)")
        cert = x509.load_pem_x509_certificate(ca.read_cert_pem())
        fields = [audit.ca_init_record(cert, ca.load_meta(), note=NOTE)]
        store_audit.append_records(ca.path, fields)
        gaps = audit.coverage_gaps(ca, audit.walk_chain(path).records)
        recovered = [recover_record(ca, kind, key) for kind, key, dummy in gaps]
        if recovered:
            store_audit.append_records(ca.path, recovered)
    return AuditStarted(changed=True, path=path, records=1 + len(recovered),
                        recovered=len(recovered))
