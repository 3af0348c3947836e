"""``qpki audit ...``: the CA audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import ca_dir, command

if TYPE_CHECKING:
    from .options import Subparsers


def add_audit_commands(audit: Subparsers) -> None:
    """The actions of ``qpki audit``."""
    p = command(audit, "verify", "verify the hash chain of a CA's or a credential's audit.log "
                "(exit 1 if broken)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--ca-dir", "--dir", dest="ca_dir", metavar="DIR", help="the CA directory")
    where.add_argument("--cred-dir", metavar="DIR",
                       help="directory holding the credentials (with --credential)")
    p.add_argument("--credential", metavar="ID", help="the credential whose log to verify")
    p.add_argument("--anchor", metavar="SEQ:HASH", help="a head recorded earlier that must still be there")
    p = command(audit, "start", "start the audit log of a CA directory another tool made (QPKI): "
                "records the CA and what its index and CRL show, once")
    ca_dir(p)
