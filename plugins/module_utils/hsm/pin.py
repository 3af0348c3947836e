"""Where a token PIN may come from: the environment variable named by
``pin_env``, or an interactive prompt when a terminal is attached. There is
deliberately no other source (no file, no argument)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from ..display_text import escape_text
from ..errors import HsmError

if TYPE_CHECKING:
    from .config import HsmConfig


def resolve_pin(config: HsmConfig, token_label: str | None = None) -> str:
    """The user PIN for ``config``'s token.

    ``token_label`` (the label of the token actually selected) is only used
    in the prompt; it defaults to what the configuration names.
    """
    pin = os.environ.get(config.pin_env) if config.pin_env else None
    if pin:
        return _utf8(pin, f"environment variable {config.pin_env}")
    if _interactive():
        return _utf8(_prompt(config, token_label), "PIN typed at the prompt")
    raise HsmError(
        "PIN not available: environment variable %s is not set (pin_env in %s)"
        % (config.pin_env, config.path)
    )


def _utf8(pin: str, source: str) -> str:
    """``pin`` if it is UTF-8 text. Bytes that are not (kept by Python as
    lone surrogates) are refused without quoting any of them."""
    try:
        pin.encode("utf-8")
    except UnicodeEncodeError:
        raise HsmError(f"the PIN in the {source} is not valid UTF-8 text") from None
    return pin


def _interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _prompt(config: HsmConfig, token_label: str | None) -> str:
    import getpass

    label = token_label or config.token or config.token_serial or "slot %s" % config.slot
    try:
        pin = getpass.getpass(f"PIN for token {escape_text(str(label))}: ")
    except (EOFError, KeyboardInterrupt):
        raise HsmError("PIN entry for token %s was cancelled" % label) from None
    if not pin:
        raise HsmError("no PIN entered for token %s" % label)
    return pin
