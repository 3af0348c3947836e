"""Entry point of the ``qpki`` console script.

Each handler reads its files, calls one ``ops`` function and renders the
result; ops are imported lazily so ``qpki --help`` stays fast.
"""

import argparse
import datetime
import json
import os
import signal
import sys
from typing import TYPE_CHECKING

from .parser import build_parser

if TYPE_CHECKING:
    from ..ops.result import Result


def _read(path, what):
    from ..input_file import read_input

    return read_input(path, what)


def _read_crl(path):
    from ..input_file import read_crl_input

    return read_crl_input(path)


def _secret(var):
    """A passphrase from the environment variable ``var`` (None if no var)."""
    from ..env_secret import secret_from_env

    return secret_from_env(var)


def _values(args):
    from ..profiles.variables import load_var_file, parse_var_args

    values = load_var_file(args.var_file) if args.var_file else {}
    for name, value in parse_var_args(args.var).items():
        values[name] = value
    return values


def _when(text, option="--at"):
    from ..errors import UsageError

    if not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {text[:40]!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def _key_request(args, passphrase=None):
    from ..ops.ca.keys import KeyRequest

    return KeyRequest(hsm_config=args.hsm_config, key_label=args.key_label,
                      key_id=args.key_id, generate_key=getattr(args, "generate_key", False),
                      passphrase=passphrase)


def run_ca(args):
    from ..ops.ca import commands as ca

    if args.action == "init":
        if args.generate_key and not args.hsm_config:
            from ..errors import UsageError
            raise UsageError("--generate-key needs --hsm-config")
        return ca.ca_init(args.ca_dir, args.profile, _values(args), parent_dir=args.parent,
                          key=_key_request(args, _secret(args.ca_passphrase_env)),
                          parent_passphrase=_secret(args.parent_passphrase_env),
                          urls=_ca_urls(args), store_dsn_env=args.store_dsn_env)
    if args.action == "set-urls":
        from ..ops.ca.url_commands import ca_urls_ensure
        return ca_urls_ensure(args.ca_dir, args.crl_url, args.ocsp_url, args.ca_issuers_url,
                              delta_crl=args.delta_crl_url)
    if args.action == "info":
        return ca.ca_info(args.ca_dir)
    if args.action in ("rotate", "versions", "activate", "recertify"):
        return _run_ca_rotation(args)
    if args.action == "check":
        from ..ops.ca.check import ca_check
        return ca_check(args.ca_dir, repair=args.repair)
    return ca.ca_export(args.ca_dir, args.bundle, args.out)


def _ca_urls(args):
    from ..ops.ca.urls import requested_urls

    return requested_urls(args.crl_url, args.ocsp_url, args.ca_issuers_url, args.delta_crl_url)


def _run_ca_rotation(args):
    from ..ops.ca import rotate as ca_rotate

    if args.action == "versions":
        return ca_rotate.ca_versions_list(args.ca_dir)
    if args.action == "activate":
        return ca_rotate.ca_activate(args.ca_dir, args.ca_version, _secret(args.ca_passphrase_env))
    if args.action == "recertify":
        return ca_rotate.ca_recertify(args.ca_dir, args.parent,
                                      _secret(args.parent_passphrase_env))
    if args.generate_key and not args.hsm_config:
        from ..errors import UsageError
        raise UsageError("--generate-key needs --hsm-config")
    return ca_rotate.ca_rotate(args.ca_dir, args.profile, _values(args),
                               key=_key_request(args, _secret(args.new_ca_passphrase_env)),
                               passphrase=_secret(args.ca_passphrase_env),
                               parent_dir=args.parent,
                               parent_passphrase=_secret(args.parent_passphrase_env),
                               activate=not args.no_activate)


def run_cert(args: argparse.Namespace) -> "Result":
    from ..ops.cert import commands as cert

    if args.action == "issue":
        if args.csr_dir or args.out_dir or len(args.csr) > 1:
            return _issue_batch(args)
        if not args.csr:
            from ..errors import UsageError
            raise UsageError("cert issue needs --csr FILE or --csr-dir DIR")
        return cert.cert_issue(args.ca_dir, args.profile, _read(args.csr[0], "CSR"), args.out,
                               _values(args), csr_where=args.csr[0],
                               passphrase=_secret(args.ca_passphrase_env))
    if args.action in ("revoke", "unhold"):
        from ..ops.cert import revoke

        if args.action == "unhold":
            return revoke.cert_unhold(args.ca_dir, args.serial)
        return revoke.cert_revoke(args.ca_dir, _revocation_serial(args), args.reason,
                                  invalidity_date=_when(args.invalidity_date, "--invalidity-date"))
    if args.action == "info" and args.ca_dir:
        from ..ops.cert.inventory import cert_record_info
        from ..ops.cert.revoke import parse_serial

        return cert_record_info(args.ca_dir, parse_serial(args.cert), args.cert)
    if args.action == "info":
        return cert.cert_info(_read(args.cert, "certificate"), args.cert)
    if args.action == "list":
        from ..ops.cert.inventory import cert_list, cert_query

        return cert_list(args.ca_dir, cert_query(args.status, args.expiring, args.subject))
    return cert.cert_verify(
        _read(args.cert, "certificate"), _read(args.ca, "CA certificate"),
        _read(args.untrusted, "untrusted certificates") if args.untrusted else None,
        at=_when(args.at), where=args.cert, classical_only=args.classical_only,
        crls=[_read_crl(path) for path in args.crl], purpose=args.purpose, host=args.host,
        ip=args.ip, email=args.email, max_depth=args.max_depth, web_pki=args.web_pki,
        engine=args.engine, strict=args.strict)


def _revocation_serial(args):
    from ..errors import UsageError

    if (args.serial is None) == (args.cert is None):
        raise UsageError("cert revoke needs a serial or --cert FILE (one of them)")
    if args.serial is not None:
        return args.serial
    from ..ops.cert.revoke_target import serial_of_certificate_file

    return serial_of_certificate_file(args.ca_dir, _read(args.cert, "certificate"), args.cert)


def _issue_batch(args):
    from ..errors import UsageError
    from ..ops.cert.batch import cert_issue_batch, csr_files

    if args.out:
        raise UsageError("--out names one certificate; a batch writes into --out-dir")
    paths = list(args.csr)
    if args.csr_dir:
        paths += csr_files(args.csr_dir)
    if not paths:
        raise UsageError("cert issue needs --csr FILE or --csr-dir DIR")
    from .progress_bar import terminal_progress

    with terminal_progress(args) as progress:
        return cert_issue_batch(args.ca_dir, args.profile, paths, out_dir=args.out_dir,
                                values=_values(args), passphrase=_secret(args.ca_passphrase_env),
                                jobs=args.jobs, progress=progress)


def run_crl(args):
    from ..ops.crl import commands as crl

    if args.action == "gen" and args.delta:
        from ..errors import UsageError
        from ..ops.crl.delta import crl_gen_delta

        if args.ca_version or args.drop_expired or args.out:
            raise UsageError("--delta goes with neither --version, --drop-expired nor --out")
        return crl_gen_delta(args.ca_dir, args.days, passphrase=_secret(args.ca_passphrase_env))
    if args.action == "gen":
        from .progress_bar import terminal_progress

        with terminal_progress(args) as progress:
            return crl.crl_gen(args.ca_dir, args.days, passphrase=_secret(args.ca_passphrase_env),
                               drop_expired=args.drop_expired, version=args.ca_version,
                               out=args.out, out_format=args.format, progress=progress)
    if args.action == "info":
        return crl.crl_info(_read_crl(args.crl), args.crl)
    return crl.crl_verify(_read_crl(args.crl), _read(args.ca, "CA certificate"),
                          at=_when(args.at), where=args.crl, classical_only=args.classical_only,
                          strict=args.strict)


def run_credential(args):
    if args.action == "list":
        from ..ops.credential.read import credential_list
        return credential_list(args.cred_dir)
    if args.action == "info":
        from ..ops.credential.read import credential_info
        return credential_info(args.cred_dir, args.credential_id)
    if args.action == "export":
        from ..ops.credential.export import credential_export
        return credential_export(args.cred_dir, args.credential_id, args.out, args.format,
                                 export_passphrase=_secret(args.export_passphrase_env),
                                 key_passphrase=_secret(args.key_passphrase_env),
                                 include_key=not args.no_key)
    if args.action in ("renew", "rotate"):
        from ..ops.credential.versions import credential_renew
        key = _key_request(args, _secret(args.key_passphrase_env)) if args.action == "rotate" else None
        return credential_renew(args.ca_dir, args.cred_dir, args.credential_id,
                                new_key=args.action == "rotate", key=key,
                                ca_passphrase=_secret(args.ca_passphrase_env))
    if args.action == "activate":
        from ..ops.credential.versions import credential_activate
        return credential_activate(args.cred_dir, args.credential_id, args.cred_version,
                                   _secret(args.key_passphrase_env))
    if args.action == "revoke":
        from ..ops.credential.revoke import credential_revoke
        return credential_revoke(args.ca_dir, args.cred_dir, args.credential_id, args.reason,
                                 invalidity_date=_when(args.invalidity_date, "--invalidity-date"))
    from ..ops.credential.enroll import credential_enroll

    if args.batch:
        from ..errors import UsageError
        from ..ops.credential.batch import credential_enroll_batch, read_batch_file

        if args.credential_id or args.key_label or args.key_id:
            raise UsageError("credential enroll --batch: give ids and key labels in the file")
        return credential_enroll_batch(args.ca_dir, args.cred_dir, args.profile,
                                       read_batch_file(args.batch), _values(args),
                                       key=_key_request(args, _secret(args.key_passphrase_env)),
                                       ca_passphrase=_secret(args.ca_passphrase_env))

    return credential_enroll(args.ca_dir, args.cred_dir, args.profile, _values(args),
                             credential_id=args.credential_id,
                             key=_key_request(args, _secret(args.key_passphrase_env)),
                             ca_passphrase=_secret(args.ca_passphrase_env))


def _ocsp_passphrase(args):
    """The passphrase of the key that signs: the delegated responder's or the CA's."""
    var = args.responder_passphrase_env if args.responder else args.ca_passphrase_env
    return _secret(var or args.legacy_passphrase_env)


def run_ocsp(args):
    if args.action == "sign":
        from ..ops.ocsp.responder import ocsp_sign
        return ocsp_sign(args.ca_dir, _read(args.request, "OCSP request"), args.out,
                         args.responder, _ocsp_passphrase(args), args.validity_minutes)
    from ..ops.ocsp.server import ocsp_serve
    return ocsp_serve(args.ca_dir, args.listen, args.responder, _ocsp_passphrase(args),
                      args.validity_minutes, args.threads, args.crl_prefix or None, args.user)


def run_key(args):
    from ..errors import UsageError
    from ..ops.keys import commands as key

    if args.action == "list":
        return key.key_list(args.hsm_config)
    if args.action == "algorithms":
        return key.algorithm_list()
    if args.hsm_config:
        if not args.key_label:
            raise UsageError("key gen with --hsm-config needs --key-label")
        return key.key_gen_hsm(args.hsm_config, args.algorithm, args.key_label, args.key_id)
    if not args.out:
        raise UsageError("key gen needs --out (or --hsm-config for a token key)")
    return key.key_gen(args.algorithm, args.out, _secret(args.key_passphrase_env))


def run_csr(args):
    if args.action in ("info", "verify"):
        from ..ops.cert import csr

        data = _read(args.csr, "CSR")
        if args.action == "info":
            return csr.csr_info(data, args.csr)
        return csr.csr_verify(data, args.csr, strict=args.strict)
    from ..ops.keys.commands import csr_gen

    return csr_gen(args.out, args.cn, key_path=args.key, algorithm=args.algorithm,
                   key_out=args.key_out, passphrase=_secret(args.key_passphrase_env),
                   dns_names=args.dns, ip_addresses=args.ip, emails=args.email,
                   organization=args.org, country=args.country, alt_key_path=args.alt_key,
                   alt_algorithm=args.alt_algorithm, alt_key_out=args.alt_key_out)


def run_hsm(args):
    from ..ops.keys import hsm

    if args.action == "list":
        return hsm.hsm_list(args.lib)
    return hsm.hsm_test(args.hsm_config, args.mechanisms)


def run_profile(args):
    from ..ops import profile

    if args.action == "list":
        return profile.profile_list()
    return profile.profile_show(args.name)


def run_audit(args):
    if args.action == "start":
        from ..ops.audit.start import audit_start

        return audit_start(args.ca_dir)
    if args.cred_dir is not None or args.credential is not None:
        if args.cred_dir is None or args.credential is None:
            from ..errors import UsageError
            raise UsageError("audit verify: a credential's log needs both --cred-dir and --credential")
        from ..ops.credential.audit import credential_audit_verify

        return credential_audit_verify(args.cred_dir, args.credential, anchor=args.anchor)
    from ..ops.audit.trail import audit_verify

    return audit_verify(args.ca_dir, anchor=args.anchor)


HANDLERS = {"ca": run_ca, "cert": run_cert, "crl": run_crl, "credential": run_credential,
            "ocsp": run_ocsp,
            "key": run_key, "csr": run_csr, "hsm": run_hsm, "profile": run_profile,
            "audit": run_audit}


# Commands that never change anything: their JSON has no "changed".
_READ_ONLY = {("ca", "info"), ("ca", "versions"), ("key", "algorithms"), ("cert", "info"), ("cert", "verify"),
              ("crl", "info"), ("crl", "verify"), ("credential", "list"), ("credential", "info"),
              ("cert", "list"),
              ("key", "list"), ("audit", "verify"), ("profile", "list"), ("profile", "show"),
              ("hsm", "list"), ("hsm", "test"), ("csr", "info"), ("csr", "verify")}


def _read_only(args) -> bool:
    action = getattr(args, "action", None)
    if (args.group, action) in _READ_ONLY:
        return True
    if (args.group, action) == ("ca", "check"):
        return not args.repair
    return (args.group, action) == ("ca", "export") and not args.out


def _fails(result) -> bool:
    """Whether the result is a verdict that failed (exit code 1)."""
    from ..ops.result import Verdict

    return isinstance(result, Verdict) and not result.valid


def _warn_unprotected(args, result: dict) -> None:
    """A CA key file written without a passphrase is named on standard error,
    unless --unencrypted-key said that this is meant."""
    from .render import emit

    if getattr(args, "unencrypted_key", False):
        return
    option = "--new-ca-passphrase-env" if args.action == "rotate" else "--ca-passphrase-env"
    for path in result.get("unprotected_keys") or []:
        emit(f"qpki: warning: CA key written without a passphrase: {path} (anyone who can read "
             f"this file can sign as the CA; encrypt it with {option} VAR, or give "
             "--unencrypted-key to say this is meant)", sys.stderr)


def _failed(args, message: str, code: int) -> int:
    """One line on stderr; with --json, the same as JSON on stdout."""
    from .render import emit

    emit(f"qpki: error: {message}", sys.stderr)
    if getattr(args, "json", False):
        emit(json.dumps({"failed": True, "msg": message, "exit_code": code}))
    return code


def console_main() -> int:
    """The ``qpki`` process: core dumps off and not dumpable before any PIN,
    passphrase or key is read, then :func:`main` (which tests also call in
    their own process, which must stay as it is)."""
    from ..process_hygiene import disable_core_dumps

    disable_core_dumps()
    return main()


def main(argv=None):
    # `qpki ... | head` should end quietly, like other command-line tools.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(words).parse_args(words)
    import warnings  # cryptography warns (several lines) about over-long name attributes
    warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)
    from ..errors import QpkiError
    from .render import emit, render

    try:
        result = HANDLERS[args.group](args)
    except QpkiError as exc:
        return _failed(args, str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _failed(args, "interrupted", 1)
    except Exception as exc:  # a bug: still one line, details on request
        from ..dependencies import missing_libraries

        if missing_libraries():  # a broken installation rather than a bug
            return _failed(args, "missing Python libraries: %s" % "; ".join(
                "%s (%s)" % item for item in sorted(missing_libraries().items())), 1)
        if os.environ.get("QPKI_DEBUG"):
            raise
        from ..display_text import escape_text

        detail = escape_text(" ".join(str(exc).split()))
        return _failed(args, f"internal error: {type(exc).__name__}: {detail} "
                             "(set QPKI_DEBUG=1 for a traceback)", 1)
    data = result.to_dict()
    _warn_unprotected(args, data)
    if args.json:
        if _read_only(args):
            data.pop("changed", None)
        emit(json.dumps(data, indent=2, default=str))
    else:
        render(result, data)
    return 1 if _fails(result) else 0


if __name__ == "__main__":
    raise SystemExit(console_main())
