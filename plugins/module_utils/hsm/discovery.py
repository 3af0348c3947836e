"""Diagnostics: list a library's slots (no PIN needed) and test a
configuration end to end (open, log in, list mechanisms, log out)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import HsmError
from .library import describe_pkcs11_error, load_library
from .token import token_serial

if TYPE_CHECKING:
    import pkcs11

    from .config import HsmConfig


def list_slots(lib_path: str) -> list[dict[str, Any]]:
    """One dict per slot: ``slot``, ``description``, ``token_present`` and,
    when a token is present, ``label``, ``serial``, ``manufacturer``,
    ``model``, ``initialized``, ``login_required`` and ``flags`` (names)."""
    import pkcs11

    lib = load_library(lib_path)
    try:
        slots = lib.get_slots(token_present=False)
    except pkcs11.PKCS11Error as exc:
        raise HsmError("cannot list slots of %s: %s"
                       % (lib_path, describe_pkcs11_error(exc))) from None
    return [_describe_slot(slot) for slot in slots]


def _describe_slot(slot: pkcs11.Slot) -> dict[str, Any]:
    import pkcs11

    entry: dict[str, Any] = {
        "slot": slot.slot_id,
        "description": (slot.slot_description or "").strip(),
        "token_present": bool(slot.flags & pkcs11.SlotFlag.TOKEN_PRESENT),
        "label": None,
        "serial": None,
        "manufacturer": None,
        "model": None,
        "initialized": False,
        "login_required": False,
        "flags": [],
    }
    if not entry["token_present"]:
        return entry
    try:
        token = slot.get_token()
    except (pkcs11.TokenNotPresent, pkcs11.TokenNotRecognised):
        entry["token_present"] = False
        return entry
    flags = token.flags
    entry.update({
        "label": token.label,
        "serial": token_serial(token),
        "manufacturer": (token.manufacturer_id or "").strip(),
        "model": (token.model or "").strip(),
        "initialized": bool(flags & pkcs11.TokenFlag.TOKEN_INITIALIZED),
        "login_required": bool(flags & pkcs11.TokenFlag.LOGIN_REQUIRED),
        "flags": sorted(flag.name for flag in pkcs11.TokenFlag
                        if flag.value and flags & flag == flag and flag.name),
    })
    return entry


def mechanism_name(mechanism: pkcs11.Mechanism | int) -> str:
    """``CKM_ECDSA`` for a known mechanism, hex for a vendor-defined one."""
    name = getattr(mechanism, "name", None)
    if name:
        return "CKM_" + name.lstrip("_")
    return "0x%08x" % int(mechanism)


def test_connection(config: HsmConfig) -> dict[str, Any]:
    """Open a session on ``config``'s token, log in, list its mechanisms and
    what it can do with each HSM algorithm of the registry, and log out.
    Returns ``{token, serial, slot, logged_in, mechanisms, algorithms}``."""
    import pkcs11

    from .capabilities import token_support
    from .session import open_session

    with open_session(config) as hsm:
        try:
            mechanisms = hsm.token.slot.get_mechanisms()
        except pkcs11.PKCS11Error as exc:
            raise HsmError("cannot list mechanisms of token '%s': %s"
                           % (hsm.label, describe_pkcs11_error(exc))) from None
        return {
            "token": hsm.label,
            "serial": hsm.serial,
            "slot": hsm.token.slot.slot_id,
            "manufacturer": (hsm.token.manufacturer_id or "").strip(),
            "model": (hsm.token.model or "").strip(),
            "logged_in": hsm.logged_in,
            "mechanisms": sorted(mechanism_name(m) for m in mechanisms),
            "algorithms": [support.as_dict() for support in token_support(hsm)],
        }


test_connection.__test__ = False  # type: ignore[attr-defined]  # a diagnostic, not a pytest test function
