"""Declarative revocation and CRL generation.

``crl_ensure`` first applies the requested revocations (serials already
revoked are left as they are) and releases from hold (serials already valid
are left as they are), then generates a new CRL only when

- there is no CRL yet (or it cannot be read, or another key signed it),
- the set of revoked serials in the CA's index differs from the CRL's, or
- the CRL's nextUpdate is past or within ``renew_before``.

Deciding needs no CA key: only the CA certificate, the index and the CRL.
Check mode reports the same decisions and writes nothing.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any, Iterable

from ...errors import InputError, StoreError
from ...revocation import RevocationReason, RevokedEntry
from ...store.ca_dir import CaDir
from ...store.cert_store import read_store
from ...store.index import REVOKED, IndexEntry, serial_hex
from ...x509.parse import load_crl
from ..ca.authority import Authority
from .commands import check_crl_days, crl_gen
from .copy import check_crl_format, crl_copy
from .results import CrlState
from .entries import expired_to_drop, previous_crl
from ..describe.objects import describe_crl
from ..cert.revoke import cert_revoke, cert_unhold, parse_serial, releasable, revocation_request
from ..ensure import expiry_reason, now_utc, parse_renew_before, read_optional


@dataclass(frozen=True)
class Revocation:
    """One item of ``revoked_serials``."""

    serial: int
    reason: RevocationReason
    invalidity_date: datetime.datetime | None = None


def _normalise_revocations(revocations: Iterable[dict | str],
                           now: datetime.datetime) -> list[Revocation]:
    wanted = []
    seen = set()
    for number, item in enumerate(revocations or ()):
        if not isinstance(item, dict):
            item = {"serial": item}
        serial = item.get("serial")
        if serial in (None, ""):
            raise InputError(f"revoked_serials[{number}]: serial is missing")
        value = parse_serial(serial)
        if value in seen:
            raise InputError(f"revoked_serials: serial {serial_hex(value)} appears twice")
        seen.add(value)
        invalid = _time(item.get("invalidity_date"), f"revoked_serials[{number}]")
        reason = revocation_request(item.get("reason") or RevocationReason.unspecified,
                                    invalid, now)
        wanted.append(Revocation(value, reason, invalid))
    return wanted


def _time(value: object, where: str) -> datetime.datetime | None:
    """An aware datetime from ISO 8601 text (UTC when it names no zone)."""
    if value in (None, ""):
        return None
    if not isinstance(value, datetime.datetime):
        try:
            value = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"{where}: invalidity_date {str(value)[:40]!r} is not an "
                             "ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def _normalise_releases(releases: Iterable[str | int], wanted: list[Revocation]) -> list[int]:
    revoking = {item.serial for item in wanted}
    serials = []
    for serial in releases or ():
        value = parse_serial(serial)
        if value in revoking:
            raise InputError(f"serial {serial_hex(value)} is both in revoked_serials and in "
                             "released_serials")
        if value not in serials:
            serials.append(value)
    return serials


def _crl_reasons(ca_dir: str | os.PathLike, authority: Authority, revoked_serials: set[int],
                 renew_before: datetime.timedelta | None, now: datetime.datetime
                 ) -> tuple[list[str], dict[str, Any] | None, bytes | None]:
    """Why a new CRL is needed (empty list: the current one is fine), the
    description of the current CRL and its DER."""
    from cryptography.hazmat.primitives import serialization

    from ...x509.signature import verify_crl_signature

    path = authority.dir.crl_path()
    data = read_optional(path)
    if data is None:
        return ["no CRL at %s" % path], None, None
    try:
        crl = load_crl(data, os.fspath(path))
    except InputError as exc:
        return ["existing CRL cannot be read (%s)" % exc], None, None
    reasons: list[str] = []
    if crl.issuer != authority.cert.subject:
        reasons.append("existing CRL was issued by %s" % crl.issuer.rfc4514_string())
    else:
        try:
            verify_crl_signature(crl, authority.public_key)
        except Exception:  # any failure means the CRL is not this CA's
            reasons.append("existing CRL signature does not verify with the CA key")
    listed = {entry.serial_number for entry in crl}
    if listed != revoked_serials:
        added = len(revoked_serials - listed)
        removed = len(listed - revoked_serials)
        reasons.append("revocations changed since the last CRL (%d added, %d removed)"
                       % (added, removed))
    next_update = crl.next_update_utc
    if next_update is not None:
        expiry = expiry_reason(next_update, renew_before, now, "CRL nextUpdate")
        if expiry:
            reasons.append(expiry.replace("expired on", "passed on").replace(
                "expires on", "is on"))
    return reasons, describe_crl(crl), crl.public_bytes(serialization.Encoding.DER)


def crl_ensure(ca_dir: str | os.PathLike, days: int = 7, renew_before: str | None = "1d",
               revocations: Iterable[dict | str] = (), force: bool = False,
               check_mode: bool = False, passphrase: bytes | None = None,
               now: datetime.datetime | None = None, releases: Iterable[str | int] = (),
               drop_expired: bool = False, path: str | os.PathLike | None = None,
               crl_format: str = "pem") -> CrlState:
    """Apply ``revocations`` ([{serial, reason, invalidity_date}]) and
    ``releases`` (serials to take off hold), and (re)generate the CRL when
    needed. ``path``: the CRL is also written there, in ``crl_format`` (pem
    or der); when only that file is missing or stale, the current CRL is
    written to it without signing. Returns the CRL facts plus ``revoked``
    (serials newly revoked), ``released``, ``reasons``, ``path``, ``format``,
    ``diff`` (the revoked serials before and after, one line each) and
    ``changed``."""
    window = parse_renew_before(renew_before)
    check_crl_days(days)
    crl_format = check_crl_format(crl_format)
    if window is not None and window.days >= days:
        raise InputError(f"renew_before ({window.days} days) must be shorter than the "
                         f"CRL lifetime (days: {days}), or every run would make a new CRL")
    now = now_utc(now)
    wanted = _normalise_revocations(revocations, now)
    release = _normalise_releases(releases, wanted)
    own = CaDir(ca_dir)
    copy = crl_copy(path, crl_format, own.crl_path(), own.crl_path(der=True))
    out_path = copy.path if copy else own.crl_path(der=crl_format == "der")
    if not own.exists():
        if check_mode:
            return CrlState({"crl_number": None}, changed=True,
                            revoked=[serial_hex(r.serial) for r in wanted],
                            released=[serial_hex(s) for s in release],
                            reasons=["CA does not exist yet (check mode)"],
                            path=out_path, format=crl_format, paths=[])
        own.require()

    with Authority(ca_dir, need_signers=False) as authority, \
            read_store(authority.dir) as store:
        asked = [r.serial for r in wanted] + list(release)
        by_serial = {serial: entry for serial in asked
                     if (entry := store.find(serial)) is not None}
        warnings: list[str] = []
        to_revoke = _to_revoke(wanted, by_serial, ca_dir, authority.dir.index, warnings)
        to_release = _to_release(release, by_serial, ca_dir, authority.dir.index)
        listed = store.revoked_entries(with_expiry=drop_expired)
        before = {entry.serial for entry in listed}
        after = (before | {r.serial for r in to_revoke}) - set(to_release)
        if drop_expired:
            after -= expired_to_drop(listed, previous_crl(authority.dir, authority.cert.subject),
                                     now)
        reasons, current, current_der = _crl_reasons(ca_dir, authority, after, window, now)
    if force and not reasons:
        reasons = ["force: true"]
    sign = bool(to_revoke or to_release or reasons)
    # The copy at ``path`` alone is out of date: written again, not signed.
    stale = None if sign or copy is None or current_der is None \
        or copy.is_current(current_der) else (copy, current_der)
    if stale is not None:
        reasons = [f"{out_path} does not hold the current CRL (written without signing)"]
    changed = sign or stale is not None
    result = CrlState(
        dict(current or {}), changed=changed, revoked=[serial_hex(r.serial) for r in to_revoke],
        released=[serial_hex(s) for s in to_release], reasons=reasons, warnings=warnings,
        path=out_path, format=crl_format,
        diff={"before": _serial_lines(listed, before, {}),
              "after": _serial_lines(listed, after, {r.serial: r for r in to_revoke})})
    if check_mode or not changed:
        result.paths = [os.fspath(authority.dir.crl_path()),
                        os.fspath(authority.dir.crl_path(der=True))]
        return result
    if stale is not None:
        stale_copy, der = stale
        stale_copy.write(der)
        result.paths = [os.fspath(out_path)]
        return result
    for item in to_revoke:
        try:
            cert_revoke(ca_dir, item.serial, item.reason, when=now,
                        invalidity_date=item.invalidity_date)
        except StoreError as exc:
            if "already revoked" not in str(exc):  # a concurrent run did it
                raise
    for serial in to_release:
        cert_unhold(ca_dir, serial)
    generated = crl_gen(ca_dir, days=days, passphrase=passphrase, now=now,
                        drop_expired=drop_expired, out=path, out_format=crl_format)
    result.description = {**result.description, **generated.description}
    result.changed = True
    result.paths = [os.fspath(p) for p in generated.paths]
    result.format, result.path = generated.format, generated.path
    return result


def _serial_lines(listed: list[RevokedEntry], serials: set[int],
                  new: dict[int, Revocation]) -> list[str]:
    """``SERIAL reason`` for each serial, in serial order: the revoked list
    as a file diff shows it."""
    reasons = {entry.serial: entry.reason for entry in listed}
    reasons.update({serial: item.reason for serial, item in new.items()})
    lines = []
    for serial in sorted(serials):
        reason = reasons.get(serial)
        lines.append(f"{serial_hex(serial)} {reason.value if reason else 'unspecified'}")
    return lines


def _not_issued(serial: int, ca_dir: str | os.PathLike, index_path: os.PathLike) -> InputError:
    return InputError(f"serial {serial_hex(serial)} was not issued by CA {ca_dir} "
                      f"(not in {index_path})")


def _to_revoke(wanted: list[Revocation], by_serial: dict[int, IndexEntry],
               ca_dir: str | os.PathLike, index_path: os.PathLike, warnings: list[str]
               ) -> list[Revocation]:
    """The requested revocations not made yet (a different reason for a
    serial already revoked is a warning: a revocation is never rewritten)."""
    todo = []
    for item in wanted:
        entry = by_serial.get(item.serial)
        if entry is None:
            raise _not_issued(item.serial, ca_dir, index_path)
        if entry.status != REVOKED:
            todo.append(item)
        elif (entry.reason or RevocationReason.unspecified) is not item.reason:
            shown = entry.reason.value if entry.reason else "none"
            warnings.append(f"serial {serial_hex(item.serial)} is already revoked with reason "
                            f"{shown} (requested {item.reason}); left unchanged")
    return todo


def _to_release(serials: list[int], by_serial: dict[int, IndexEntry],
                ca_dir: str | os.PathLike, index_path: os.PathLike) -> list[int]:
    """The serials to take off hold now (valid ones are left as they are;
    one revoked for another reason than a hold fails)."""
    todo = []
    for serial in serials:
        entry = by_serial.get(serial)
        if entry is None:
            raise _not_issued(serial, ca_dir, index_path)
        if entry.status == REVOKED:
            releasable(entry)  # raises unless the certificate is on hold
            todo.append(serial)
    return todo
