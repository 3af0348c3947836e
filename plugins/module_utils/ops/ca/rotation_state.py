"""The declarative form of a CA key rollover, for the ``qpki_ca`` module:
rotate when the active CA certificate expires within ``rotate_before``,
otherwise behave exactly as ``ca_ensure`` (nothing signed when the CA is as
asked)."""

from __future__ import annotations

import datetime
import os
from typing import TYPE_CHECKING

from ...errors import InputError
from ...store.ca_dir import CaDir
from ...store.metafile import utc_text
from .authority import Authority
from .keys import KeyRequest
from .results import CaPlanned, CaState
from .rotate import ca_rotate
from .state import ca_ensure, ca_facts, resolve_generate
from ..ensure import now_utc, parse_renew_before

if TYPE_CHECKING:
    from ...profiles.profile import Profile


def rotation_due(ca_dir: str | os.PathLike, rotate_before: datetime.timedelta,
                 now: datetime.datetime) -> tuple[str, dict] | None:
    """(why the CA's active version should be replaced, its key storage), or None."""
    with Authority(ca_dir, need_signers=False) as authority:
        not_after = authority.cert.not_valid_after_utc
        version = authority.version
        current_key = authority.meta.get("keys", [{}])[0].get("storage", {})
    if not_after - now > rotate_before:
        return None
    return (f"active version {version} expires {utc_text(not_after)}, within "
            f"rotate_before ({rotate_before.days} days)"), current_key


def ca_ensure_rotated(ca_dir: str | os.PathLike, profile: str | Profile, values: dict | None = None,
                      parent_dir: str | os.PathLike | None = None,
                      key: KeyRequest | None = None,
                      rotate_before: str | datetime.timedelta | None = None,
                      parent_passphrase: bytes | None = None, check_mode: bool = False,
                      now: datetime.datetime | None = None,
                      store_dsn_env: str | None = None) -> CaState | CaPlanned:
    """``ca_ensure``, plus a rotation to ``profile`` and ``key`` when the
    existing CA's active certificate expires within ``rotate_before``."""
    key = key or KeyRequest()
    window = parse_renew_before(rotate_before, "rotate_before")
    if window is None or not CaDir(ca_dir).exists():
        return ca_ensure(ca_dir, profile, values, parent_dir=parent_dir, key=key,
                         parent_passphrase=parent_passphrase, check_mode=check_mode,
                         store_dsn_env=store_dsn_env)
    due = rotation_due(ca_dir, window, now_utc(now))
    if due is None:
        return ca_ensure(ca_dir, profile, values, parent_dir=parent_dir, key=key,
                         parent_passphrase=parent_passphrase, check_mode=check_mode)
    reason, current_key = due
    if key.in_hsm and key.key_label and current_key.get("label") == key.key_label:
        raise InputError(f"CA {ca_dir}: {reason}, and a rotation needs a new key: give a key "
                         f"label other than the active version's ({key.key_label!r})")
    if check_mode:
        facts = ca_facts(ca_dir, changed=True)
        facts.rotated, facts.rotation_reason = "(next version)", reason
        return facts
    rotated = ca_rotate(ca_dir, profile, values, key=resolve_generate(key),
                        passphrase=key.passphrase, parent_dir=parent_dir,
                        parent_passphrase=parent_passphrase, now=now)
    facts = ca_facts(ca_dir, changed=True)
    facts.rotated, facts.rotation_reason = rotated.version, reason
    facts.unprotected_keys = rotated.unprotected_keys
    return facts
