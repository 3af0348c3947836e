"""Session discipline on every token of the matrix: one login per
operation and a logout after it (counted by OpenSC's pkcs11-spy between
qpki and the token), a login already held in the process, and several
processes using one token at once."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import find_pkcs11_spy
from tokens.test_matrix_flow import family, ok, openssl, root_algorithm
from tokens.token import RunningToken

CONCURRENT = 4


@pytest.fixture(scope="module")
def root_ca(running_token: RunningToken, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root CA whose key qpki generated in the token (label root-key)."""
    workdir = tmp_path_factory.mktemp("sessions-" + running_token.name)
    config = running_token.write_config(workdir / "hsm.yaml")
    ok(running_token.qpki("ca", "init", "--hsm-config", config, "--generate-key",
                          "--key-label", "root-key", "--profile", family(running_token) + "/root-ca",
                          "--var", "cn=Session Root", "--ca-dir", workdir / "root"))
    return workdir


def leaf_csr(token: RunningToken, workdir: Path, name: str) -> Path:
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] \
        if family(token) == "ec" else ["-newkey", "rsa:2048"]
    ok(openssl("req", "-new", *new_key, "-nodes", "-keyout", name + ".key", "-subj",
               "/CN=%s.example.com" % name, "-out", name + ".csr", cwd=workdir))
    return workdir / (name + ".csr")


def issue_argv(token: RunningToken, workdir: Path, name: str) -> list[str]:
    return ["cert", "issue", "--ca-dir", str(workdir / "root"), "--profile",
            family(token) + "/tls-server", "--csr", str(leaf_csr(token, workdir, name)),
            "--var", "cn=%s.example.com" % name, "--var", "dns_names=%s.example.com" % name,
            "--out", str(workdir / (name + ".crt"))]


def test_one_login_per_operation_and_logout(running_token: RunningToken, root_ca: Path) -> None:
    spy = find_pkcs11_spy()
    assert spy is not None, "pkcs11-spy.so missing (Debian package opensc-pkcs11)"
    spied = running_token.write_config(root_ca / "spy.yaml", lib=spy)
    meta_path = root_ca / "root" / "ca.meta.json"
    meta = json.loads(meta_path.read_text())
    meta["keys"][0]["storage"]["config"] = str(spied)
    meta_path.write_text(json.dumps(meta))
    log = root_ca / "spy.log"
    try:
        ok(running_token.qpki(*issue_argv(running_token, root_ca, "spied"),
                              env={"PKCS11SPY": running_token.lib, "PKCS11SPY_OUTPUT": str(log)}))
    finally:
        meta["keys"][0]["storage"]["config"] = str(root_ca / "hsm.yaml")
        meta_path.write_text(json.dumps(meta))
    calls = re.findall(r"^\d+: (C_\w+)", log.read_text(), re.M)
    assert calls.count("C_Login") == 1, calls
    signs = [i for i, call in enumerate(calls) if call == "C_Sign"]
    assert signs, calls
    assert calls.count("C_Logout") == 1 and calls.index("C_Logout") > signs[-1], calls
    ok(openssl("verify", "-CAfile", "root/ca.crt", "spied.crt", cwd=root_ca))


ALREADY_LOGGED_IN = textwrap.dedent("""
    import sys
    import pkcs11
    from qpki.hsm.library import load_library
    from qpki.ops.keys.commands import key_list

    lib_path, label, pin, config = sys.argv[1:5]
    token = load_library(lib_path).get_token(token_label=label)
    held = token.open(user_pin=pin)  # another part of this process holds the login
    keys = key_list(config).keys
    assert any(key["label"] == "root-key" and key["class"] == "private" for key in keys), keys
    private = list(held.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.PRIVATE_KEY}))
    assert private, "qpki logged out a login it did not make"
    held.close()
    print("ok")
""")


def test_login_already_held_in_the_process(running_token: RunningToken, root_ca: Path) -> None:
    script = root_ca / "held.py"
    script.write_text(ALREADY_LOGGED_IN)
    proc = running_token.run([sys.executable, str(script), running_token.lib, running_token.label,
                              running_token.pin, str(root_ca / "hsm.yaml")])
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_concurrent_processes_on_one_token(running_token: RunningToken, root_ca: Path) -> None:
    config = root_ca / "hsm.yaml"
    jobs = [issue_argv(running_token, root_ca, "conc%d" % n) for n in range(CONCURRENT // 2)]
    jobs += [["key", "gen", "--algorithm", root_algorithm(running_token), "--hsm-config",
              str(config), "--key-label", "conc-key-%d" % n] for n in range(CONCURRENT // 2)]
    jobs.append(["key", "list", "--hsm-config", str(config)])
    qpki = str(Path(sys.executable).parent / "qpki")
    procs = [subprocess.Popen(running_token.prefix + [qpki, *argv], cwd=root_ca,
                              env=running_token.environ(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for argv in jobs]
    failed = []
    for argv, proc in zip(jobs, procs, strict=True):
        _out, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            failed.append((argv, err))
    assert not failed, failed
    for n in range(CONCURRENT // 2):
        ok(openssl("verify", "-CAfile", "root/ca.crt", "conc%d.crt" % n, cwd=root_ca))
    listed = json.loads(ok(running_token.qpki("key", "list", "--hsm-config", config,
                                              "--json")).stdout)
    labels = {key["label"] for key in listed["keys"] if key["class"] == "private"}
    assert {"conc-key-%d" % n for n in range(CONCURRENT // 2)} <= labels


HASH_AND_SIGN = textwrap.dedent("""
    import sys
    from qpki.errors import HsmError
    from qpki.hsm.capabilities import mechanism_table
    from qpki.hsm.config import load_hsm_config
    from qpki.hsm.session import connect
    from qpki.signer.pkcs11 import Pkcs11Signer

    config = load_hsm_config(sys.argv[1])
    with connect(config) as hsm:
        # The fault: qpki's view of the mechanism list without the raw ones.
        hsm._mechanism_table = {name: info for name, info in mechanism_table(hsm).items()
                                if name not in ("ECDSA", "RSA_PKCS", "RSA_PKCS_PSS")}
        try:
            signer = Pkcs11Signer(config, sys.argv[3], label=sys.argv[2], session=hsm)
        except HsmError as exc:
            print("refused:", exc)
            sys.exit(0)
        with signer:
            message = b"tbs certificate bytes" * 40
            signer.algorithm.verify(signer.public_key(), signer.sign(message), message)
            print("verified")
""")
# Which tokens offer the hash-and-sign mechanism of their root key's
# algorithm (ecdsa-p384 with SHA-384, rsa-4096 with SHA-256), from their
# mechanism lists: SoftHSM2 2.6 has no CKM_ECDSA_SHA*, openCryptoki 3.8 no
# CKM_SHA256_RSA_PKCS.
HASH_AND_SIGN_OFFERED = {"softhsm2": False, "opencryptoki": False, "tpm2": True}


def test_hash_and_sign_when_raw_mechanisms_are_hidden(running_token: RunningToken,
                                                      root_ca: Path) -> None:
    script = root_ca / "hashed.py"
    script.write_text(HASH_AND_SIGN)
    proc = running_token.run([sys.executable, str(script), str(root_ca / "hsm.yaml"), "root-key",
                              root_algorithm(running_token)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    if HASH_AND_SIGN_OFFERED[running_token.name]:
        assert proc.stdout.strip() == "verified", proc.stdout
    else:
        assert proc.stdout.startswith("refused: token '%s' cannot sign with %s"
                                      % (running_token.label, root_algorithm(running_token)))


def test_generate_key_and_init_ca_in_one_login(running_token: RunningToken, root_ca: Path) -> None:
    spy = find_pkcs11_spy()
    assert spy is not None, "pkcs11-spy.so missing (Debian package opensc-pkcs11)"
    spied = running_token.write_config(root_ca / "spy-init.yaml", lib=spy)
    log = root_ca / "spy-init.log"
    ok(running_token.qpki("ca", "init", "--hsm-config", spied, "--generate-key", "--key-label",
                          "spied-root", "--profile", family(running_token) + "/root-ca",
                          "--var", "cn=Spied Root", "--ca-dir", root_ca / "spied-root",
                          env={"PKCS11SPY": running_token.lib, "PKCS11SPY_OUTPUT": str(log)}))
    calls = re.findall(r"^\d+: (C_\w+)", log.read_text(), re.M)
    assert calls.count("C_GenerateKeyPair") >= 1 and calls.count("C_Sign") >= 1, calls
    assert calls.count("C_Login") == 1 and calls.count("C_Logout") == 1, calls
    ok(openssl("verify", "-CAfile", "spied-root/ca.crt", "spied-root/ca.crt", cwd=root_ca))
