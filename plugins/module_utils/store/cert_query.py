"""Which certificates of a CA to list (``qpki cert list``): by status, by
expiry, by subject text. ``CertQuery.sql`` is what the CA database is
asked (``CertStore.select``); ``matches`` asks the same of an index entry,
for a CA without a database yet.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from .index import EXPIRED, REVOKED, IndexEntry
from .metafile import utc_text

STATUSES = ("valid", "revoked", "expired")


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


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
        """(condition, parameters, order) for ``CertDatabase.rows``."""
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
