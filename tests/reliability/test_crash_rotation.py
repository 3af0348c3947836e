"""SIGKILL during ``ca rotate``: the rotation is all or nothing (issue 17,
item 6). The process kills itself just before each of its durable steps in
turn (crash_phases), so every kill lands where the test says it does."""

import json
import subprocess

import crash_phases
from reliability_support import make_csr
from test_crash import _fork_main


def verifies(work, anchor, leaf):
    done = subprocess.run(["openssl", "verify", "-CAfile", anchor, leaf], cwd=work,
                          capture_output=True, text=True, check=False)
    return done.returncode == 0


def issue(qpki_cli, work, ca, name):
    (work / f"{name}.csr").write_bytes(make_csr(f"{name}.example.com"))
    qpki_cli("cert", "issue", "--ca-dir", ca, "--profile", "ec/tls-server", "--csr", f"{name}.csr",
             "--var", f"cn={name}.example.com", "--out", f"{name}.crt", cwd=work, check=True)
    return f"{name}.crt"


def test_rotation_is_all_or_nothing_when_killed_before_any_step(tmp_path, qpki_cli):
    """Kill ``ca rotate`` just before each of its durable steps in turn:
    every time, the CA is either still v1 (and signs with v1) or fully v2,
    and ``ca check`` / ``audit verify`` are clean after the next command."""
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Kill Root", "--ca-dir", "root",
             check=True)
    argv = ["ca", "rotate", "--ca-dir", "root"]
    log = tmp_path / "trace.log"
    killed, code, dummy = _fork_main(argv, tmp_path, before=lambda: crash_phases.install(str(log)))
    assert not killed and code == 0
    trace = [step.label for step in crash_phases.read(log)]
    assert len(trace) >= 5, trace
    for number in range(1, len(trace) + 1):
        work = tmp_path / f"run{number}"
        work.mkdir()
        qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Kill Root",
                 "--ca-dir", "root", cwd=work, check=True)
        v1_cert = (work / "root/ca.crt").read_bytes()
        step_log = work / "steps.log"
        killed, code, dummy = _fork_main(
            argv, work, before=lambda p=step_log, n=number: crash_phases.install(str(p), n))
        assert killed and code is None, number
        assert [s.label for s in crash_phases.read(step_log)] == trace[:number - 1]
        meta = json.loads((work / "root/ca.meta.json").read_text())
        committed = meta.get("active") == "v2"
        if not committed:
            assert "versions" not in meta and (work / "root/ca.crt").read_bytes() == v1_cert
        leaf = issue(qpki_cli, work, "root", "next")
        anchor = "root/versions/v2/certs/ca.ecdsa-p384.pem" if committed else "root/ca.crt"
        assert verifies(work, anchor, leaf), (number, trace)
        if not committed:
            assert (work / "root/ca.crt").read_bytes() == v1_cert
        check = qpki_cli("ca", "check", "--ca-dir", "root", "--json", cwd=work).json()
        # A kill mid-write may leave a temporary file, which check reports and repair removes.
        assert all("orphan temporary file" in p for p in check.get("problems", [])), check
        if check.get("problems"):
            qpki_cli("ca", "check", "--ca-dir", "root", "--repair", cwd=work, check=True)
        assert qpki_cli("ca", "check", "--ca-dir", "root", cwd=work).returncode == 0
        assert qpki_cli("audit", "verify", "--ca-dir", "root", cwd=work).returncode == 0
