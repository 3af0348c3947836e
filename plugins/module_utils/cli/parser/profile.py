"""``qpki profile ...``: certificate profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import command, group

if TYPE_CHECKING:
    from .options import Subparsers


def add_profile_commands(groups: Subparsers) -> None:
    prof = group(groups, "profile", "certificate profiles")
    command(prof, "list", "list builtin profiles")
    p = command(prof, "show", "show a profile")
    p.add_argument("name", help="profile name, e.g. ec/tls-server, or a YAML profile file")
