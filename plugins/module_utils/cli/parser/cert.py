"""``qpki cert ...``: certificates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import (ca_dir, ca_passphrase, command, positive_int, revocation_reason, strict,
                      vars_options)

if TYPE_CHECKING:
    from .options import Subparsers

# The keys of x509.purpose.PURPOSES (not imported: no crypto at parse time).
PURPOSE_NAMES = ("serverAuth", "clientAuth", "codeSigning", "emailProtection", "timeStamping",
                 "OCSPSigning")


def add_cert_commands(cert: Subparsers) -> None:
    """The actions of ``qpki cert``."""
    p = command(cert, "issue", "issue a certificate from a CSR, or one per CSR of a batch")
    ca_dir(p)
    p.add_argument("--profile", required=True,
                   help="builtin profile name (qpki profile list) or YAML profile file")
    p.add_argument("--csr", action="append", default=[], metavar="FILE",
                   help="CSR file (repeatable: several make a batch)")
    p.add_argument("--out", metavar="FILE", help="copy of the certificate (one --csr only)")
    p.add_argument("--csr-dir", metavar="DIR",
                   help="batch: every *.csr, *.pem, *.der, *.req file of DIR")
    p.add_argument("--out-dir", metavar="DIR",
                   help="batch: write <CSR file name>.crt for each CSR into DIR")
    p.add_argument("--jobs", type=positive_int, metavar="N",
                   help="batch: processes that check and sign the CSRs (default: one per "
                        "CPU for large batches; 1 = no worker processes)")
    vars_options(p)
    ca_passphrase(p)
    p = command(cert, "revoke", "revoke a certificate by serial or by its file")
    p.add_argument("serial", nargs="?", help="serial number (hex)")
    p.add_argument("--cert", metavar="FILE",
                   help="the certificate to revoke, instead of its serial (it must be one "
                        "this CA issued)")
    ca_dir(p)
    revocation_reason(p)
    p = command(cert, "unhold", "take a certificate on hold (certificateHold) off hold")
    p.add_argument("serial", help="serial number (hex)")
    ca_dir(p)
    p = command(cert, "info", "describe a certificate: a file, or a serial of --ca-dir's CA")
    p.add_argument("cert", metavar="CERT", help="certificate file (PEM or DER), or with "
                                                "--ca-dir the serial (hex) of one the CA issued")
    p.add_argument("--ca-dir", "--dir", dest="ca_dir", metavar="DIR",
                   help="the CA directory whose certificate CERT names by serial (its status "
                        "is shown too)")
    p = command(cert, "list", "list the certificates a CA issued (from its database)")
    ca_dir(p)
    p.add_argument("--status", choices=("valid", "revoked", "expired"),
                   help="only the certificates in this state")
    p.add_argument("--expiring", metavar="DURATION",
                   help="only valid certificates whose notAfter is within DURATION (30d, 12h), "
                        "soonest first")
    p.add_argument("--subject", metavar="TEXT",
                   help="only subjects containing TEXT (any case), e.g. www.example.com")
    _add_verify(cert)


def _add_verify(cert: Subparsers) -> None:
    p = command(cert, "verify", "verify a certificate against a CA (exit 1 when invalid)")
    p.add_argument("cert", metavar="CERT", help="certificate to verify (PEM or DER)")
    p.add_argument("--ca", required=True, metavar="FILE", help="trusted CA certificate(s), PEM")
    p.add_argument("--untrusted", metavar="FILE", help="intermediate certificates, PEM")
    p.add_argument("--crl", metavar="FILE", action="append", default=[],
                   help="CRL to check revocation against (repeatable: one per CA)")
    p.add_argument("--at", metavar="TIME", help="verification time (ISO 8601, default now)")
    p.add_argument("--classical-only", action="store_true",
                   help="ignore catalyst alternative signatures (verify like a legacy client)")
    strict(p)
    p.add_argument("--host", metavar="NAME",
                   help="DNS name the certificate must be valid for (subjectAltName, RFC 6125)")
    p.add_argument("--ip", metavar="ADDR", help="IP address the certificate must be valid for")
    p.add_argument("--email", metavar="ADDR",
                   help="e-mail address the certificate must be valid for")
    p.add_argument("--purpose", choices=PURPOSE_NAMES,
                   help="what the certificate is used for (extendedKeyUsage and keyUsage)")
    p.add_argument("--web-pki", action="store_true",
                   help="add the CA/Browser Forum Baseline Requirements (public TLS) to RFC 5280")
    p.add_argument("--max-depth", type=int, metavar="N",
                   help="intermediate CAs allowed, self-issued ones not counted (default 8)")
    p.add_argument("--engine", choices=("auto", "cryptography", "qpki"), default="auto",
                   help="path validation engine (default auto: cryptography's verifier for "
                        "the classical chains it implements, qpki's for the rest)")
