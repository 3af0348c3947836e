"""The qpki command line: argument parsing only (no crypto imports here).

One module per command group; the options several commands share are in
``options``."""

from __future__ import annotations

from .audit import add_audit_commands
from .ca import add_ca_commands
from .cert import PURPOSE_NAMES, add_cert_commands
from .credential import add_credential_commands
from .crl import add_crl_commands
from .csr import add_csr_commands
from .hsm import add_hsm_commands
from .key import add_key_commands
from .ocsp import add_ocsp_commands
from .options import Parser
from .profile import add_profile_commands

__all__ = ["PURPOSE_NAMES", "Parser", "build_parser"]


def build_parser() -> Parser:
    parser = Parser(
        prog="qpki", description="Post-quantum-ready X.509 PKI with PKCS#11 HSM keys.")
    from ...version import __version__

    parser.add_argument("--version", action="version", version=f"qpki {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    # The order here is the order of `qpki --help`.
    for add_commands in (add_ca_commands, add_cert_commands, add_crl_commands,
                         add_credential_commands, add_ocsp_commands, add_key_commands,
                         add_csr_commands, add_hsm_commands, add_profile_commands,
                         add_audit_commands):
        add_commands(groups)
    return parser
