"""The audit log against ``index.txt``, both ways (issue 13, item 8).

Replaying the log's records in order gives the state each certificate
should have: issued (``cert.issue``) is valid, ``cert.revoke`` makes it
revoked with a reason and a date, ``cert.unhold`` valid again
(``audit.recover`` records count as the operation they recovered).

- ``gaps``: what the index shows but the log does not hold (an index line
  without its issuance record, a revocation without its record, the current
  CRL without its record). A crash or an ``openssl ca`` run leaves these;
  ``ca check --repair`` records them as ``audit.recover``.
- ``conflicts``: what the log holds but the index no longer shows (a line
  deleted, a revocation turned back into a valid entry, another reason or
  date). Nothing qpki does leaves these: they are edits made behind its back
  and are never repaired automatically.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import InputError
from ...revocation import RevocationReason
from ...store.audit import CRL, ISSUE, RECOVER, REVOKE, UNHOLD
from ...store.index import REVOKED, IndexEntry, serial_hex
from ...store.metafile import utc_text


@dataclass(frozen=True)
class Expected:
    """The state the log gives one serial, and the line that set it."""

    revoked: bool
    line: int
    reason: RevocationReason | None = None
    revoked_at: str | None = None


@dataclass(frozen=True)
class Gap:
    kind: str          # "issue", "revoke" or "crl"
    key: object        # the IndexEntry, or the CRL number
    message: str


def replay(records: list[dict]) -> tuple[dict[int, Expected], set[int]]:
    """({serial: Expected}, CRL numbers recorded) from the log's records."""
    states: dict[int, Expected] = {}
    crls: set[int] = set()
    for line, record in enumerate(records, 1):
        op = record.get("op")
        if op == RECOVER:
            op = record.get("recovered")
        if op == CRL:
            number = record.get("crl_number")
            if isinstance(number, int):
                crls.add(number)
            continue
        if op not in (ISSUE, REVOKE, UNHOLD):
            continue
        try:
            serial = int(str(record.get("serial")), 16)
        except ValueError:
            continue
        if op == REVOKE:
            states[serial] = Expected(True, line, _reason(record.get("reason")),
                                      record.get("revoked_at"))
        elif op == UNHOLD or serial not in states:
            states[serial] = Expected(False, line)
    return states, crls


def _reason(text: object) -> RevocationReason | None:
    """A recorded reason; unspecified and none are the same in a CRL."""
    if text is None:
        return None
    try:
        reason = RevocationReason.parse(str(text))
    except InputError:
        return None
    return None if reason is RevocationReason.unspecified else reason


def gaps(entries: list[IndexEntry], states: dict[int, Expected], crls: set[int],
         crl_number: int | None, index_name: str) -> list[Gap]:
    found = []
    for entry in entries:
        serial = serial_hex(entry.serial)
        expected = states.get(entry.serial)
        if expected is None:
            found.append(Gap("issue", entry,
                             f"serial {serial} in {index_name} has no issuance record"))
        if entry.status == REVOKED and (expected is None or not expected.revoked):
            found.append(Gap("revoke", entry, f"revocation of serial {serial} has no record"))
    if crl_number is not None and crl_number not in crls:
        found.append(Gap("crl", crl_number, f"CRL number {crl_number} in crl/ has no record"))
    return found


def conflicts(entries: list[IndexEntry], states: dict[int, Expected],
              index_name: str) -> list[str]:
    by_serial = {entry.serial: entry for entry in entries}
    found = []
    for serial, expected in sorted(states.items(), key=lambda item: item[1].line):
        entry = by_serial.get(serial)
        where = f"serial {serial_hex(serial)} (audit line {expected.line})"
        if entry is None:
            found.append(f"{where} has no line in {index_name}: the line was deleted")
        elif expected.revoked and entry.status != REVOKED:
            found.append(f"{where} is revoked in the audit log but {entry.status} in "
                         f"{index_name}: the revocation was undone outside qpki")
        elif expected.revoked:
            problem = _revocation_differs(entry, expected)
            if problem:
                found.append(f"{where}: {problem} in {index_name} than in the audit log")
    return found


def _revocation_differs(entry: IndexEntry, expected: Expected) -> str | None:
    reason = None if entry.reason is RevocationReason.unspecified else entry.reason
    if reason != expected.reason:
        shown = expected.reason.value if expected.reason else "none"
        return (f"another revocation reason ({reason.value if reason else 'none'}, "
                f"recorded {shown})")
    if expected.revoked_at and utc_text(entry.revoked_at) != expected.revoked_at:
        return f"another revocation date ({utc_text(entry.revoked_at)})"
    return None
