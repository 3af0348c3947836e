"""``qpki csr ...``: certificate signing requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import algorithm, command, key_passphrase, strict

if TYPE_CHECKING:
    from .options import Subparsers


def add_csr_commands(csr: Subparsers) -> None:
    """The actions of ``qpki csr``."""
    p = command(csr, "gen", "make a CSR for a key file (or for a new key)")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the CSR (PEM)")
    p.add_argument("--cn", required=True, help="subject common name")
    p.add_argument("--org", help="subject organisation")
    p.add_argument("--country", help="subject country (2 letters)")
    p.add_argument("--dns", action="append", default=[], help="DNS SAN (repeatable)")
    p.add_argument("--ip", action="append", default=[], help="IP SAN (repeatable)")
    p.add_argument("--email", action="append", default=[], help="email SAN (repeatable)")
    p.add_argument("--key", metavar="FILE", help="existing private key")
    algorithm(p, "--algorithm", "algorithm of a new key (with --key-out; default ecdsa-p256)",
              signing_only=True)
    p.add_argument("--key-out", metavar="FILE", help="where to write the new key")
    p.add_argument("--alt-key", metavar="FILE",
                   help="catalyst CSR: existing alternative (PQC) private key")
    algorithm(p, "--alt-algorithm", "catalyst CSR: algorithm of a new alternative key",
              signing_only=True)
    p.add_argument("--alt-key-out", metavar="FILE", help="where to write the new alternative key")
    key_passphrase(p, "the key files (read with --key/--alt-key, written with --key-out/--alt-key-out)")
    p = command(csr, "info", "describe a CSR (any algorithm, catalyst or composite)")
    p.add_argument("csr", metavar="CSR", help="CSR file (PEM or DER)")
    p = command(csr, "verify", "check a CSR's signature(s) (exit 1 when invalid)")
    p.add_argument("csr", metavar="CSR", help="CSR to verify (PEM or DER)")
    strict(p)
