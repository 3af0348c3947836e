"""Secrets hygiene (issue 6, item 5).

A known PIN (SoftHSM token) and a known passphrase go through succeeding and
failing commands, with and without --json, with QPKI_DEBUG=1, and through a
deliberately provoked internal error (which prints a traceback under
QPKI_DEBUG=1). Neither value may appear in stdout, stderr, JSON output,
tracebacks, or any file the commands leave behind (key files aside, which
are encrypted with the passphrase, never containing it).

Also: key files are created 0600 (the mode is given to open(), so there is
no moment when they are readable by others, whatever the umask), and a CA
refuses to load a key file that group/others can read.
"""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from reliability_support import make_csr

PASSPHRASE = "Tr0ub4dor&3-known-passphrase"
WRONG_PASSPHRASE = "wrong-known-passphrase-0042"
WRONG_PIN = "98765432123456"


def _qpki_patched(patch, argv, cwd, env):
    """Run the CLI in a fresh interpreter after ``patch`` (Python source)
    has run: used to make a signing function fail with a non-qpki error."""
    code = ("import sys\n%s\nsys.argv[0] = 'qpki'\nfrom qpki.cli.main import main\n"
            "sys.exit(main(%r))\n" % (patch, list(argv)))
    full = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=120, check=False)


def _all_text(results):
    return "\n".join(r.stdout + "\n" + r.stderr for r in results)


def _files_text(root):
    """Everything under ``root`` except private key files, as text."""
    chunks = []
    for path in Path(root).rglob("*"):
        if path.is_file() and not path.name.endswith(".key"):
            chunks.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(chunks)


def _assert_absent(secret, text, what):
    assert secret not in text, "secret found in %s" % what


# ------------------------------------------------------------------ HSM PIN

def test_pin_never_appears(softhsm_token, qpki_cli, tmp_path):
    pin = softhsm_token.pin
    cfg = softhsm_token.write_config(tmp_path / "hsm.yaml")
    (tmp_path / "leaf.csr").write_bytes(make_csr("leaf.example.com"))
    debug = {"QPKI_DEBUG": "1"}
    runs = []

    def run(*argv, ok=True, env=None):
        result = qpki_cli(*argv, env=dict(debug, **(env or {})))
        assert (result.returncode == 0) == ok, result
        runs.append(result)
        return result

    run("hsm", "test", "--hsm-config", cfg, "--json")
    run("key", "gen", "--algorithm", "ecdsa-p384", "--hsm-config", cfg, "--key-label", "root")
    run("key", "list", "--hsm-config", cfg, "--json")
    run("ca", "init", "--profile", "ec/root-ca", "--var", "cn=HSM Root", "--ca-dir", "ca",
        "--hsm-config", cfg, "--key-label", "root", "--json")
    run("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", "leaf.csr",
        "--json")
    run("crl", "gen", "--ca-dir", "ca")
    # Failures: wrong PIN, missing PIN, unknown key, wrong key type, PIN in the YAML.
    run("crl", "gen", "--ca-dir", "ca", ok=False, env={"HSM_PIN": WRONG_PIN})
    run("hsm", "test", "--hsm-config", cfg, "--json", ok=False, env={"HSM_PIN": WRONG_PIN})
    run("crl", "gen", "--ca-dir", "ca", ok=False, env={"HSM_PIN": None})
    run("ca", "init", "--profile", "ec/root-ca", "--var", "cn=X", "--ca-dir", "ca2",
        "--hsm-config", cfg, "--key-label", "missing", ok=False)
    run("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=X", "--ca-dir", "ca3",
        "--hsm-config", cfg, "--key-label", "root", ok=False)
    leaky = softhsm_token.write_config(tmp_path / "leaky.yaml", pin=pin)
    run("hsm", "test", "--hsm-config", leaky, ok=False)
    # An internal error while the session is logged in, with a traceback.
    crash = _qpki_patched(
        "import qpki.hsm.signing as s\n"
        "def boom(*a, **k):\n    raise RuntimeError('token exploded')\n"
        "s.ecdsa_sign_digest = boom",
        ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", "leaf.csr"],
        tmp_path, debug)
    assert crash.returncode != 0 and "Traceback" in crash.stderr, crash.stderr
    runs.append(crash)

    text = _all_text(runs)
    for secret in (pin, WRONG_PIN, softhsm_token.so_pin):
        _assert_absent(secret, text, "command output")
        _assert_absent(secret, _files_text(tmp_path / "ca"), "the CA directory")
    json.loads(runs[0].stdout)  # --json output was really produced and checked


# ------------------------------------------------------------------ passphrases

def test_passphrase_never_appears(qpki_cli, tmp_path):
    (tmp_path / "leaf.csr").write_bytes(make_csr("leaf.example.com"))
    env = {"QPKI_DEBUG": "1", "CA_PASS": PASSPHRASE, "KEY_PASS": PASSPHRASE,
           "BAD_PASS": WRONG_PASSPHRASE}
    runs = []

    def run(*argv, ok=True):
        result = qpki_cli(*argv, env=env)
        assert (result.returncode == 0) == ok, result
        runs.append(result)
        return result

    run("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Enc Root", "--ca-dir", "ca",
        "--ca-passphrase-env", "CA_PASS", "--json")
    run("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Enc Sub", "--ca-dir", "sub",
        "--parent", "ca", "--parent-passphrase-env", "CA_PASS", "--ca-passphrase-env", "KEY_PASS")
    run("cert", "issue", "--ca-dir", "sub", "--profile", "ec/tls-server", "--csr", "leaf.csr",
        "--ca-passphrase-env", "CA_PASS", "--json")
    run("crl", "gen", "--ca-dir", "sub", "--ca-passphrase-env", "CA_PASS", "--json")
    run("credential", "enroll", "c1", "--ca-dir", "sub", "--cred-dir", "creds", "--profile",
        "ec/tls-server", "--var", "cn=c1.example.com", "--key-passphrase-env", "KEY_PASS",
        "--ca-passphrase-env", "CA_PASS", "--json")
    run("key", "gen", "--algorithm", "ecdsa-p256", "--out", "k.pem", "--key-passphrase-env",
        "KEY_PASS", "--json")
    run("csr", "gen", "--out", "k.csr", "--cn", "k.example.com", "--key", "k.pem",
        "--key-passphrase-env", "KEY_PASS")
    # Failures.
    run("cert", "issue", "--ca-dir", "sub", "--profile", "ec/tls-server", "--csr", "leaf.csr",
        "--ca-passphrase-env", "BAD_PASS", ok=False)
    run("crl", "gen", "--ca-dir", "sub", "--ca-passphrase-env", "BAD_PASS", "--json", ok=False)
    run("crl", "gen", "--ca-dir", "sub", ok=False)
    run("csr", "gen", "--out", "k2.csr", "--cn", "k.example.com", "--key", "k.pem",
        "--key-passphrase-env", "BAD_PASS", ok=False)
    run("key", "gen", "--algorithm", "ecdsa-p256", "--out", "k.pem", "--key-passphrase-env",
        "KEY_PASS", ok=False)  # exists
    crash = _qpki_patched(
        "import qpki.x509.certificate as c\n"
        "def boom(*a, **k):\n    raise RuntimeError('signing exploded')\n"
        "c.sign_certificate = boom\nimport qpki.ops.cert.issuance as i\ni.sign_certificate = boom",
        ["cert", "issue", "--ca-dir", "sub", "--profile", "ec/tls-server", "--csr", "leaf.csr",
         "--ca-passphrase-env", "CA_PASS"], tmp_path, env)
    assert crash.returncode != 0 and "Traceback" in crash.stderr, crash.stderr
    runs.append(crash)

    text = _all_text(runs)
    for secret in (PASSPHRASE, WRONG_PASSPHRASE):
        _assert_absent(secret, text, "command output")
        _assert_absent(secret, _files_text(tmp_path), "the files written")
    # The keys really are encrypted.
    for key in [tmp_path / "ca/private/ca.ecdsa-p384.key", tmp_path / "k.pem",
                *tmp_path.glob("creds/c1/*.key")]:
        assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes(), key


# ------------------------------------------------------------------ key file modes

RECORD_OPENS = r"""
import os, json, atexit
os.umask(0)
_real_open = os.open
_log = []
def _open(path, flags, mode=0o777, *args, **kwargs):
    if flags & os.O_CREAT:
        _log.append([os.fspath(path), mode, bool(flags & os.O_EXCL)])
    return _real_open(path, flags, mode, *args, **kwargs)
os.open = _open
atexit.register(lambda: open(os.environ["OPEN_LOG"], "w").write(json.dumps(_log)))
"""


def _created(tmp_path, argv):
    log = tmp_path / ("opens-%d.json" % len(list(tmp_path.glob("opens-*.json"))))
    result = _qpki_patched(RECORD_OPENS, argv, tmp_path, {"OPEN_LOG": str(log),
                                                          "KEY_PASS": PASSPHRASE})
    assert result.returncode == 0, result.stderr
    return json.loads(log.read_text())


def test_key_files_are_created_0600_with_umask_0(tmp_path, qpki_cli):
    opens = []
    opens += _created(tmp_path, ["key", "gen", "--algorithm", "ecdsa-p256", "--out", "k.pem"])
    opens += _created(tmp_path, ["key", "gen", "--algorithm", "ml-dsa-44", "--out", "m.pem",
                                 "--key-passphrase-env", "KEY_PASS"])
    opens += _created(tmp_path, ["ca", "init", "--profile", "ec/root-ca", "--var", "cn=R",
                                 "--ca-dir", "ca"])
    opens += _created(tmp_path, ["credential", "enroll", "c1", "--ca-dir", "ca", "--cred-dir",
                                 "creds", "--profile", "ec/tls-server", "--var",
                                 "cn=c.example.com"])
    opens += _created(tmp_path, ["csr", "gen", "--out", "n.csr", "--cn", "n.example.com",
                                 "--algorithm", "ecdsa-p256", "--key-out", "n.key"])
    key_opens = [(path, mode) for path, mode, _excl in opens
                 if path.endswith(".key") or ".key.tmp-" in path or path.endswith(".pem")
                 or ".pem.tmp-" in path]
    assert len(key_opens) >= 5, opens
    for path, mode in key_opens:
        assert mode & 0o077 == 0, "%s created with mode %o" % (path, mode)
    finals = [tmp_path / "k.pem", tmp_path / "m.pem", tmp_path / "n.key",
              tmp_path / "ca/private/ca.ecdsa-p384.key", *tmp_path.glob("creds/c1/*.key")]
    for path in finals:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "ca/private").stat().st_mode) == 0o700
    # The umask did apply to ordinary files: they are not 0600 by accident.
    assert stat.S_IMODE((tmp_path / "ca/ca.crt").stat().st_mode) == 0o644


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_ca_refuses_a_key_file_others_can_read(mode, tmp_path, qpki_cli, tree_snapshot,
                                               diff_snapshots):
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=I", "--ca-dir", "ca",
             check=True)
    (tmp_path / "leaf.csr").write_bytes(make_csr("leaf.example.com"))
    key = tmp_path / "ca/private/ca.ecdsa-p256.key"
    os.chmod(key, mode)
    before = tree_snapshot(tmp_path / "ca")
    for argv in (["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr",
                  "leaf.csr"], ["crl", "gen", "--ca-dir", "ca"]):
        result = qpki_cli(*argv)
        assert result.returncode == 1, result
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result
        assert str(key.relative_to(tmp_path)) in lines[0] or str(key) in lines[0], lines[0]
        assert "mode %04o" % mode in lines[0], lines[0]
    assert diff_snapshots(before, tree_snapshot(tmp_path / "ca")) == []


def test_key_file_refused_for_csr_gen_when_world_readable(tmp_path, qpki_cli):
    qpki_cli("key", "gen", "--algorithm", "ecdsa-p256", "--out", "k.pem", check=True)
    os.chmod(tmp_path / "k.pem", 0o644)
    result = qpki_cli("csr", "gen", "--out", "x.csr", "--cn", "x", "--key", "k.pem")
    assert result.returncode == 1 and "k.pem" in result.stderr and "0644" in result.stderr
    assert not (tmp_path / "x.csr").exists()


def test_both_keys_of_a_catalyst_ca_are_encrypted(tmp_path):
    """The classical and the PQC key of a catalyst CA made with a passphrase."""
    from qpki.ops.ca.commands import ca_init

    ca_init(str(tmp_path / "ca"), "hybrid/catalyst/root-ca", {"cn": "Catalyst Enc"},
            passphrase=PASSPHRASE.encode())
    keys = sorted((tmp_path / "ca" / "private").glob("*.key"))
    assert [key.name for key in keys] == ["ca.ecdsa-p384.key", "ca.ml-dsa-87.key"]
    for key in keys:
        data = key.read_bytes()
        assert b"ENCRYPTED PRIVATE KEY" in data and PASSPHRASE.encode() not in data, key
