"""``qpki ca ...``: certificate authorities."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .options import (ca_dir, ca_passphrase, command, generate_key, hsm_key, parent,
                      passphrase, unencrypted_key, vars_options)

if TYPE_CHECKING:
    import argparse

    from .options import Subparsers


def _ca_urls(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--crl-url", metavar="URL",
                        help="CRL distribution point put in every certificate the CA issues; "
                             "{version} in it names the signing version (its CRL is then also "
                             "written at crl/<version>/ca.crl)")
    parser.add_argument("--ocsp-url", metavar="URL",
                        help="OCSP responder URL put in every certificate the CA issues")
    parser.add_argument("--ca-issuers-url", metavar="URL",
                        help="where the CA certificate is published (authorityInfoAccess)")
    parser.add_argument("--delta-crl-url", metavar="URL",
                        help="where the CA's delta CRLs are published (freshestCRL of its "
                             "full CRLs)")


def add_ca_commands(ca: Subparsers) -> None:
    """The actions of ``qpki ca``."""
    p = command(ca, "init", "create a root CA, or a subordinate CA with --parent")
    p.add_argument("--profile", required=True, help="builtin profile name or YAML file")
    ca_dir(p, "CA directory to create")
    parent(p, "parent CA directory (subordinate CA)")
    generate_key(p)
    vars_options(p)
    hsm_key(p)
    ca_passphrase(p, "the new CA's key file")
    unencrypted_key(p)
    _ca_urls(p)
    p.add_argument("--store-dsn-env", metavar="VAR",
                   help="keep the CA's certificates in a PostgreSQL database: the environment "
                        "variable holding its connection string (which may hold a password; "
                        "ca.meta.json records only the variable's name). Default: ca.db, an "
                        "SQLite file in the CA directory")
    p = command(ca, "set-urls", "change the CRL, OCSP and CA-issuers URLs that the CA's "
                "certificates carry from now on (an empty value removes one)")
    ca_dir(p, "CA directory")
    _ca_urls(p)
    p = command(ca, "info", "show a CA")
    ca_dir(p)
    p = command(ca, "export", "print or write the CA certificate, chain or root")
    ca_dir(p)
    p.add_argument("--bundle", choices=("ca", "chain", "root"), default="ca",
                   help="ca: the CA certificate; chain: it and its parents (a rotated root's "
                        "cross-certificate included); root: the root of the chain")
    p.add_argument("--out", metavar="FILE", help="write the PEM here (default: print it)")
    _add_version_commands(ca)
    p = command(ca, "check", "check a CA directory's consistency (exit 1 on problems)")
    ca_dir(p)
    p.add_argument("--repair", action="store_true",
                   help="fix what can be fixed without signing (see docs/SECURITY.md)")


def _add_version_commands(ca: Subparsers) -> None:
    """rotate, recertify, versions, activate: a CA's keys and certificates over time."""
    p = command(ca, "rotate", "give the CA a new key: a new version, cross-certified with "
                "the old one for a root, certified by --parent for a subordinate")
    ca_dir(p, "the CA to rotate")
    p.add_argument("--profile", help="profile of the new version (default: the current one); "
                                     "may change the algorithm, e.g. to a catalyst root")
    parent(p, "parent CA directory (required for a subordinate CA)")
    p.add_argument("--no-activate", action="store_true",
                   help="make the new version without making it the one that signs")
    generate_key(p)
    vars_options(p)
    hsm_key(p)
    passphrase(p, "--new-ca-passphrase-env", "the new version's CA key file")
    unencrypted_key(p)
    ca_passphrase(p, "the current CA key file", old=None)
    p = command(ca, "recertify", "have the parent (after its rotation) certify a subordinate "
                "CA's current key again: same key and subject, new certificate")
    ca_dir(p, "the subordinate CA")
    parent(p, "its parent CA directory", required=True)
    p = command(ca, "versions", "list a CA's versions (keys and certificates over time)")
    ca_dir(p, "CA directory")
    p = command(ca, "activate", "make one of a CA's versions the one that signs")
    ca_dir(p, "CA directory")
    p.add_argument("--version", dest="ca_version", required=True, metavar="VERSION",
                   help="version id, e.g. v2 (see qpki ca versions)")
    ca_passphrase(p, "that version's CA key file")
