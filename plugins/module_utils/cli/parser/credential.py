"""``qpki credential ...``: credentials (a key and its certificate)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import (ca_dir, ca_passphrase, command, cred_dir, hsm_key, key_passphrase,
                      revocation_reason, vars_options)

if TYPE_CHECKING:
    import argparse

    from .options import Subparsers


def _credential(parser: argparse.ArgumentParser) -> None:
    """The ID argument and --cred-dir of a command on one existing credential."""
    parser.add_argument("credential_id", metavar="ID", help="credential id")
    cred_dir(parser)


def add_credential_commands(cred: Subparsers) -> None:
    """The actions of ``qpki credential``."""
    p = command(cred, "enroll", "generate a key and issue its certificate")
    p.add_argument("credential_id", nargs="?", metavar="ID", help="credential id (default: derived)")
    ca_dir(p)
    cred_dir(p)
    p.add_argument("--profile", required=True,
                   help="builtin profile name (qpki profile list) or YAML profile file")
    vars_options(p)
    hsm_key(p)
    key_passphrase(p, "the new credential key file")
    ca_passphrase(p, old=None)
    p.add_argument("--batch", metavar="FILE",
                   help="YAML/JSON list of credentials to enroll under one CA opening (items: "
                        "credential_id, vars, profile, key_label, key_id); --profile and "
                        "--var/--var-file are their defaults")
    p = command(cred, "list", "list the credentials of a credential directory")
    cred_dir(p)
    p = command(cred, "info", "describe one credential: certificate, expiry, key storage")
    _credential(p)
    p = command(cred, "export", "write a credential as PKCS#12 or as a PEM bundle")
    _credential(p)
    p.add_argument("--out", required=True, metavar="FILE", help="file to write")
    p.add_argument("--format", choices=("pkcs12", "pem"), default="pkcs12",
                   help="pkcs12 (default) or pem (certificate, chain, then the key)")
    p.add_argument("--no-key", action="store_true",
                   help="leave the private key out (certificate and chain only)")
    p.add_argument("--export-passphrase-env", metavar="VAR",
                   help="environment variable holding the passphrase that encrypts the "
                        "exported key (needed when the key is exported)")
    key_passphrase(p, "the credential's key file")
    for action, text in (("renew", "a new certificate for the credential's key (a new version)"),
                         ("rotate", "a new key and its certificate (a new version)")):
        p = command(cred, action, text)
        _credential(p)
        ca_dir(p, "the issuing CA's directory")
        ca_passphrase(p, old=None)
        if action == "rotate":
            hsm_key(p)
            key_passphrase(p, "the new credential key file")
    p = command(cred, "activate", "make an earlier (or later) version the credential's own again")
    _credential(p)
    p.add_argument("--version", dest="cred_version", required=True, metavar="VERSION",
                   help="version id, e.g. v1 (see qpki credential info)")
    key_passphrase(p, "that version's key file")
    p = command(cred, "revoke", "revoke a credential's certificate at its CA")
    _credential(p)
    ca_dir(p, "the issuing CA's directory")
    revocation_reason(p)
