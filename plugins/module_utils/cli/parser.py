"""The qpki command line: argument parsing only (no crypto imports here)."""

import argparse
import sys

from ..display_text import escape_text
from ..revocation import REASON_NAMES
from .examples import EXAMPLES

# The keys of x509.purpose.PURPOSES (not imported: no crypto at parse time).
PURPOSE_NAMES = ("serverAuth", "clientAuth", "codeSigning", "emailProtection", "timeStamping",
                 "OCSPSigning")


def _json(parser):
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _vars(parser):
    parser.add_argument("--var", action="append", default=[], metavar="K=V",
                        help="profile variable (repeatable; lists comma-separated)")
    parser.add_argument("--var-file", metavar="FILE", help="YAML mapping of profile variables")


def _hsm_key(parser, required=False):
    parser.add_argument("--hsm-config", metavar="FILE", required=required,
                        help="HSM YAML configuration (PIN from its pin_env variable)")
    parser.add_argument("--key-label", metavar="LABEL", help="CKA_LABEL of the key in the token")
    parser.add_argument("--key-id", metavar="HEX", help="CKA_ID of the key in the token (hex)")


class _DeprecatedSpelling(argparse.Action):
    """A former option name: still works, with a note on standard error."""

    def __init__(self, option_strings, dest, instead, **kwargs):
        self.instead = instead
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        sys.stderr.write(f"qpki: note: {option_string} is deprecated here and goes in the next "
                         f"release; use {self.instead}\n")
        setattr(namespace, self.dest, values)


def _passphrase(parser, option, what, old="--passphrase-env", dest=None):
    """``--<thing>-passphrase-env VAR``, named for the key it protects (the same
    name in every command); ``old``: the former spelling, a deprecated alias."""
    dest = dest or option[2:].replace("-", "_")
    parser.add_argument(option, metavar="VAR", dest=dest,
                        help="environment variable holding the passphrase of %s" % what)
    if old:
        parser.add_argument(old, metavar="VAR", dest=dest, action=_DeprecatedSpelling,
                            instead=option, help=f"deprecated spelling of {option}")


def _ca_passphrase(parser, what="the CA's key file", old="--passphrase-env"):
    _passphrase(parser, "--ca-passphrase-env", what, old)


def _key_passphrase(parser, what="the key file", old="--passphrase-env"):
    _passphrase(parser, "--key-passphrase-env", what, old)


def _strict(parser):
    parser.add_argument("--strict", action="store_true",
                        help="refuse non-standard forms read from other tools (QPKI's "
                             "pre-draft-13 composite, its catalyst CSR attributes, BER "
                             "requests) even when they verify: exit 1")


def _revocation_reason(parser):
    parser.add_argument("--reason", default="unspecified", metavar="REASON",
                        help=f"RFC 5280 reason, any case: {', '.join(REASON_NAMES)} "
                             "(removeFromCRL is refused: delta CRLs only)")
    parser.add_argument("--invalidity-date", metavar="TIME",
                        help="when the key was known or suspected compromised (ISO 8601; "
                             "keyCompromise and cACompromise)")


def _ca_dir(parser, text="the CA directory"):
    """--ca-dir, with --dir as its alias: the same in every command."""
    parser.add_argument("--ca-dir", "--dir", dest="ca_dir", required=True, metavar="DIR",
                        help=text)


def _parent(parser, text, required=False):
    parser.add_argument("--parent", metavar="DIR", required=required, help=text)
    parser.add_argument("--parent-passphrase-env", metavar="VAR",
                        help="environment variable holding the parent CA key passphrase")


def _unencrypted_key(parser):
    parser.add_argument("--unencrypted-key", action="store_true",
                        help="write a software CA key without a passphrase on purpose (a demo, a "
                             "test): no warning. Without it, such a key file is named in a warning")


def _generate_key(parser):
    parser.add_argument("--generate-key", action="store_true",
                        help="generate the key in the HSM instead of using an existing one")


def _ca_urls(parser):
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


def _ocsp_signing(parser):
    parser.add_argument("--responder", metavar="DIR",
                        help="credential directory of a delegated responder (OCSPSigning "
                             "certificate from this CA); default: the CA signs")
    parser.add_argument("--validity-minutes", type=_positive_int, default=60, metavar="N",
                        help="time from thisUpdate to nextUpdate (default 60)")
    _ca_passphrase(parser, "the CA's key file (when the CA signs)", old=None)
    _passphrase(parser, "--responder-passphrase-env", "the delegated responder's key file",
                old=None)
    parser.add_argument("--passphrase-env", metavar="VAR", dest="legacy_passphrase_env",
                        action=_DeprecatedSpelling,
                        instead="--ca-passphrase-env or --responder-passphrase-env",
                        help="deprecated: the passphrase of the key that signs")


class _AlgorithmChoices:
    """The algorithm names by family, read from the registry only when a help
    text is formatted (``qpki --help`` and parsing import no cryptography)."""

    def __init__(self, signing_only: bool = False) -> None:
        self.signing_only = signing_only

    def __str__(self) -> str:
        from ..algorithms.registry import algorithms_by_family, hsm_algorithm_names

        in_hsm = set(hsm_algorithm_names())
        families = algorithms_by_family(self.signing_only).items()
        return "; ".join(
            f"{family}: " + ", ".join(name + ("*" if name in in_hsm else "") for name in names)
            for family, names in families)


def _algorithm(parser, option, text, signing_only=False, **kwargs):
    """An --algorithm-like option whose help lists the names by family (* = may live in an HSM)."""
    action = parser.add_argument(option, metavar="NAME", help=text + ". Names by family "
                                 "(* may live in an HSM; also: qpki key algorithms): %(algorithms)s",
                                 **kwargs)
    action.algorithms = _AlgorithmChoices(signing_only)


def _positive_int(text):
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError("expected a whole number of at least 1, got %r" % text)
    return number


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help lines are not broken inside a hyphenated name (ml-dsa-65 stays one word)."""

    def _split_lines(self, text, width):
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def _command(subparsers, name, help_text):
    parser = subparsers.add_parser(name, help=help_text, description=help_text,
                                   formatter_class=_HelpFormatter)
    example = EXAMPLES.get(parser.prog.split(" ", 1)[-1])  # prog is "qpki GROUP ACTION"
    if example:
        parser.epilog = f"example:\n  {example}"
    _json(parser)
    return parser


class Parser(argparse.ArgumentParser):
    """argparse, with the argument text it quotes in errors escaped."""

    def error(self, message):
        super().error(escape_text(message))


def build_parser():
    parser = Parser(
        prog="qpki", description="Post-quantum-ready X.509 PKI with PKCS#11 HSM keys.")
    from ..version import __version__

    parser.add_argument("--version", action="version", version=f"qpki {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)

    ca = groups.add_parser("ca", help="certificate authorities").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = _command(ca, "init", "create a root CA, or a subordinate CA with --parent")
    p.add_argument("--profile", required=True, help="builtin profile name or YAML file")
    _ca_dir(p, "CA directory to create")
    _parent(p, "parent CA directory (subordinate CA)")
    _generate_key(p)
    _vars(p)
    _hsm_key(p)
    _ca_passphrase(p, "the new CA's key file")
    _unencrypted_key(p)
    _ca_urls(p)
    p.add_argument("--store-dsn-env", metavar="VAR",
                   help="keep the CA's certificates in a PostgreSQL database: the environment "
                        "variable holding its connection string (which may hold a password; "
                        "ca.meta.json records only the variable's name). Default: ca.db, an "
                        "SQLite file in the CA directory")
    p = _command(ca, "set-urls", "change the CRL, OCSP and CA-issuers URLs that the CA's "
                 "certificates carry from now on (an empty value removes one)")
    _ca_dir(p, "CA directory")
    _ca_urls(p)
    p = _command(ca, "info", "show a CA")
    _ca_dir(p)
    p = _command(ca, "export", "print or write the CA certificate, chain or root")
    _ca_dir(p)
    p.add_argument("--bundle", choices=("ca", "chain", "root"), default="ca",
                   help="ca: the CA certificate; chain: it and its parents (a rotated root's "
                        "cross-certificate included); root: the root of the chain")
    p.add_argument("--out", metavar="FILE", help="write the PEM here (default: print it)")
    p = _command(ca, "rotate", "give the CA a new key: a new version, cross-certified with "
                 "the old one for a root, certified by --parent for a subordinate")
    _ca_dir(p, "the CA to rotate")
    p.add_argument("--profile", help="profile of the new version (default: the current one); "
                                     "may change the algorithm, e.g. to a catalyst root")
    _parent(p, "parent CA directory (required for a subordinate CA)")
    p.add_argument("--no-activate", action="store_true",
                   help="make the new version without making it the one that signs")
    _generate_key(p)
    _vars(p)
    _hsm_key(p)
    _passphrase(p, "--new-ca-passphrase-env", "the new version's CA key file")
    _unencrypted_key(p)
    _ca_passphrase(p, "the current CA key file", old=None)
    p = _command(ca, "recertify", "have the parent (after its rotation) certify a subordinate "
                 "CA's current key again: same key and subject, new certificate")
    _ca_dir(p, "the subordinate CA")
    _parent(p, "its parent CA directory", required=True)
    p = _command(ca, "versions", "list a CA's versions (keys and certificates over time)")
    _ca_dir(p, "CA directory")
    p = _command(ca, "activate", "make one of a CA's versions the one that signs")
    _ca_dir(p, "CA directory")
    p.add_argument("--version", dest="ca_version", required=True, metavar="VERSION",
                   help="version id, e.g. v2 (see qpki ca versions)")
    _ca_passphrase(p, "that version's CA key file")
    p = _command(ca, "check", "check a CA directory's consistency (exit 1 on problems)")
    _ca_dir(p)
    p.add_argument("--repair", action="store_true",
                   help="fix what can be fixed without signing (see docs/SECURITY.md)")

    cert = groups.add_parser("cert", help="certificates").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = _command(cert, "issue", "issue a certificate from a CSR, or one per CSR of a batch")
    _ca_dir(p)
    p.add_argument("--profile", required=True,
                   help="builtin profile name (qpki profile list) or YAML profile file")
    p.add_argument("--csr", action="append", default=[], metavar="FILE",
                   help="CSR file (repeatable: several make a batch)")
    p.add_argument("--out", metavar="FILE", help="copy of the certificate (one --csr only)")
    p.add_argument("--csr-dir", metavar="DIR",
                   help="batch: every *.csr, *.pem, *.der, *.req file of DIR")
    p.add_argument("--out-dir", metavar="DIR",
                   help="batch: write <CSR file name>.crt for each CSR into DIR")
    p.add_argument("--jobs", type=_positive_int, metavar="N",
                   help="batch: processes that check and sign the CSRs (default: one per "
                        "CPU for large batches; 1 = no worker processes)")
    _vars(p)
    _ca_passphrase(p)
    p = _command(cert, "revoke", "revoke a certificate by serial or by its file")
    p.add_argument("serial", nargs="?", help="serial number (hex)")
    p.add_argument("--cert", metavar="FILE",
                   help="the certificate to revoke, instead of its serial (it must be one "
                        "this CA issued)")
    _ca_dir(p)
    _revocation_reason(p)
    p = _command(cert, "unhold", "take a certificate on hold (certificateHold) off hold")
    p.add_argument("serial", help="serial number (hex)")
    _ca_dir(p)
    p = _command(cert, "info", "describe a certificate: a file, or a serial of --ca-dir's CA")
    p.add_argument("cert", metavar="CERT", help="certificate file (PEM or DER), or with "
                                                "--ca-dir the serial (hex) of one the CA issued")
    p.add_argument("--ca-dir", "--dir", dest="ca_dir", metavar="DIR",
                   help="the CA directory whose certificate CERT names by serial (its status "
                        "is shown too)")
    p = _command(cert, "list", "list the certificates a CA issued (from its database)")
    _ca_dir(p)
    p.add_argument("--status", choices=("valid", "revoked", "expired"),
                   help="only the certificates in this state")
    p.add_argument("--expiring", metavar="DURATION",
                   help="only valid certificates whose notAfter is within DURATION (30d, 12h), "
                        "soonest first")
    p.add_argument("--subject", metavar="TEXT",
                   help="only subjects containing TEXT (any case), e.g. www.example.com")
    p = _command(cert, "verify", "verify a certificate against a CA (exit 1 when invalid)")
    p.add_argument("cert", metavar="CERT", help="certificate to verify (PEM or DER)")
    p.add_argument("--ca", required=True, metavar="FILE", help="trusted CA certificate(s), PEM")
    p.add_argument("--untrusted", metavar="FILE", help="intermediate certificates, PEM")
    p.add_argument("--crl", metavar="FILE", action="append", default=[],
                   help="CRL to check revocation against (repeatable: one per CA)")
    p.add_argument("--at", metavar="TIME", help="verification time (ISO 8601, default now)")
    p.add_argument("--classical-only", action="store_true",
                   help="ignore catalyst alternative signatures (verify like a legacy client)")
    _strict(p)
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

    crl = groups.add_parser("crl", help="certificate revocation lists").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = _command(crl, "gen", "generate the CA's CRL")
    _ca_dir(p)
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
    _ca_passphrase(p)
    p = _command(crl, "info", "describe a CRL")
    p.add_argument("crl", metavar="CRL", help="CRL file (PEM or DER)")
    p = _command(crl, "verify", "verify a CRL's signature against its CA")
    p.add_argument("crl", metavar="CRL", help="CRL to verify (PEM or DER)")
    p.add_argument("--ca", required=True, metavar="FILE", help="the CA certificate that signed it")
    p.add_argument("--at", metavar="TIME", help="also check thisUpdate/nextUpdate at TIME")
    p.add_argument("--classical-only", action="store_true",
                   help="ignore a catalyst alternative signature")
    _strict(p)

    cred = groups.add_parser("credential", help="credentials (key + certificate)").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = _command(cred, "enroll", "generate a key and issue its certificate")
    p.add_argument("credential_id", nargs="?", metavar="ID", help="credential id (default: derived)")
    _ca_dir(p)
    p.add_argument("--cred-dir", required=True, help="directory holding the credentials")
    p.add_argument("--profile", required=True,
                   help="builtin profile name (qpki profile list) or YAML profile file")
    _vars(p)
    _hsm_key(p)
    _key_passphrase(p, "the new credential key file")
    _ca_passphrase(p, old=None)
    p.add_argument("--batch", metavar="FILE",
                   help="YAML/JSON list of credentials to enroll under one CA opening (items: "
                        "credential_id, vars, profile, key_label, key_id); --profile and "
                        "--var/--var-file are their defaults")
    p = _command(cred, "list", "list the credentials of a credential directory")
    p.add_argument("--cred-dir", required=True, help="directory holding the credentials")
    p = _command(cred, "info", "describe one credential: certificate, expiry, key storage")
    p.add_argument("credential_id", metavar="ID", help="credential id")
    p.add_argument("--cred-dir", required=True, help="directory holding the credentials")
    p = _command(cred, "export", "write a credential as PKCS#12 or as a PEM bundle")
    p.add_argument("credential_id", metavar="ID", help="credential id")
    p.add_argument("--cred-dir", required=True, help="directory holding the credentials")
    p.add_argument("--out", required=True, metavar="FILE", help="file to write")
    p.add_argument("--format", choices=("pkcs12", "pem"), default="pkcs12",
                   help="pkcs12 (default) or pem (certificate, chain, then the key)")
    p.add_argument("--no-key", action="store_true",
                   help="leave the private key out (certificate and chain only)")
    p.add_argument("--export-passphrase-env", metavar="VAR",
                   help="environment variable holding the passphrase that encrypts the "
                        "exported key (needed when the key is exported)")
    _key_passphrase(p, "the credential's key file")
    for action, text in (("renew", "a new certificate for the credential's key (a new version)"),
                         ("rotate", "a new key and its certificate (a new version)")):
        p = _command(cred, action, text)
        p.add_argument("credential_id", metavar="ID", help="credential id")
        p.add_argument("--cred-dir", required=True, help="directory holding the credentials")
        _ca_dir(p, "the issuing CA's directory")
        _ca_passphrase(p, old=None)
        if action == "rotate":
            _hsm_key(p)
            _key_passphrase(p, "the new credential key file")
    p = _command(cred, "activate", "make an earlier (or later) version the credential's own again")
    p.add_argument("credential_id", metavar="ID", help="credential id")
    p.add_argument("--cred-dir", required=True, help="directory holding the credentials")
    p.add_argument("--version", dest="cred_version", required=True, metavar="VERSION",
                   help="version id, e.g. v1 (see qpki credential info)")
    _key_passphrase(p, "that version's key file")
    p = _command(cred, "revoke", "revoke a credential's certificate at its CA")
    p.add_argument("credential_id", metavar="ID", help="credential id")
    p.add_argument("--cred-dir", required=True, help="directory holding the credentials")
    _ca_dir(p, "the issuing CA's directory")
    _revocation_reason(p)

    responder = groups.add_parser("ocsp", help="OCSP responses (RFC 6960)").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = _command(responder, "sign", "answer one OCSP request file (offline)")
    _ca_dir(p, "the CA whose certificates are asked about")
    p.add_argument("--request", required=True, metavar="FILE", help="DER OCSP request")
    p.add_argument("--out", required=True, metavar="FILE", help="DER OCSP response to write")
    _ocsp_signing(p)
    p = _command(responder, "serve", "answer OCSP requests over HTTP (GET and POST, RFC 6960 "
                 "appendix A) and serve the CA's CRL files")
    _ca_dir(p, "the CA whose certificates are asked about")
    p.add_argument("--listen", required=True, metavar="HOST:PORT",
                   help="address to listen on, e.g. 127.0.0.1:8080")
    p.add_argument("--threads", type=_positive_int, default=4,
                   help="worker threads (default 4)")
    p.add_argument("--crl-prefix", default="/crl/", metavar="PATH",
                   help="URL path under which the files of the CA's crl/ directory are served "
                        "(default /crl/; empty: none)")
    p.add_argument("--user", metavar="NAME",
                   help="started by root: open the key, the CA's records and the socket, then "
                        "run as this user")
    _ocsp_signing(p)

    key = groups.add_parser("key", help="keys in files or in an HSM").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = _command(key, "gen", "generate a key (file, or HSM with --hsm-config)")
    _algorithm(p, "--algorithm", "key algorithm", required=True)
    p.add_argument("--out", metavar="FILE", help="key file (software mode)")
    _hsm_key(p)
    _key_passphrase(p)
    p = _command(key, "algorithms", "list the key algorithms, by family, and which of them "
                 "may live in an HSM")
    p = _command(key, "list", "list the keys in a token")
    p.add_argument("--hsm-config", required=True, help="HSM YAML configuration")

    csr = groups.add_parser("csr", help="certificate signing requests").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = _command(csr, "gen", "make a CSR for a key file (or for a new key)")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the CSR (PEM)")
    p.add_argument("--cn", required=True, help="subject common name")
    p.add_argument("--org", help="subject organisation")
    p.add_argument("--country", help="subject country (2 letters)")
    p.add_argument("--dns", action="append", default=[], help="DNS SAN (repeatable)")
    p.add_argument("--ip", action="append", default=[], help="IP SAN (repeatable)")
    p.add_argument("--email", action="append", default=[], help="email SAN (repeatable)")
    p.add_argument("--key", metavar="FILE", help="existing private key")
    _algorithm(p, "--algorithm", "algorithm of a new key (with --key-out; default ecdsa-p256)",
               signing_only=True)
    p.add_argument("--key-out", metavar="FILE", help="where to write the new key")
    p.add_argument("--alt-key", metavar="FILE",
                   help="catalyst CSR: existing alternative (PQC) private key")
    _algorithm(p, "--alt-algorithm", "catalyst CSR: algorithm of a new alternative key",
               signing_only=True)
    p.add_argument("--alt-key-out", metavar="FILE", help="where to write the new alternative key")
    _key_passphrase(p, "the key files (read with --key/--alt-key, written with --key-out/--alt-key-out)")
    p = _command(csr, "info", "describe a CSR (any algorithm, catalyst or composite)")
    p.add_argument("csr", metavar="CSR", help="CSR file (PEM or DER)")
    p = _command(csr, "verify", "check a CSR's signature(s) (exit 1 when invalid)")
    p.add_argument("csr", metavar="CSR", help="CSR to verify (PEM or DER)")
    _strict(p)

    hsm = groups.add_parser("hsm", help="HSM diagnostics").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = _command(hsm, "list", "list slots and tokens of a PKCS#11 library (no PIN)")
    p.add_argument("--lib", required=True, metavar="PATH", help="the PKCS#11 library (.so)")
    p = _command(hsm, "test", "open the token, log in, report what it can do for each HSM "
                 "algorithm, log out")
    p.add_argument("--hsm-config", required=True, help="HSM YAML configuration")
    p.add_argument("--mechanisms", nargs="?", const="", metavar="TEXT",
                   help="also list the token's PKCS#11 mechanisms (only those whose name "
                        "contains TEXT, any case, when given)")

    prof = groups.add_parser("profile", help="certificate profiles").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    _command(prof, "list", "list builtin profiles")
    p = _command(prof, "show", "show a profile")
    p.add_argument("name", help="profile name, e.g. ec/tls-server, or a YAML profile file")

    audit = groups.add_parser("audit", help="the CA audit log").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = _command(audit, "verify", "verify the hash chain of a CA's or a credential's audit.log "
                 "(exit 1 if broken)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--ca-dir", "--dir", dest="ca_dir", metavar="DIR", help="the CA directory")
    where.add_argument("--cred-dir", metavar="DIR",
                       help="directory holding the credentials (with --credential)")
    p.add_argument("--credential", metavar="ID", help="the credential whose log to verify")
    p.add_argument("--anchor", metavar="SEQ:HASH", help="a head recorded earlier that must still be there")
    p = _command(audit, "start", "start the audit log of a CA directory another tool made (QPKI): "
                 "records the CA and what its index and CRL show, once")
    _ca_dir(p)
    return parser
