"""``qpki cert list`` and ``cert info --ca-dir``: the CA's inventory,
answered from its database (``store.cert_store``) through its indexes:
by status, by expiry, by subject text, by serial.

A CA without a database yet (made by an earlier qpki, not changed since) is
answered from ``index.txt``, filtered here, with the same results.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, StoreError
from ..store.ca_dir import CaDir
from ..store.cert_db import CertRow
from ..store.cert_store import CertStore, read_store
from ..store.index import EXPIRED, REVOKED, IndexEntry, serial_hex
from ..store.metafile import utc_text
from ..x509.certificate import utcnow
from .state import parse_renew_before

STATUSES = ("valid", "revoked", "expired")


@dataclass(frozen=True)
class CertQuery:
    """Which certificates to list: ``status`` (valid, revoked, expired),
    those that stop being valid within ``expiring`` of ``now``, and those
    whose one-line subject contains ``subject`` (any case)."""

    status: str | None = None
    expiring: datetime.timedelta | None = None
    subject: str | None = None
    now: datetime.datetime | None = None

    def sql(self) -> tuple[str, tuple, str]:
        """(condition, parameters, order) for ``CertStore.rows``."""
        now = utc_text(self.now or utcnow())
        clauses, params = [], []
        if self.status == "revoked":
            clauses.append("status = 'R'")
        elif self.status == "valid":
            clauses.append("status <> 'R' AND status <> 'E' AND not_after >= ?")
            params.append(now)
        elif self.status == "expired":
            clauses.append("status <> 'R' AND (status = 'E' OR not_after < ?)")
            params.append(now)
        if self.expiring is not None:
            clauses.append("status <> 'R' AND not_after >= ? AND not_after < ?")
            params += [now, utc_text((self.now or utcnow()) + self.expiring)]
        if self.subject:
            escaped = self.subject.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("subject LIKE ? ESCAPE '\\'")
            params.append(f"%{escaped}%")
        order = "not_after" if self.expiring is not None else "index_offset"
        return " AND ".join(clauses), tuple(params), order

    def matches(self, entry: IndexEntry) -> bool:
        """The same test for an index entry (a CA without a database)."""
        now = self.now or utcnow()
        state = status_of(entry, now)
        if self.status is not None and state != self.status:
            return False
        if self.expiring is not None and (state != "valid" or entry.expires >= now + self.expiring):
            return False
        return not self.subject or self.subject.lower() in entry.subject.lower()


def status_of(entry: IndexEntry, now: datetime.datetime) -> str:
    if entry.status == REVOKED:
        return "revoked"
    if entry.status == EXPIRED or entry.expires < now:
        return "expired"
    return "valid"


def cert_query(status: str | None = None, expiring: str | None = None,
               subject: str | None = None, now: datetime.datetime | None = None) -> CertQuery:
    """A CertQuery from what a user typed; InputError naming what is wrong."""
    if status is not None and status not in STATUSES:
        raise InputError(f"status {status!r} is none of {', '.join(STATUSES)}")
    return CertQuery(status, parse_renew_before(expiring, "expiring"), subject or None, now)


def _listed(entry: IndexEntry, now: datetime.datetime, row: CertRow | None = None) -> dict:
    item: dict[str, Any] = {"serial": serial_hex(entry.serial), "status": status_of(entry, now),
                            "subject": entry.subject, "not_after": utc_text(entry.expires)}
    if entry.revoked_at is not None:
        item["revoked_at"] = utc_text(entry.revoked_at)
        item["reason"] = entry.reason.value if entry.reason else None
    if row is not None:
        item.update(not_before=utc_text(row.not_before) if row.not_before else None,
                    sans=list(row.sans), profile=row.profile,
                    fingerprint_sha256=row.fingerprint)
    return item


def cert_list(ca_dir: str | os.PathLike, query: CertQuery | None = None) -> dict[str, Any]:
    """The certificates of the CA at ``ca_dir`` that ``query`` selects."""
    query = query or CertQuery()
    now = query.now or utcnow()
    ca = CaDir(ca_dir).require()
    with read_store(ca) as store:
        if isinstance(store, CertStore):
            where, params, order = query.sql()
            found = [_listed(row.entry, now, row) for row in store.rows(where, params, order)]
        else:
            entries = [entry for entry in store.entries() if query.matches(entry)]
            if query.expiring is not None:
                entries.sort(key=lambda entry: entry.expires)
            found = [_listed(entry, now) for entry in entries]
    return {"ca_dir": os.fspath(ca_dir), "certificates": found, "count": len(found)}


def cert_record(ca_dir: str | os.PathLike, serial: int) -> tuple[bytes, dict[str, Any]]:
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
