"""Changing one entry of ``index.txt``: the whole index with the entry
replaced (``plan_change``), written atomically when the caller is ready
(after its audit records are written ahead, see ``ops.audit.journal``).
Callers hold the CA lock."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from ..errors import StoreError
from ..revocation import RevocationReason
from .index import REVOKED, VALID, IndexEntry, read_index, serial_hex, to_utc, write_index


@dataclass(frozen=True)
class IndexChange:
    """All entries of an index with one of them changed (``entry``, at
    ``position``; ``before`` is what it was), ready to be written with
    ``write``."""

    path: str
    entries: list[IndexEntry]
    position: int
    before: IndexEntry

    @property
    def entry(self) -> IndexEntry:
        return self.entries[self.position]

    def write(self) -> IndexEntry:
        write_index(self.path, self.entries)
        return self.entry


def plan_change(path: str | os.PathLike, serial: int,
                change: Callable[[IndexEntry], IndexEntry]) -> IndexChange:
    """The whole index with the entry of ``serial`` replaced by
    ``change(entry)`` (nothing is written; ``IndexChange.write`` does).
    StoreError if the serial is not in the index; ``change`` raises to
    refuse."""
    path = os.fspath(path)
    entries = read_index(path)
    for position, existing in enumerate(entries):
        if existing.serial == serial:
            entries[position] = change(existing)
            return IndexChange(path, entries, position, existing)
    raise StoreError(f"serial {serial_hex(serial)} is not in the certificate index {path}")


def revoked(entry: IndexEntry, when: datetime, reason: RevocationReason | None,
            invalidity_date: datetime | None = None) -> IndexEntry:
    """``entry`` revoked at ``when``. StoreError if it already is; valid and
    expired entries may be revoked."""
    if entry.status == REVOKED:
        raise StoreError(f"serial {serial_hex(entry.serial)} is already revoked "
                         f"(since {entry.revoked_at:%Y-%m-%d %H:%M:%S} UTC)")
    return replace(entry, status=REVOKED, revoked_at=to_utc(when), reason=reason,
                   invalidity_date=to_utc(invalidity_date) if invalidity_date else None,
                   hold_instruction=None)


def released(entry: IndexEntry) -> IndexEntry:
    """``entry`` valid again (a certificate taken off hold)."""
    return replace(entry, status=VALID, revoked_at=None, reason=None, invalidity_date=None,
                   hold_instruction=None)


def mark_revoked(path: str | os.PathLike, serial: int, when: datetime,
                 reason: RevocationReason | str | None = None) -> IndexEntry:
    """Turn the entry for ``serial`` into a revoked one, write the index and
    return the entry (see ``revoked``)."""
    if reason is not None:
        reason = RevocationReason.parse(reason)
    return plan_change(path, serial, lambda entry: revoked(entry, when, reason)).write()
