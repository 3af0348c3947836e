"""Declarative revocation and CRL generation.

``crl_ensure`` first applies the requested revocations (serials already
revoked are left as they are), then generates a new CRL only when

- there is no CRL yet (or it cannot be read, or another key signed it),
- the set of revoked serials in the CA's index differs from the CRL's, or
- the CRL's nextUpdate is past or within ``renew_before``.

Deciding needs no CA key: only the CA certificate, the index and the CRL.
Check mode reports the same decisions and writes nothing.
"""

import os

from ..errors import InputError, StoreError
from ..store.ca_dir import CaDir
from ..store.index import read_index, serial_hex
from ..x509.parse import load_crl
from .authority import Authority
from .cert import cert_revoke, reason_flag
from .crl import crl_gen
from .describe import describe_crl
from .state import expiry_reason, now_utc, parse_renew_before, read_optional


def parse_serial(serial):
    """An int from hex text (``1A2B``, ``0x1a2b``, ``1a:2b``) or an int."""
    if isinstance(serial, int) and not isinstance(serial, bool):
        return serial
    text = str(serial).strip().lower().replace(":", "")
    if text.startswith("0x"):
        text = text[2:]
    shown = repr(str(serial)[:40]) + ("..." if len(str(serial)) > 40 else "")
    try:
        value = int(text, 16)
    except ValueError:
        raise InputError("serial %s is not a hexadecimal number" % shown) from None
    if value.bit_length() > 160:  # RFC 5280: at most 20 octets
        raise InputError("serial %s is longer than 20 octets (RFC 5280 limit)" % shown)
    return value


def _normalise_revocations(revocations):
    wanted = []
    seen = set()
    for number, item in enumerate(revocations or ()):
        if isinstance(item, dict):
            serial, reason = item.get("serial"), item.get("reason") or "unspecified"
        else:
            serial, reason = item, "unspecified"
        if serial in (None, ""):
            raise InputError("revoked_serials[%d]: serial is missing" % number)
        value = parse_serial(serial)
        if value in seen:
            raise InputError("revoked_serials: serial %s appears twice" % serial_hex(value))
        seen.add(value)
        wanted.append((value, reason_flag(reason).value))
    return wanted


def _crl_reasons(ca_dir, authority, revoked_serials, renew_before, now):
    """Why a new CRL is needed (empty list: the current one is fine), and
    the description of the current CRL."""
    from ..x509.signature import verify_crl_signature

    path = authority.dir.crl_path()
    data = read_optional(path)
    if data is None:
        return ["no CRL at %s" % path], None
    try:
        crl = load_crl(data, os.fspath(path))
    except InputError as exc:
        return ["existing CRL cannot be read (%s)" % exc], None
    reasons = []
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
    return reasons, describe_crl(crl)


def crl_ensure(ca_dir, days=7, renew_before="1d", revocations=(), force=False,
               check_mode=False, passphrase=None, now=None):
    """Apply ``revocations`` ([{serial, reason}]) and (re)generate the CRL
    when needed. Returns the CRL facts plus ``revoked`` (serials newly
    revoked), ``reasons`` and ``changed``."""
    renew_before = parse_renew_before(renew_before)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise InputError("days must be a positive number of days (got %r)" % (days,))
    if renew_before is not None and renew_before.days >= days:
        raise InputError("renew_before (%s days) must be shorter than the CRL lifetime "
                         "(days: %d), or every run would make a new CRL"
                         % (renew_before.days, days))
    now = now_utc(now)
    wanted = _normalise_revocations(revocations)
    if not CaDir(ca_dir).exists():
        if check_mode:
            return {"changed": True, "revoked": [serial_hex(s) for s, _r in wanted],
                    "reasons": ["CA does not exist yet (check mode)"], "crl_number": None,
                    "paths": []}
        CaDir(ca_dir).require()

    with Authority(ca_dir, need_signers=False) as authority:
        index = read_index(authority.dir.index) if authority.dir.index.exists() else []
        by_serial = {entry.serial: entry for entry in index}
        to_revoke = []
        warnings = []
        for serial, reason in wanted:
            entry = by_serial.get(serial)
            if entry is None:
                raise InputError("serial %s was not issued by CA %s (not in %s)"
                                 % (serial_hex(serial), ca_dir, authority.dir.index))
            if entry.status == "R":
                if (entry.reason or "unspecified").lower() != reason.lower():
                    warnings.append("serial %s is already revoked with reason %s (requested %s); "
                                    "left unchanged" % (serial_hex(serial), entry.reason, reason))
                continue
            to_revoke.append((serial, reason))
        revoked_now = {e.serial for e in index if e.status == "R"} | {s for s, _r in to_revoke}
        reasons, current = _crl_reasons(ca_dir, authority, revoked_now, renew_before, now)
    if force and not reasons:
        reasons = ["force: true"]
    changed = bool(to_revoke or reasons)
    result = dict(current or {})
    result.update(changed=changed, revoked=[serial_hex(s) for s, _r in to_revoke],
                  reasons=reasons, warnings=warnings,
                  diff={"before": {"revoked_serials": sorted(serial_hex(s) for s in
                                                             revoked_now - {pair[0] for pair in to_revoke})},
                        "after": {"revoked_serials": sorted(serial_hex(s) for s in revoked_now)}})
    if check_mode or not changed:
        result.setdefault("paths", [os.fspath(authority.dir.crl_path()),
                                    os.fspath(authority.dir.crl_path(der=True))])
        return result
    for serial, reason in to_revoke:
        try:
            cert_revoke(ca_dir, serial_hex(serial), reason, when=now)
        except StoreError as exc:
            if "already revoked" not in str(exc):  # a concurrent run did it
                raise
    generated = crl_gen(ca_dir, days=days, passphrase=passphrase, now=now)
    generated["paths"] = [os.fspath(p) for p in generated.get("paths", [])]
    result.update(generated)
    result.update(changed=True)
    return result
