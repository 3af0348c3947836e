"""``qpki crl ...``: certificate revocation lists."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import ca_dir, ca_passphrase, command, strict

if TYPE_CHECKING:
    from .options import Subparsers


def add_crl_commands(crl: Subparsers) -> None:
    """The actions of ``qpki crl``."""
    p = command(crl, "gen", "generate the CA's CRL")
    ca_dir(p)
    p.add_argument("--days", type=int, default=7, help="validity of the CRL (default 7)")
    p.add_argument("--drop-expired", action="store_true",
                   help="leave out expired certificates that a CRL issued after their expiry "
                        "already listed (default: keep them)")
    p.add_argument("--version", dest="ca_version", metavar="VERSION",
                   help="an earlier version of a rotated CA signs the CRL of what it issued "
                        "(written to crl/VERSION/)")
    p.add_argument("--delta", action="store_true",
                   help="a delta CRL (RFC 5280 5.2.4) against the current full CRL, written to "
                        "crl/ca-delta.crl: revocations since, and removeFromCRL for releases")
    p.add_argument("--out", metavar="FILE",
                   help="also write the CRL here (the CA's crl/ca.crl and crl/ca.crl.der are "
                        "always written)")
    p.add_argument("--format", choices=("pem", "der"), default="pem",
                   help="encoding of the --out file (default pem)")
    ca_passphrase(p)
    p = command(crl, "info", "describe a CRL")
    p.add_argument("crl", metavar="CRL", help="CRL file (PEM or DER)")
    p = command(crl, "verify", "verify a CRL's signature against its CA")
    p.add_argument("crl", metavar="CRL", help="CRL to verify (PEM or DER)")
    p.add_argument("--ca", required=True, metavar="FILE", help="the CA certificate that signed it")
    p.add_argument("--at", metavar="TIME", help="also check thisUpdate/nextUpdate at TIME")
    p.add_argument("--classical-only", action="store_true",
                   help="ignore a catalyst alternative signature")
    strict(p)
