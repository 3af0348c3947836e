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


@dataclass(frozen=True)
class CertQuery:
    """Which certificates to list, as of ``now``: ``status`` (valid,
    revoked, expired), those that stop being valid within ``expiring``, and
    those whose one-line subject contains ``subject`` (any case)."""

    now: datetime.datetime
    status: str | None = None
    expiring: datetime.timedelta | None = None
    subject: str | None = None

    def sql(self) -> tuple[str, tuple, str]:
        """(condition, parameters, order) for ``CertDatabase.rows``."""
        now = utc_text(self.now)
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
            params += [now, utc_text(self.now + self.expiring)]
        if self.subject:
            escaped = self.subject.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("subject LIKE ? ESCAPE '\\'")
            params.append(f"%{escaped}%")
        order = "not_after" if self.expiring is not None else "index_offset"
        return " AND ".join(clauses), tuple(params), order

    def matches(self, entry: IndexEntry) -> bool:
        """The same test for an index entry (a CA without a database)."""
        state = status_of(entry, self.now)
        if self.status is not None and state != self.status:
            return False
        if self.expiring is not None and (state != "valid"
                                          or entry.expires >= self.now + self.expiring):
            return False
        return not self.subject or self.subject.lower() in entry.subject.lower()


def status_of(entry: IndexEntry, now: datetime.datetime) -> str:
    if entry.status == REVOKED:
        return "revoked"
    if entry.status == EXPIRED or entry.expires < now:
        return "expired"
    return "valid"
