"""``qpki cert list`` and ``cert info --ca-dir``: the CA's inventory,
answered from its database (``store.cert_store``) through its indexes:
by status, by expiry, by subject text, by serial.

A CA without a database yet (made by an earlier qpki, not changed since) is
answered from ``index.txt``, filtered here, with the same results.
"""

from __future__ import annotations

import datetime
import os

from ...errors import InputError, StoreError
from ...store.ca_dir import CaDir
from ...store.cert_db import CertRow
from ...store.cert_query import STATUSES, CertQuery, status_of
from ...store.cert_store import CertStore, read_store
from ...store.index import IndexEntry, serial_hex
from ...store.metafile import utc_text
from ...x509.certificate import utcnow
from ..ensure import parse_renew_before
from .results import CertList, CertListed, CertRecordInfo, Revocation, StoredFields


def cert_query(status: str | None = None, expiring: str | None = None,
               subject: str | None = None, now: datetime.datetime | None = None) -> CertQuery:
    """A CertQuery from what a user typed; InputError naming what is wrong."""
    if status is not None and status not in STATUSES:
        raise InputError(f"status {status!r} is none of {', '.join(STATUSES)}")
    return CertQuery(now or utcnow(), status, parse_renew_before(expiring, "expiring"),
                     subject or None)


def _listed(entry: IndexEntry, now: datetime.datetime, row: CertRow | None = None) -> CertListed:
    revocation = stored = None
    if entry.revoked_at is not None:
        revocation = Revocation(utc_text(entry.revoked_at),
                                entry.reason.value if entry.reason else None)
    if row is not None:
        stored = StoredFields(utc_text(row.not_before) if row.not_before else None,
                              list(row.sans), row.profile, row.fingerprint)
    return CertListed(serial_hex(entry.serial), status_of(entry, now), entry.subject,
                      utc_text(entry.expires), revocation, stored)


def cert_list(ca_dir: str | os.PathLike, query: CertQuery | None = None) -> CertList:
    """The certificates of the CA at ``ca_dir`` that ``query`` selects."""
    query = query or cert_query()
    now = query.now
    ca = CaDir(ca_dir).require()
    with read_store(ca) as store:
        if isinstance(store, CertStore):
            found = [_listed(row.entry, now, row) for row in store.select(query)]
        else:
            entries = [entry for entry in store.entries() if query.matches(entry)]
            if query.expiring is not None:
                entries.sort(key=lambda entry: entry.expires)
            found = [_listed(entry, now) for entry in entries]
    return CertList(os.fspath(ca_dir), found, len(found))


def cert_record(ca_dir: str | os.PathLike, serial: int) -> tuple[bytes, CertListed]:
    """(the DER of certificate ``serial`` of the CA, its listing entry):
    from the database, the DER from ``certs/<SERIAL>.crt`` when the
    database has none. StoreError when the CA never issued it."""
    ca = CaDir(ca_dir).require()
    now = utcnow()
    with read_store(ca) as store:
        row = store.row(serial) if isinstance(store, CertStore) else None
        entry = row.entry if row is not None else store.find(serial)
    if entry is None:
        raise StoreError(f"serial {serial_hex(serial)} is not in the certificate index of CA "
                         f"{ca.path}")
    der = row.der if row is not None else None
    if der is None:
        try:
            der = ca.cert_path(serial).read_bytes()
        except OSError as err:
            raise StoreError(f"cannot read {ca.cert_path(serial)}: {err.strerror or err}") from None
    return der, _listed(entry, now, row)


def cert_record_info(ca_dir: str | os.PathLike, serial: int, where: str) -> CertRecordInfo:
    """cert info --ca-dir: certificate ``serial`` of the CA at ``ca_dir``
    described, with its status in the CA's records."""
    from ...x509.parse import load_certificate
    from ..describe.objects import describe_certificate

    der, listed = cert_record(ca_dir, serial)
    return CertRecordInfo(describe_certificate(load_certificate(der, where)), listed.status,
                          listed.revocation)
