"""The HSM PIN in a task's environment never reaches a file or a command
line on the AnsiballZ path (issue 13, item 12).

Real ansible-playbook runs of qpki_crl (the CRL is signed with a SoftHSM2
key, so the module does need the PIN), with QPKI_IN_PROCESS=0 so the module
goes through AnsiballZ as on a remote host, and Ansible's pipelining left
at its default (off):

- a run with -vvv succeeds, and neither its output nor any file Ansible
  left (remote and local temporary directories included) holds the PIN;
- the worker is killed with SIGKILL while the module is in flight; no file
  anywhere in the run's directories holds the PIN afterwards. The PATH of
  that run has a ``cat`` that never returns: the design this replaced wrote
  the values to a file in the remote temporary directory and read them back
  with ``cat`` before starting the module, and this holds it in exactly the
  window where a killed worker leaves the file behind;
- an environment name that is not a shell identifier (where Ansible falls
  back to ``NAME=value`` on the /bin/sh -c command line) fails the task,
  on both paths, and the PIN is not in the -vvv output;
- where the module cannot be pipelined (ANSIBLE_KEEP_REMOTE_FILES=1) the
  task fails instead of writing the module and its environment to disk,
  unless the play opts into the short-lived file (qpki_environment_file),
  which the command removes before the module starts.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.ansible

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Keep the CRL current
      qpki.pki.qpki_crl:
        ca_dir: {ca}
      environment: {environment}
"""
GOOD_ENV = ('{HSM_PIN: "{{ lookup(\'ansible.builtin.env\', \'TEST_PIN\') }}", '
            'SOFTHSM2_CONF: "{{ lookup(\'ansible.builtin.env\', \'SOFTHSM2_CONF\') }}"}')
BAD_NAME_ENV = GOOD_ENV[:-1] + ', BAD-NAME: x}'


@pytest.fixture
def play(softhsm_token, qpki_cli, tmp_path):
    """(run, ca, pin): ``run(environment, **env)`` runs the playbook on an HSM CA."""
    hsm = softhsm_token.write_config(tmp_path / "hsm.yaml")
    softhsm_token.keygen("EC:secp384r1", label="root-key", key_id="01")
    qpki_cli("ca", "init", "--hsm-config", str(hsm), "--key-label", "root-key", "--profile",
             "ec/root-ca", "--var", "cn=Play Root", "--ca-dir", "ca", check=True)
    collections = tmp_path / "collections" / "ansible_collections" / "qpki"
    collections.mkdir(parents=True)
    (collections / "pki").symlink_to(REPO)
    (tmp_path / "inventory").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")

    def environment(**extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("ANSIBLE_") and k != "HSM_PIN"}
        env.update(ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"),
                   ANSIBLE_REMOTE_TEMP=str(tmp_path / "remote-tmp"),
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"),
                   ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_NOCOLOR="1",
                   TEST_PIN=softhsm_token.pin, QPKI_IN_PROCESS="0",
                   PATH=f"{BIN}:{os.environ['PATH']}")
        env.update(extra)
        return env

    def start(task_environment, extra_vars=(), **extra):
        (tmp_path / "play.yml").write_text(
            PLAYBOOK.format(ca=tmp_path / "ca", environment=task_environment))
        extra_args = [arg for item in extra_vars for arg in ("-e", item)]
        return subprocess.Popen([str(BIN / "ansible-playbook"), "-vvv", "-i", "inventory",
                                 *extra_args, "play.yml"], cwd=tmp_path, env=environment(**extra),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)

    def run(task_environment, extra_vars=(), **extra):
        process = start(task_environment, extra_vars, **extra)
        output = process.communicate(timeout=600)[0]
        return process.returncode, output

    run.start = start
    return run, tmp_path / "ca", softhsm_token.pin


def _files_holding(root: Path, secret: str) -> list[str]:
    needle = secret.encode()
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if needle in path.read_bytes():
                    found.append(str(path))
            except OSError:
                pass
    return found


def test_pin_passes_on_stdin_only(play, tmp_path):
    run, ca, pin = play
    code, output = run(GOOD_ENV)
    assert code == 0, output
    assert "changed=1" in output and "Pipelining is enabled." in output
    assert (ca / "crl" / "ca.crl").is_file()
    assert pin not in output
    assert _files_holding(tmp_path, pin) == []


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _holds_open(pid: int, target: str) -> bool:
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == target
                   for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def test_sigkill_of_the_worker_leaves_no_pin_on_disk(play, tmp_path):
    run, ca, pin = play
    shim = tmp_path / "shim"
    shim.mkdir()
    marker = tmp_path / "cat-started"
    (shim / "cat").write_text(f"#!/bin/sh\ntouch {marker}\nexec sleep 600\n")
    (shim / "cat").chmod(0o755)
    lock = os.open(ca / ".lock", os.O_RDONLY)
    fcntl.flock(lock, fcntl.LOCK_EX)  # the module waits for it: in flight, PIN in hand
    process = run.start(GOOD_ENV, PATH=f"{shim}:{BIN}:{os.environ['PATH']}")
    try:
        target = os.path.realpath(ca / ".lock")
        for dummy in range(6000):  # up to 5 minutes of 0.05 s polls
            if marker.exists() or any(_holds_open(pid, target)
                                      for pid in _descendants(process.pid)):
                break
            assert process.poll() is None, process.communicate()[0]
            time.sleep(0.05)
        else:
            pytest.fail("the module never started")
        workers = [pid for pid in _descendants(process.pid)
                   if Path(f"/proc/{pid}/stat").read_text().split()[3] == str(process.pid)]
        assert workers
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    finally:
        for pid in [process.pid] + _descendants(process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.communicate(timeout=60)
        os.close(lock)
    assert _files_holding(tmp_path, pin) == []


def test_name_that_is_not_an_identifier_fails(play, tmp_path):
    run, _ca, pin = play
    for in_process in ("0", "1"):
        code, output = run(BAD_NAME_ENV, QPKI_IN_PROCESS=in_process)
        assert code == 2, output
        assert "environment variable name 'BAD-NAME' is not a shell identifier" in output
        assert pin not in output
    assert _files_holding(tmp_path, pin) == []


def test_no_pipelining_means_no_run(play, tmp_path):
    run, ca, pin = play
    code, output = run(GOOD_ENV, ANSIBLE_KEEP_REMOTE_FILES="1")
    assert code == 2, output
    assert "cannot run pipelined" in output and pin not in output
    assert not (ca / "crl" / "ca.crl").exists()
    assert _files_holding(tmp_path, pin) == []
    code, output = run(GOOD_ENV, ["qpki_environment_file=true"], ANSIBLE_KEEP_REMOTE_FILES="1")
    assert code == 0, output
    assert (ca / "crl" / "ca.crl").is_file() and pin not in output
    assert "Pipelining is enabled." not in output and ".qpki-env-0" in output
    assert _files_holding(tmp_path, pin) == []  # read and removed before the module ran
