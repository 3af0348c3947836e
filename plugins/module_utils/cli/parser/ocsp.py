"""``qpki ocsp ...``: OCSP responses, one request file or an HTTP responder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import DeprecatedSpelling, ca_dir, ca_passphrase, command, passphrase, positive_int

if TYPE_CHECKING:
    import argparse

    from .options import Subparsers


def _ocsp_signing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--responder", metavar="DIR",
                        help="credential directory of a delegated responder (OCSPSigning "
                             "certificate from this CA); default: the CA signs")
    parser.add_argument("--validity-minutes", type=positive_int, default=60, metavar="N",
                        help="time from thisUpdate to nextUpdate (default 60)")
    ca_passphrase(parser, "the CA's key file (when the CA signs)", old=None)
    passphrase(parser, "--responder-passphrase-env", "the delegated responder's key file",
               old=None)
    parser.add_argument("--passphrase-env", metavar="VAR", dest="legacy_passphrase_env",
                        action=DeprecatedSpelling,
                        instead="--ca-passphrase-env or --responder-passphrase-env",
                        help="deprecated: the passphrase of the key that signs")


def add_ocsp_commands(responder: Subparsers) -> None:
    """The actions of ``qpki ocsp``."""
    p = command(responder, "sign", "answer one OCSP request file (offline)")
    ca_dir(p, "the CA whose certificates are asked about")
    p.add_argument("--request", required=True, metavar="FILE", help="DER OCSP request")
    p.add_argument("--out", required=True, metavar="FILE", help="DER OCSP response to write")
    _ocsp_signing(p)
    p = command(responder, "serve", "answer OCSP requests over HTTP (GET and POST, RFC 6960 "
                "appendix A) and serve the CA's CRL files")
    ca_dir(p, "the CA whose certificates are asked about")
    p.add_argument("--listen", required=True, metavar="HOST:PORT",
                   help="address to listen on, e.g. 127.0.0.1:8080")
    p.add_argument("--threads", type=positive_int, default=4,
                   help="worker threads (default 4)")
    p.add_argument("--crl-prefix", default="/crl/", metavar="PATH",
                   help="URL path under which the files of the CA's crl/ directory are served "
                        "(default /crl/; empty: none)")
    p.add_argument("--user", metavar="NAME",
                   help="started by root: open the key, the CA's records and the socket, then "
                        "run as this user")
    _ocsp_signing(p)
