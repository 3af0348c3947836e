"""Revocation reasons (RFC 5280 §5.3.1 CRLReason): the one definition every
layer uses (CLI, modules, ops, ``index.txt``, CRL building).

A reason's value is its RFC 5280 name (``cACompromise``), which is also the
value of cryptography's ``x509.ReasonFlags``. ``index_name`` is the spelling
``openssl ca`` writes in ``index.txt`` (``CACompromise``); OpenSSL has no
spelling for privilegeWithdrawn and aACompromise, qpki writes
``privilegeWithdrawn`` and ``AACompromise``. Input is accepted in any case,
with or without ``_``/``-`` separators (``key_compromise``, as
community.crypto spells them).

This module imports nothing heavy: the CLI parser and the modules use it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import NamedTuple

from .errors import InputError


class RevocationReason(str, enum.Enum):
    """An RFC 5280 CRLReason; the value is its RFC 5280 name."""

    unspecified = "unspecified"
    key_compromise = "keyCompromise"
    ca_compromise = "cACompromise"
    affiliation_changed = "affiliationChanged"
    superseded = "superseded"
    cessation_of_operation = "cessationOfOperation"
    certificate_hold = "certificateHold"
    remove_from_crl = "removeFromCRL"
    privilege_withdrawn = "privilegeWithdrawn"
    aa_compromise = "aACompromise"

    def __str__(self) -> str:
        return self.value

    @property
    def code(self) -> int:
        """The CRLReason ENUMERATED value (7 is unused)."""
        return _CODES[self]

    @property
    def index_name(self) -> str:
        """How ``index.txt`` spells it (``openssl ca`` where it has a name)."""
        return _INDEX_NAMES.get(self, self.value)

    @property
    def delta_only(self) -> bool:
        """True for removeFromCRL: RFC 5280 allows it in delta CRLs only."""
        return self is RevocationReason.remove_from_crl

    @property
    def allows_invalidity_date(self) -> bool:
        """True when ``index.txt`` can hold an invalidity date with the reason
        (``openssl ca``'s keyTime / CAkeyTime forms)."""
        return self in (RevocationReason.key_compromise, RevocationReason.ca_compromise)

    @classmethod
    def parse(cls, text: str | RevocationReason) -> RevocationReason:
        """The reason named by ``text`` in any spelling; InputError if none."""
        if isinstance(text, cls):
            return text
        found = _BY_KEY.get(_key(str(text)))
        if found is None:
            shown = str(text)[:40]
            raise InputError(f"unknown revocation reason {shown!r}; expected one of "
                             f"{', '.join(REASON_NAMES)} (any case)")
        return found


def _key(text: str) -> str:
    return text.replace("_", "").replace("-", "").lower()


_CODES = {reason: code for code, reason in zip((0, 1, 2, 3, 4, 5, 6, 8, 9, 10), RevocationReason, strict=False)}
_INDEX_NAMES = {RevocationReason.ca_compromise: "CACompromise",
                RevocationReason.aa_compromise: "AACompromise"}
_BY_KEY = {_key(reason.value): reason for reason in RevocationReason}
REASON_NAMES = tuple(reason.value for reason in RevocationReason)


class RevokedEntry(NamedTuple):
    """One certificate to list in a CRL. Datetimes are UTC (naive ones are
    taken as UTC, which is what cryptography stores). ``expires`` is the
    certificate's notAfter when known (not written to the CRL). A named
    tuple: a CRL may hold 100,000 of them."""

    serial: int
    revoked_at: datetime
    reason: RevocationReason | None = None
    invalidity_date: datetime | None = None
    expires: datetime | None = None
