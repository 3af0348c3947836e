"""Key ids (CKA_ID): hex text on the command line, bytes in the token."""

from __future__ import annotations

import binascii

from ..errors import UsageError


def parse_key_id(key_id: str | bytes | None) -> bytes | None:
    """Bytes of a key id given as hex text (``0102``, ``01:02``, ``0x0102``)
    or as bytes; None stays None."""
    if key_id is None or isinstance(key_id, bytes):
        return key_id
    text = str(key_id).strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    text = text.replace(":", "").replace(" ", "")
    if not text:
        raise UsageError("key id is empty (expected hex digits such as 0102)")
    if len(text) % 2:
        text = "0" + text
    try:
        return binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        raise UsageError("key id %r is not hexadecimal (expected e.g. 0102)" % key_id) from None


def format_key_id(raw: bytes | None) -> str:
    """Lowercase hex text of a key id (empty string when there is none)."""
    return binascii.hexlify(raw or b"").decode("ascii")
