"""Error types shared by every layer.

Every failure the user can cause is raised as a QpkiError whose message is a
single line saying what went wrong and where. Front ends print the message
(CLI) or return it as ``msg`` (modules); they never show a traceback for it.
Control characters and other non-printable characters in the message (from
a hostile file name or certificate) are escaped, so that no error can drive
a terminal.
"""

from .display_text import escape_text


class QpkiError(Exception):
    """An operation failed for a reason the user can act on (exit code 1)."""

    exit_code = 1

    def __init__(self, message):
        # Errors must stay on one line whatever text they quote.
        super().__init__(escape_text(" ".join(str(message).split())))


class UsageError(QpkiError):
    """The command line or module arguments are malformed (exit code 2)."""

    exit_code = 2


class InputError(QpkiError):
    """A file, profile, variable or value given as input is invalid."""


class ProfileError(InputError):
    """A profile definition or a profile variable is invalid."""


class HsmError(QpkiError):
    """The PKCS#11 token, its configuration, the PIN or a key lookup failed."""


class StoreError(QpkiError):
    """A CA or credential directory is missing, inconsistent or locked."""


class VerificationError(QpkiError):
    """A signature, chain, validity period or revocation check failed."""
