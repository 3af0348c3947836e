"""Where a token PIN may come from: the environment variable named by
``pin_env``, or an interactive prompt when a terminal is attached. There is
deliberately no other source (no file, no argument)."""

import os
import sys

from ..display_text import escape_text
from ..errors import HsmError


def resolve_pin(config, token_label=None):
    """The user PIN for ``config``'s token.

    ``token_label`` (the label of the token actually selected) is only used
    in the prompt; it defaults to what the configuration names.
    """
    pin = os.environ.get(config.pin_env)
    if pin:
        return _utf8(pin, f"environment variable {config.pin_env}")
    if _interactive():
        return _utf8(_prompt(config, token_label), "PIN typed at the prompt")
    raise HsmError(
        "PIN not available: environment variable %s is not set (pin_env in %s)"
        % (config.pin_env, config.path)
    )


def _utf8(pin, source):
    """``pin`` if it is UTF-8 text. Bytes that are not (kept by Python as
    lone surrogates) are refused without quoting any of them."""
    try:
        pin.encode("utf-8")
    except UnicodeEncodeError:
        raise HsmError(f"the PIN in the {source} is not valid UTF-8 text") from None
    return pin


def _interactive():
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _prompt(config, token_label):
    import getpass

    label = token_label or config.token or config.token_serial or "slot %s" % config.slot
    try:
        pin = getpass.getpass(f"PIN for token {escape_text(str(label))}: ")
    except (EOFError, KeyboardInterrupt):
        raise HsmError("PIN entry for token %s was cancelled" % label) from None
    if not pin:
        raise HsmError("no PIN entered for token %s" % label)
    return pin
