"""``qpki hsm ...``: HSM diagnostics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import command

if TYPE_CHECKING:
    from .options import Subparsers


def add_hsm_commands(hsm: Subparsers) -> None:
    """The actions of ``qpki hsm``."""
    p = command(hsm, "list", "list slots and tokens of a PKCS#11 library (no PIN)")
    p.add_argument("--lib", required=True, metavar="PATH", help="the PKCS#11 library (.so)")
    p = command(hsm, "test", "open the token, log in, report what it can do for each HSM "
                "algorithm, log out")
    p.add_argument("--hsm-config", required=True, help="HSM YAML configuration")
    p.add_argument("--mechanisms", nargs="?", const="", metavar="TEXT",
                   help="also list the token's PKCS#11 mechanisms (only those whose name "
                        "contains TEXT, any case, when given)")
