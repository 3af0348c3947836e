"""``qpki audit ...``: the CA audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import ca_dir, command, group

if TYPE_CHECKING:
    from .options import Subparsers


def add_audit_commands(groups: Subparsers) -> None:
    audit = group(groups, "audit", "the CA audit log")
    p = command(audit, "verify", "verify the hash chain of a CA's audit.log (exit 1 if broken)")
    ca_dir(p)
    p.add_argument("--anchor", metavar="SEQ:HASH", help="a head recorded earlier that must still be there")
