"""``qpki key ...``: keys in files or in an HSM."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import algorithm, command, hsm_key, key_passphrase

if TYPE_CHECKING:
    from .options import Subparsers


def add_key_commands(key: Subparsers) -> None:
    """The actions of ``qpki key``."""
    p = command(key, "gen", "generate a key (file, or HSM with --hsm-config)")
    algorithm(p, "--algorithm", "key algorithm", required=True)
    p.add_argument("--out", metavar="FILE", help="key file (software mode)")
    hsm_key(p)
    key_passphrase(p)
    command(key, "algorithms", "list the key algorithms, by family, and which of them may live in an HSM")
    p = command(key, "list", "list the keys in a token")
    p.add_argument("--hsm-config", required=True, help="HSM YAML configuration")
