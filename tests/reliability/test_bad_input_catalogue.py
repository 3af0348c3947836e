"""A catalogue of malformed and hostile inputs (issue 6, item 3).

Every case runs against a fresh copy of one prepared workspace (several CA
directories, a credential directory, a CSR) and must:

- fail: exit status != 0 (CLI) or a QpkiError subclass (ops);
- say so on exactly one line of stderr, ``qpki: error: ...``, which names
  the problem (the case's ``mentioned`` text), with no traceback, no
  "internal error", nothing on stdout, and a bounded length (hostile input
  must not flood the message);
- leave the whole workspace byte-identical, modes included (so the CA and
  credential directories are untouched, no staging directory or output file
  is left behind, and nothing is appended to any audit log).

The 12 cases of tests/integration/test_cli_bad_input.py are not repeated.
"""

from __future__ import annotations

import datetime
import os
import shutil
from dataclasses import dataclass, field
from typing import Callable

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from conftest import diff_snapshots, tree_snapshot
from hostile_inputs import (ALL_VARS_PROFILE, OLD_ROOT_PROFILE, SHORT_ROOT_PROFILE, csr_pem,
                            make_not_a_ca, nested_sequences, pem_block, profile_data)
from reliability_support import make_csr

MAX_ERROR_LENGTH = 2000
PASSPHRASE = "correct horse battery staple"


# --------------------------------------------------------------------------- workspace

@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """Built once: ca (issuing, pathLen 0, one valid + one revoked cert, a
    CRL), root, expired, notca, enc (passphrase key), creds, inputs."""
    from qpki.ops.ca.commands import ca_init
    from qpki.ops.cert.commands import cert_issue
    from qpki.ops.cert.revoke import cert_revoke
    from qpki.ops.credential.enroll import credential_enroll
    from qpki.ops.crl.commands import crl_gen

    base = tmp_path_factory.mktemp("catalogue")
    (base / "allvars.yaml").write_text(yaml.safe_dump(ALL_VARS_PROFILE))
    (base / "shortroot.yaml").write_text(yaml.safe_dump(SHORT_ROOT_PROFILE))
    (base / "oldroot.yaml").write_text(yaml.safe_dump(OLD_ROOT_PROFILE))
    (base / "good.csr").write_bytes(make_csr("host.example.com"))
    ca_init(str(base / "ca"), "ec/issuing-ca", {"cn": "Catalogue Issuing CA"})
    cert_issue(str(base / "ca"), "ec/tls-server", make_csr("valid.example.com"))
    revoked = cert_issue(str(base / "ca"), "ec/tls-server", make_csr("revoked.example.com"))
    (base / "revoked.serial").write_text(revoked.serial)
    cert_revoke(str(base / "ca"), revoked.serial, "superseded")
    crl_gen(str(base / "ca"))
    ca_init(str(base / "root"), "ec/root-ca", {"cn": "Catalogue Root"})
    past = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) \
        - datetime.timedelta(days=400)
    ca_init(str(base / "expired"), str(base / "oldroot.yaml"), {"cn": "Old Root"}, now=past)
    ca_init(str(base / "root0"), str(base / "shortroot.yaml"), {"cn": "PathLen 0 Root"})
    ca_init(str(base / "notca"), "ec/root-ca", {"cn": "Not A CA"})
    make_not_a_ca(base / "notca")
    ca_init(str(base / "enc"), "ec/issuing-ca", {"cn": "Encrypted"},
            passphrase=PASSPHRASE.encode())
    credential_enroll(str(base / "ca"), str(base / "creds"), "ec/tls-server",
                      {"cn": "cred.example.com"}, credential_id="existing")
    return base


@pytest.fixture
def work(pristine, tmp_path):
    target = tmp_path / "w"
    shutil.copytree(pristine, target, symlinks=True)
    return target


# --------------------------------------------------------------------------- inputs

def write(name, data):
    def prepare(w):
        payload = data(w) if callable(data) else data
        path = w / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload if isinstance(payload, bytes) else payload.encode())
    return prepare


def good_der(w):
    return x509.load_pem_x509_csr((w / "good.csr").read_bytes()).public_bytes(
        serialization.Encoding.DER)


def yaml_profile(name, **changes):
    return write(name, yaml.safe_dump(profile_data(**changes)))


def edit_file(name, change):
    def prepare(w):
        path = w / name
        path.write_bytes(change(path.read_bytes()))
    return prepare


def chmod(name, mode):
    def prepare(w):
        os.chmod(w / name, mode)
    return prepare


def both(*steps):
    def prepare(w):
        for step in steps:
            step(w)
    return prepare


def hsm_yaml(name, **pkcs11):
    section = {"lib": "/usr/lib/softhsm/libsofthsm2.so", "token": "CA-Token",
               "pin_env": "HSM_PIN"}
    kind = pkcs11.pop("type", "pkcs11")
    for key, value in pkcs11.items():
        if value is None:
            section.pop(key, None)
        else:
            section[key] = value
    return write(name, yaml.safe_dump({"type": kind, "pkcs11": section}))


BOMB = ("dns_names: &h [&g [&f [&e [&d [&c [&b [&a [x,x,x,x,x,x,x,x,x], *a,*a,*a,*a,*a,*a,*a,"
        "*a], *b,*b,*b,*b,*b,*b,*b,*b], *c,*c,*c,*c,*c,*c,*c,*c], *d,*d,*d,*d,*d,*d,*d,*d], *e,"
        "*e,*e,*e,*e,*e,*e,*e], *f,*f,*f,*f,*f,*f,*f,*f], *g,*g,*g,*g,*g,*g,*g,*g]\n")

ISSUE = ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr"]
ALLVARS = ["cert", "issue", "--ca-dir", "ca", "--profile", "allvars.yaml", "--csr", "good.csr"]
ENROLL = ["credential", "enroll", "--ca-dir", "ca", "--cred-dir", "creds", "--profile",
          "ec/tls-server", "--var", "cn=new.example.com"]
HSM_INIT = ["ca", "init", "--profile", "ec/root-ca", "--var", "cn=H", "--ca-dir", "hsmca",
            "--key-label", "root-key", "--hsm-config"]


@dataclass
class Case:
    argv: list
    mentioned: str
    prepare: Callable | None = None
    env: dict = field(default_factory=dict)


def var_case(assignment, expected):
    """A case of the all-variables profile with cn=h and one bad ``assignment``."""
    return Case(ALLVARS + ["--var", "cn=h", "--var", assignment], expected)


CLI_CASES = {
    # --- truncated / garbage PEM and DER ------------------------------------------------
    "CSR: empty file": Case(ISSUE + ["empty.csr"], "empty.csr", write("empty.csr", b"")),
    "CSR: PEM armour around non-base64 text": Case(
        ISSUE + ["b64.csr"], "not a PEM or DER certificate request",
        write("b64.csr", b"-----BEGIN CERTIFICATE REQUEST-----\n!!!*** not base64 ***!!!\n"
                         b"-----END CERTIFICATE REQUEST-----\n")),
    "CSR: PEM of random bytes": Case(
        ISSUE + ["rnd.csr"], "rnd.csr",
        write("rnd.csr", pem_block("CERTIFICATE REQUEST", os.urandom(300)))),
    "CSR: DER truncated in the middle": Case(
        ISSUE + ["half.der"], "half.der", write("half.der", lambda w: good_der(w)[:len(
            good_der(w)) // 2])),
    "CSR: DER with trailing garbage": Case(
        ISSUE + ["tail.der"], "tail.der", write("tail.der", lambda w: good_der(w) + b"\0junk")),
    "CSR: a certificate given as the CSR": Case(
        ISSUE + ["ca/ca.crt"], "found PEM CERTIFICATE"),
    "CSR: a private key given as the CSR": Case(
        ISSUE + ["creds/existing/signature.ecdsa-p256.key"], "found PEM PRIVATE KEY"),
    "CSR: 100k nested SEQUENCEs": Case(
        ISSUE + ["deep.der"], "deep.der", write("deep.der", nested_sequences(100_000))),
    "CSR: 100k nested indefinite-length SEQUENCEs": Case(
        ISSUE + ["deep.ber"], "deep.ber",
        write("deep.ber", b"\x30\x80" * 100_000 + b"\0\0" * 100_000)),
    "CSR: 10 MB of random bytes": Case(
        ISSUE + ["huge.bin"], "huge.bin", write("huge.bin", lambda w: os.urandom(10 << 20))),
    "CSR: 10 MB PEM block": Case(
        ISSUE + ["huge.pem"], "huge.pem",
        write("huge.pem", lambda w: pem_block("CERTIFICATE REQUEST", os.urandom(10 << 20)))),
    "CSR path is a directory": Case(ISSUE + ["certs_dir_x"], "certs_dir_x",
                                    lambda w: (w / "certs_dir_x").mkdir()),
    "CSR path with ../ to a missing file": Case(ISSUE + ["../../nowhere/x.csr"], "x.csr"),
    # --- CSR content ---------------------------------------------------------------------
    "CSR: CN of 10,000 characters": Case(
        ISSUE + ["long.csr"], "10000 characters",
        write("long.csr", lambda w: csr_pem(cn="a" * 10_000))),
    "CSR: CN with newline and tabs (index injection)": Case(
        ISSUE + ["ctrl.csr"], "contains a control character",
        write("ctrl.csr", lambda w: csr_pem(
            cn="x\nV\t991231235959Z\t\t01\tunknown\t/CN=evil"))),
    "CSR: SAN with a NUL byte": Case(
        ISSUE + ["nul.csr"], "dns_names",
        write("nul.csr", lambda w: csr_pem(
            sans=[x509.DNSName("evil\x00.example.com")]))),
    "CSR: Ed25519 key for an ECDSA profile": Case(
        ISSUE + ["ed.csr"], "Ed25519",
        write("ed.csr", lambda w: csr_pem(ed25519.Ed25519PrivateKey.generate()))),
    "CSR: P-384 key for a P-256 profile": Case(
        ISSUE + ["p384.csr"], "secp384r1",
        write("p384.csr", lambda w: csr_pem(ec.generate_private_key(ec.SECP384R1())))),
    "CSR: RSA-1024 key for an RSA-2048 profile": Case(
        ["cert", "issue", "--ca-dir", "ca", "--profile", "rsa/tls-server", "--csr", "r.csr"],
        "RSA-1024", write("r.csr", lambda w: csr_pem(rsa.generate_private_key(65537, 1024)))),
    # --- ids, labels, paths --------------------------------------------------------------
    "credential id with ../": Case(ENROLL[:2] + ["../evil"] + ENROLL[2:], "credential id"),
    "credential id with a slash": Case(ENROLL[:2] + ["a/b"] + ENROLL[2:], "credential id"),
    "credential id with an escape sequence": Case(
        ENROLL[:2] + ["x\x1b[31mred"] + ENROLL[2:], "credential id"),
    "credential id that is a hidden name": Case(ENROLL[:2] + [".hidden"] + ENROLL[2:],
                                                "must not start with '.'"),
    "credential id of 200 characters": Case(ENROLL[:2] + ["c" * 200] + ENROLL[2:],
                                            "longer than 128"),
    "credential id that already exists": Case(ENROLL[:2] + ["existing"] + ENROLL[2:],
                                              "already exists"),
    "--ca-dir climbing out with ../": Case(
        ["cert", "issue", "--ca-dir", "../../../../etc", "--profile", "ec/tls-server",
         "--csr", "good.csr"], "not a CA directory"),
    "ca init onto an existing file": Case(
        ["ca", "init", "--profile", "ec/root-ca", "--var", "cn=X", "--ca-dir", "good.csr"],
        "a file is in the way"),
    "--profile path to a non-profile file": Case(
        ["cert", "issue", "--ca-dir", "ca", "--profile", "../../../../../../etc/passwd",
         "--csr", "good.csr"], "expected a mapping"),
    "--out in a missing directory": Case(ISSUE + ["good.csr", "--out", "nodir/x.crt"],
                                         "does not exist"),
    "--out is a directory": Case(ISSUE + ["good.csr", "--out", "ca"], "it is a directory"),
    "ca.meta.json key path climbing out": Case(
        ISSUE + ["good.csr"], "leaves the directory",
        edit_file("ca/ca.meta.json", lambda b: b.replace(
            b'"private/ca.ecdsa-p256.key"', b'"private/../../etc/shadow"'))),
    "ca.meta.json is not JSON": Case(ISSUE + ["good.csr"], "ca.meta.json",
                                     edit_file("ca/ca.meta.json", lambda b: b[:-20])),
    "index.txt with a garbage line": Case(
        ISSUE + ["good.csr"], "invalid line 4",
        edit_file("ca/index.txt", lambda b: b + b"this is not an index line\n")),
    # --- revocation ----------------------------------------------------------------------
    "revoke a serial that is already revoked": Case(
        ["cert", "revoke", "@revoked", "--ca-dir", "ca"], "already revoked"),
    "revoke a 10,000-digit serial": Case(["cert", "revoke", "A" * 10_000, "--ca-dir", "ca"],
                                         "longer than 20 octets"),
    "revoke an unknown 20-octet serial": Case(["cert", "revoke", "7F" * 20, "--ca-dir", "ca"],
                                              "is not in the certificate index"),
    "revoke serial '0x'": Case(["cert", "revoke", "0x", "--ca-dir", "ca"],
                               "not a hexadecimal number"),
    "revoke a serial with a space": Case(["cert", "revoke", "12 34", "--ca-dir", "ca"],
                                         "not a hexadecimal number"),
    # --- custom profiles -----------------------------------------------------------------
    "profile: unknown top-level field": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr", "--var", "cn=h"],
        '"owner"', yaml_profile("p.yaml", owner="mallory")),
    "profile: unknown extension": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr", "--var", "cn=h"],
        '"fooBar"', yaml_profile("p.yaml", extensions={"fooBar": {"critical": True}})),
    "profile: unknown extension field": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr", "--var", "cn=h"],
        '"colour"', yaml_profile("p.yaml", extensions={
            "keyUsage": {"usages": ["digitalSignature"], "colour": "red"}})),
    "profile: unknown variable type": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr", "--var", "cn=h"],
        '"blob"', yaml_profile("p.yaml", variables={"cn": {"type": "blob"}})),
    "profile: unknown variable constraint": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr", "--var", "cn=h"],
        '"maxlen"', yaml_profile("p.yaml", variables={"cn": {"type": "string", "maxlen": 3}})),
    "profile: YAML syntax error": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr"], "invalid YAML",
        write("p.yaml", "algorithm: [ecdsa-p256\nvalidity: 30d\n")),
    "profile: duplicate key": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr"], "duplicate key",
        write("p.yaml", "algorithm: ecdsa-p256\nvalidity: 30d\nvalidity: 40d\n")),
    "profile: python object tag": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr"], "python/object",
        write("p.yaml", "algorithm: ecdsa-p256\nvalidity: 30d\n"
                        "description: !!python/object/apply:os.system ['touch pwned']\n")),
    "profile: unknown algorithm": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr", "--var", "cn=h"],
        '"ecdsa-p999"', yaml_profile("p.yaml", algorithm="ecdsa-p999")),
    "profile: validity that is not a duration": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr", "--var", "cn=h"],
        '"forever"', yaml_profile("p.yaml", validity="forever")),
    "profile: template uses an undeclared variable": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr"], '"nope"',
        yaml_profile("p.yaml", subject={"cn": "{{ nope }}"})),
    "profile: not UTF-8": Case(
        ISSUE[:4] + ["--profile", "p.yaml", "--csr", "good.csr"], "p.yaml",
        write("p.yaml", b"algorithm: \xff\xfe\n")),
    "var file: YAML alias bomb": Case(
        ISSUE + ["good.csr", "--var-file", "bomb.yaml"], "aliases are expanded",
        write("bomb.yaml", BOMB)),
    "var file: not a mapping": Case(
        ISSUE + ["good.csr", "--var-file", "list.yaml"], "expected a mapping",
        write("list.yaml", "- a\n- b\n")),
    # --- every variable constraint -------------------------------------------------------
    "variable: string pattern": Case(ALLVARS + ["--var", "cn=UPPER.example.com"],
                                     "variable cn"),
    "variable: enum": var_case("org=Evil", "variable org"),
    "variable: integer below min": var_case("port=0", "minimum 1"),
    "variable: integer above max": var_case("port=70000", "maximum 65535"),
    "variable: integer that is not a number": var_case("port=abc", "not an integer"),
    "variable: boolean": var_case("flag=maybe", "not a boolean"),
    "variable: list max_items": var_case("tags=a,b,c", "at most 2"),
    "variable: dns_name": var_case("host=bad_host!", "variable host"),
    "variable: dns_names wildcard": var_case("dns_names=*.example.com", "wildcards"),
    "variable: ip_list": var_case("ips=300.1.1.1", "not a valid IP address"),
    "variable: email": var_case("mail=not-an-email", "not a valid email address"),
    "variable: uri": var_case("url=not a uri", "not a valid URI"),
    "variable: oid": var_case("policy=1.2.abc", "not a dotted OID"),
    "variable: duration above max": var_case("life=100d", "longer than the maximum 90d"),
    "variable: duration syntax": var_case("life=forever", "not a duration"),
    "variable: min_length": var_case("short=ab", "shorter than 3"),
    "variable: undeclared": var_case("sneaky=1", "unknown variable"),
    "variable: CN of 10,000 characters": Case(ISSUE + ["good.csr", "--var", "cn=" + "b" * 10_000],
                                              "10000 characters"),
    # --- CA state ------------------------------------------------------------------------
    "expired CA issues": Case(["cert", "issue", "--ca-dir", "expired", "--profile",
                               "ec/tls-server", "--csr", "good.csr"], "expired on"),
    "expired parent CA": Case(["ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=S",
                               "--ca-dir", "sub", "--parent", "expired"], "expired on"),
    "parent CA that is not a CA": Case(["ca", "init", "--profile", "ec/issuing-ca", "--var",
                                        "cn=S", "--ca-dir", "sub", "--parent", "notca"],
                                       "is not a CA"),
    "issuing from a CA certificate that is not a CA": Case(
        ["cert", "issue", "--ca-dir", "notca", "--profile", "ec/tls-server",
         "--csr", "good.csr"], "is not a CA"),
    "pathLen exceeded through cert issue with a CA profile": Case(
        ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/issuing-ca", "--csr", "good.csr",
         "--var", "cn=Sneaky Sub CA"], "pathLen 0"),
    "pathLen exceeded under a custom pathLen-0 root": Case(
        ["ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=S", "--ca-dir", "sub",
         "--parent", "root0"], "pathLen 0"),
    "CA key file readable by group": Case(ISSUE + ["good.csr"], "mode 0640",
                                          chmod("ca/private/ca.ecdsa-p256.key", 0o640)),
    "CA key file writable by others": Case(ISSUE + ["good.csr"], "mode 0602",
                                           chmod("ca/private/ca.ecdsa-p256.key", 0o602)),
    "encrypted CA key without a passphrase": Case(
        ["cert", "issue", "--ca-dir", "enc", "--profile", "ec/tls-server", "--csr", "good.csr"],
        "passphrase is required"),
    "encrypted CA key with a wrong passphrase": Case(
        ["cert", "issue", "--ca-dir", "enc", "--profile", "ec/tls-server", "--csr", "good.csr",
         "--ca-passphrase-env", "QPKI_TEST_PASS"], "wrong passphrase",
        env={"QPKI_TEST_PASS": "not the passphrase"}),
    "passphrase variable not set": Case(
        ["crl", "gen", "--ca-dir", "enc", "--ca-passphrase-env", "QPKI_UNSET_VAR"], "QPKI_UNSET_VAR",
        env={"QPKI_UNSET_VAR": None}),
    "audit.log whose last line was edited": Case(
        ISSUE + ["good.csr"], "audit log",
        edit_file("ca/audit.log", lambda b: b[:-2] + b"X\n")),
    "audit.log ending in a torn line": Case(
        ["crl", "gen", "--ca-dir", "ca"], "incomplete line",
        edit_file("ca/audit.log", lambda b: b + b'{"seq":99,"op":"cert.iss')),
    "CRL days 0": Case(["crl", "gen", "--ca-dir", "ca", "--days", "0"], "CRL validity"),
    # --- HSM configuration faults (no token needed) ----------------------------------------
    "HSM config holding a PIN": Case(HSM_INIT + ["h.yaml"], "PIN must not be stored",
                                     hsm_yaml("h.yaml", pin="sup3r-s3cret-pin")),
    "HSM config holding a nested password": Case(
        HSM_INIT + ["h.yaml"], "PIN must not be stored",
        write("h.yaml", "type: pkcs11\npkcs11:\n  lib: /x.so\n  token: T\n  pin_env: P\n"
                        "  extra: {password: sup3r-s3cret-pin}\n")),
    "HSM config with a missing library": Case(HSM_INIT + ["h.yaml"], "does not exist",
                                              hsm_yaml("h.yaml", lib="/nonexistent/libp11.so")),
    "HSM config whose library is not a library": Case(
        HSM_INIT + ["h.yaml"], "cannot load PKCS#11 library", hsm_yaml("h.yaml", lib="/etc/passwd")),
    "HSM config of an unknown type": Case(HSM_INIT + ["h.yaml"], "unknown type 'tpm'",
                                          hsm_yaml("h.yaml", type="tpm")),
    "HSM config without pin_env": Case(HSM_INIT + ["h.yaml"], "pin_env",
                                       hsm_yaml("h.yaml", pin_env=None)),
    "HSM config with two token selectors": Case(HSM_INIT + ["h.yaml"], "exactly one",
                                                hsm_yaml("h.yaml", slot=0)),
    "HSM config that is a directory": Case(HSM_INIT + ["ca"], "cannot read HSM config"),
    "HSM mode with a PQC profile": Case(
        ["ca", "init", "--profile", "ml/root-ca", "--var", "cn=H", "--ca-dir", "hsmca",
         "--key-label", "k", "--hsm-config", "h.yaml"], "not available in HSM mode",
        hsm_yaml("h.yaml")),
    "--key-label without --hsm-config": Case(
        ["ca", "init", "--profile", "ec/root-ca", "--var", "cn=H", "--ca-dir", "x",
         "--key-label", "k"], "needs an HSM configuration"),
    # --- reading artefacts ---------------------------------------------------------------
    "crl info on garbage": Case(["crl", "info", "g.crl"], "not a PEM or DER CRL",
                                write("g.crl", os.urandom(64))),
    "crl verify with a truncated CRL": Case(
        ["crl", "verify", "t.crl", "--ca", "ca/ca.crt"], "t.crl",
        write("t.crl", lambda w: (w / "ca" / "crl" / "ca.crl.der").read_bytes()[:-40])),
    "crl verify against a garbage CA file": Case(
        ["crl", "verify", "ca/crl/ca.crl", "--ca", "good.csr"], "--ca"),
    "cert info on a CSR": Case(["cert", "info", "good.csr"], "found PEM CERTIFICATE REQUEST"),
    "cert verify on 100k nested SEQUENCEs": Case(
        ["cert", "verify", "deep.der", "--ca", "ca/ca.crt"], "deep.der",
        write("deep.der", nested_sequences(100_000))),
    "cert verify with a malformed --at": Case(
        ["cert", "verify", "ca/ca.crt", "--ca", "ca/ca.crt", "--at", "yesterday"], "--at"),
    "audit verify with a malformed anchor": Case(
        ["audit", "verify", "--ca-dir", "ca", "--anchor", "3:nothex"], "SEQ:HASH"),
    "ca check of a directory that is not a CA": Case(["ca", "check", "--ca-dir", "creds"],
                                                     "not a CA directory"),
}


def _expand(argv, work):
    serial = (work / "revoked.serial").read_text().strip()
    return [serial if a == "@revoked" else a for a in argv]


def _assert_one_line_failure(returncode, stdout, stderr, mentioned):
    assert returncode not in (0, None)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr[:3000]
    line = lines[0]
    assert line.startswith("qpki: error: "), line[:500]
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert mentioned in line, line[:500]
    assert len(line) < MAX_ERROR_LENGTH, "error line of %d characters" % len(line)
    assert stdout == ""


def test_catalogue_size():
    assert len(CLI_CASES) + len(OPS_CASES) >= 52


def _run_in_process(argv, work, env, monkeypatch):
    """The CLI entry point, main(argv), in this process: same parsing,
    handlers and error rendering as the console script, without paying
    for interpreter start-up in each of ~100 cases."""
    import contextlib
    import io

    from qpki.cli.main import main

    monkeypatch.chdir(work)
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_cli_bad_input(name, work, monkeypatch):
    case = CLI_CASES[name]
    if case.prepare:
        case.prepare(work)
    before = tree_snapshot(work)
    code, stdout, stderr = _run_in_process(_expand(case.argv, work), work, case.env, monkeypatch)
    _assert_one_line_failure(code, stdout, stderr, case.mentioned)
    assert diff_snapshots(before, tree_snapshot(work)) == []
    assert "sup3r-s3cret-pin" not in stdout + stderr


# Cases also run through the real console script (a separate process, with
# its own warning and library-loading behaviour).
SUBPROCESS_CASES = [
    "CSR: 100k nested SEQUENCEs", "CSR: 10 MB PEM block", "CSR: CN of 10,000 characters",
    "credential id with an escape sequence", "ca init onto an existing file",
    "--out in a missing directory", "revoke a 10,000-digit serial", "var file: YAML alias bomb",
    "variable: dns_names wildcard", "expired parent CA", "pathLen exceeded through cert issue "
    "with a CA profile", "CA key file readable by group", "encrypted CA key with a wrong "
    "passphrase", "audit.log ending in a torn line", "HSM config holding a PIN",
    "HSM config whose library is not a library", "cert verify with a malformed --at",
]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_cli_bad_input_subprocess(name, work, qpki_cli):
    case = CLI_CASES[name]
    if case.prepare:
        case.prepare(work)
    before = tree_snapshot(work)
    result = qpki_cli(*_expand(case.argv, work), cwd=work, env=case.env, timeout=120)
    _assert_one_line_failure(result.returncode, result.stdout, result.stderr, case.mentioned)
    assert diff_snapshots(before, tree_snapshot(work)) == []
    assert "sup3r-s3cret-pin" not in result.output


# --------------------------------------------------------------------------- ops level

def op(target, *args, **kwargs):
    """A call of ``qpki.<module>.<function>``; arguments that are callables
    receive the workspace (``at("ca")`` gives the path of its CA)."""
    module, dummy, function = target.rpartition(".")

    def call(w):
        import importlib

        fn = getattr(importlib.import_module("qpki." + module), function)
        return fn(*[a(w) if callable(a) else a for a in args],
                  **{k: v(w) if callable(v) else v for k, v in kwargs.items()})
    return call


def at(sub):
    return lambda w: str(w / sub)


def dict_profile(w):
    from qpki.profiles.profile import Profile

    return Profile({"algorithm": "ecdsa-p256", "validity": "1d", "backdoor": True}, name="dict")


OPS_CASES = {
    "cert_issue with empty CSR bytes": (
        op("ops.cert.commands.cert_issue", at("ca"), "ec/tls-server", b""),
        "not a PEM or DER certificate request"),
    "cert_issue with a str of garbage": (
        op("ops.cert.commands.cert_issue", at("ca"), "ec/tls-server", "\x00garbage\u2028"),
        "certificate request"),
    "cert_issue with a CSR that is not bytes": (
        op("ops.cert.commands.cert_issue", at("ca"), "ec/tls-server", 12345), "certificate request"),
    "cert_info on 100k nested SEQUENCEs": (
        op("ops.cert.commands.cert_info", nested_sequences(100_000), "deep"), "deep"),
    "crl_info on a truncated CRL": (
        op("ops.crl.commands.crl_info", lambda w: (w / "ca/crl/ca.crl.der").read_bytes()[:50], "cut"),
        "cut"),
    "cert_revoke of an unknown serial": (
        op("ops.cert.revoke.cert_revoke", at("ca"), "0ABCDEF0"), "0ABCDEF0"),
    "cert_revoke with an unknown reason": (
        op("ops.cert.revoke.cert_revoke", at("ca"), "01", "because"), "because"),
    "credential_enroll with a newline in the id": (
        op("ops.credential.enroll.credential_enroll", at("ca"), at("creds"), "ec/tls-server",
           {"cn": "a.example.com"}, credential_id="bad\nid"), "credential id"),
    "credential_enroll with a CA profile": (
        op("ops.credential.enroll.credential_enroll", at("ca"), at("creds"), "ec/issuing-ca",
           {"cn": "x"}), "CA profile"),
    "Profile from a dict with an unknown field": (
        op("ops.ca.commands.ca_init", at("new"), dict_profile), '"backdoor"'),
    "crl_gen with days as a string": (op("ops.crl.commands.crl_gen", at("ca"), days="7"), "CRL validity"),
    "audit_verify with a garbage anchor": (
        op("ops.audit.trail.audit_verify", at("ca"), anchor="x"), "SEQ:HASH"),
    "ca_check of a missing directory": (op("ops.ca.check.ca_check", at("missing")),
                                        "not a CA directory"),
    "key_gen with an unknown algorithm": (
        op("ops.keys.commands.key_gen", "ecdsa-p999", at("k.pem")), "ecdsa-p999"),
    "load_csr on 10 MB of zeros": (
        op("x509.parse.load_csr", b"\0" * (10 << 20), "zeros"), "zeros"),
}


@pytest.mark.parametrize("name", list(OPS_CASES))
def test_ops_bad_input(name, work):
    from qpki.errors import QpkiError

    call, mentioned = OPS_CASES[name]
    before = tree_snapshot(work)
    with pytest.raises(QpkiError) as caught:
        call(work)
    message = str(caught.value)
    assert "\n" not in message and mentioned in message, message[:500]
    assert len(message) < MAX_ERROR_LENGTH
    assert diff_snapshots(before, tree_snapshot(work)) == []


# --------------------------------------------------------------------------- token labels

LABELS = {
    "newline": ("bad\nlabel", "control characters"),
    "escape sequence": ("x\x1b[31mred", "control characters"),
    "300 characters": ("k" * 300, "longer than 255"),
}


@pytest.mark.parametrize("name", sorted(LABELS))
def test_hostile_key_labels_are_refused(name, softhsm_token, qpki_cli, tmp_path):
    """Control characters and over-long labels are refused for key
    generation and key lookup; the token and the directory stay as they were."""
    label, mentioned = LABELS[name]
    cfg = softhsm_token.write_config(tmp_path / "hsm.yaml")
    objects = softhsm_token.list_objects()
    before = tree_snapshot(tmp_path)
    for argv in (["key", "gen", "--algorithm", "ecdsa-p256", "--hsm-config", cfg,
                  "--key-label", label],
                 ["ca", "init", "--profile", "ec/root-ca", "--var", "cn=H", "--ca-dir", "ca",
                  "--hsm-config", cfg, "--key-label", label]):
        result = qpki_cli(*argv)
        _assert_one_line_failure(result.returncode, result.stdout, result.stderr, mentioned)
        assert "\x1b" not in result.stderr
    assert softhsm_token.list_objects() == objects
    assert diff_snapshots(before, tree_snapshot(tmp_path)) == []


def test_path_like_key_label_is_only_a_name(softhsm_token, qpki_cli, tmp_path):
    """'/' and '..' in a label are ordinary characters: the label is looked
    up in the token and never used as a path."""
    cfg = softhsm_token.write_config(tmp_path / "hsm.yaml")
    before = tree_snapshot(tmp_path)
    result = qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=H", "--ca-dir", "ca",
                      "--hsm-config", cfg, "--key-label", "../../etc/passwd")
    _assert_one_line_failure(result.returncode, result.stdout, result.stderr,
                             "no private key with label '../../etc/passwd'")
    assert diff_snapshots(before, tree_snapshot(tmp_path)) == []
