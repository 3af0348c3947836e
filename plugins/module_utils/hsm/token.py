"""Choosing the token named by an HSM configuration: by label, serial
number or slot id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import HsmError

if TYPE_CHECKING:
    import pkcs11

    from .library import Pkcs11Library
    from .config import HsmConfig

    TokenInSlot = tuple[pkcs11.Slot, pkcs11.Token]


def token_serial(token: pkcs11.Token) -> str:
    """The token's serial number as text (PKCS#11 pads it with blanks)."""
    serial: bytes | str | None = token.serial
    if isinstance(serial, bytes):
        serial = serial.decode("ascii", "replace")
    return (serial or "").strip()


def present_tokens(lib: Pkcs11Library) -> list[TokenInSlot]:
    """``[(slot, token)]`` for every slot holding a recognised token."""
    import pkcs11

    found: list[TokenInSlot] = []
    for slot in lib.get_slots(token_present=True):
        try:
            found.append((slot, slot.get_token()))
        except (pkcs11.TokenNotPresent, pkcs11.TokenNotRecognised):
            continue
    return found


def is_initialized(token: pkcs11.Token) -> bool:
    import pkcs11

    return bool(token.flags & pkcs11.TokenFlag.TOKEN_INITIALIZED)


def select_token(lib: Pkcs11Library, config: HsmConfig) -> pkcs11.Token:
    """The one token ``config`` designates in the loaded ``lib``."""
    tokens = present_tokens(lib)
    if config.slot is not None:
        token = _by_slot(tokens, config, lib)
    elif config.token_serial is not None:
        token = _unique(
            [t for dummy, t in tokens if token_serial(t) == config.token_serial],
            "token with serial '%s'" % config.token_serial, tokens, config)
    else:
        token = _unique([t for dummy, t in tokens if t.label == config.token],
                        "token '%s'" % config.token, tokens, config)
    if not is_initialized(token):
        raise HsmError("%s in %s is not initialized" % (config.token_selector(), config.lib))
    return token


def _available(tokens: list[TokenInSlot], with_serial: bool) -> str:
    names = []
    for dummy, token in tokens:
        if not is_initialized(token):
            continue
        serial = token_serial(token)
        if with_serial and serial:
            names.append("%s (serial %s)" % (token.label, serial))
        else:
            names.append(token.label)
    return ", ".join(sorted(names)) or "none"


def _unique(matches: list[pkcs11.Token], what: str, tokens: list[TokenInSlot],
            config: HsmConfig) -> pkcs11.Token:
    if not matches:
        raise HsmError("%s not found in %s (available: %s)"
                       % (what, config.lib,
                          _available(tokens, config.token_serial is not None)))
    if len(matches) > 1:
        serials = ", ".join(token_serial(t) for t in matches)
        raise HsmError("%d tokens match %s in %s (serials: %s); select one with "
                       "token_serial" % (len(matches), what, config.lib, serials))
    return matches[0]


def _by_slot(tokens: list[TokenInSlot], config: HsmConfig, lib: Pkcs11Library) -> pkcs11.Token:
    for slot, token in tokens:
        if slot.slot_id == config.slot:
            return token
    all_slots = [slot.slot_id for slot in lib.get_slots()]
    if config.slot in all_slots:
        raise HsmError("slot %s in %s holds no token" % (config.slot, config.lib))
    raise HsmError("slot %s not found in %s (available slots: %s)"
                   % (config.slot, config.lib,
                      ", ".join(str(s) for s in all_slots) or "none"))
