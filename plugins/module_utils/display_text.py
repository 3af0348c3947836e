"""Text from input, made safe to show on a terminal.

A certificate subject, a SAN, a file name or a YAML value can hold escape
sequences (clear the screen, move the cursor, set the window title), bell,
carriage returns and newlines (fake lines of output), or bidirectional
overrides (text that reads differently from what it is). :func:`escape_text`
is the one function that turns such text into something that can only be
displayed as what it is: every character Python does not consider printable
(control characters, format characters such as U+202E, separators other
than the ASCII space, surrogates, unassigned code points) becomes a visible
``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN`` escape. Printable text, accents and
non-Latin scripts included, is left as it is.

The human renderer of the ``qpki`` command passes every string it prints
through it, and so does every error message (``errors.QpkiError``).
"""

from __future__ import annotations


def _escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_text(text: str) -> str:
    """``text`` with every non-printable character written as an escape."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape_char(char) for char in text)
