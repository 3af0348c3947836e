"""``qpki profile ...``: certificate profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import command

if TYPE_CHECKING:
    from .options import Subparsers


def add_profile_commands(prof: Subparsers) -> None:
    """The actions of ``qpki profile``."""
    command(prof, "list", "list builtin profiles")
    p = command(prof, "show", "show a profile")
    p.add_argument("name", help="profile name, e.g. ec/tls-server, or a YAML profile file")
