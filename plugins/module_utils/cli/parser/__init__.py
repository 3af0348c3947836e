"""The qpki command line: argument parsing only (no crypto imports here).

One module per command group; the options several commands share are in
``options``."""

from __future__ import annotations

from collections.abc import Sequence

from .audit import add_audit_commands
from .ca import add_ca_commands
from .cert import PURPOSE_NAMES, add_cert_commands
from .credential import add_credential_commands
from .crl import add_crl_commands
from .csr import add_csr_commands
from .hsm import add_hsm_commands
from .key import add_key_commands
from .ocsp import add_ocsp_commands
from .options import Parser, group
from .profile import add_profile_commands

__all__ = ["PURPOSE_NAMES", "Parser", "build_parser"]

# (name, help, what adds its actions), in the order of `qpki --help`.
GROUPS = (
    ("ca", "certificate authorities", add_ca_commands),
    ("cert", "certificates", add_cert_commands),
    ("crl", "certificate revocation lists", add_crl_commands),
    ("credential", "credentials (key + certificate)", add_credential_commands),
    ("ocsp", "OCSP responses (RFC 6960)", add_ocsp_commands),
    ("key", "keys in files or in an HSM", add_key_commands),
    ("csr", "certificate signing requests", add_csr_commands),
    ("hsm", "HSM diagnostics", add_hsm_commands),
    ("profile", "certificate profiles", add_profile_commands),
    ("audit", "the CA audit log", add_audit_commands),
)


def build_parser(argv: Sequence[str] | None = None) -> Parser:
    """The parser of every command, or with ``argv`` (the arguments about to
    be parsed) the parser for them: the actions of the group ``argv`` names
    only, the other groups by name and help (what ``qpki --help`` and an
    unknown group's error show). Building all 300 options costs more than
    most commands take to run."""
    parser = Parser(
        prog="qpki", description="Post-quantum-ready X.509 PKI with PKCS#11 HSM keys.")
    from ...version import __version__

    parser.add_argument("--version", action="version", version=f"qpki {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    wanted = None if argv is None else next((word for word in argv if not word.startswith("-")),
                                            "")
    for name, help_text, add_actions in GROUPS:
        if wanted is None or name == wanted:
            add_actions(group(groups, name, help_text))
        else:
            groups.add_parser(name, help=help_text)
    return parser
