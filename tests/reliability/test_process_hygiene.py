"""Process hygiene around secrets (issue 13, item 13).

- The `qpki` command and the modules turn core dumps off and make the
  process non-dumpable before any secret is read. Observed from outside on
  a real process of a second account, while it waits for the CA lock (held
  by the test): /proc/<pid>/limits shows a core size limit of 0 (the test
  starts it with an unlimited one), and /proc/<pid> belongs to root, which
  is what the kernel does for a non-dumpable process (no ptrace, no
  /proc/<pid>/environ or mem for the same user).
- The CA lock is taken before a PIN is read: with the lock held elsewhere
  and no PIN available, the command waits for the lock instead of failing
  on the PIN.
- A PIN that is not UTF-8 fails with an error that quotes none of it;
  a pin_env that is not a variable name is refused without being echoed.
"""

from __future__ import annotations

import fcntl
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from other_user import other_user, shared_dir  # noqa: F401  # pylint: disable=unused-import


REPO = Path(__file__).resolve().parents[2]
QPKI = str(Path(sys.executable).parent / "qpki")


def _unlimited_core() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _holding(lock_path: Path):
    fd = os.open(lock_path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _wait_until_waiting_for(process: subprocess.Popen, lock_path: Path) -> bool:
    """True once ``process`` has ``lock_path`` open (it is waiting for the
    lock); False if it exited first."""
    fd_dir = Path(f"/proc/{process.pid}/fd")
    target = os.path.realpath(lock_path)
    while process.poll() is None:
        try:
            links = [os.readlink(fd_dir / name) for name in os.listdir(fd_dir)]
        except OSError:
            links = []
        if target in links:
            return True
        time.sleep(0.02)
    return False


def _core_limit(pid: int) -> list[str]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            return line.split()[4:6]
    raise AssertionError("no core limit line")


def _assert_hardened_while_waiting(process: subprocess.Popen, lock: Path, uid: int) -> None:
    try:
        assert _wait_until_waiting_for(process, lock), process.communicate(timeout=30)
        status = Path(f"/proc/{process.pid}/status")
        assert f"Uid:\t{uid}\t" in status.read_text()  # runs as the second user...
        assert _core_limit(process.pid) == ["0", "0"]
        assert status.stat().st_uid == 0  # ...but its /proc entry is root's: not dumpable
    finally:
        process.kill()
        process.wait(30)


@pytest.fixture
def user_ca(shared_dir, other_user) -> Path:
    """A software CA owned by the second user, in a directory it owns."""
    os.chown(shared_dir, other_user.uid, other_user.gid)
    done = other_user.run(QPKI, "ca", "init", "--profile", "ec/root-ca", "--var", "cn=U",
                          "--ca-dir", str(shared_dir / "ca"), cwd=shared_dir)
    assert done.returncode == 0, done.stderr
    return shared_dir / "ca"


def test_cli_turns_core_dumps_off(user_ca, other_user):
    lock = user_ca / ".lock"
    fd = _holding(lock)
    try:
        process = other_user.popen(QPKI, "crl", "gen", "--ca-dir", str(user_ca),
                                   preexec_fn=_unlimited_core, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        _assert_hardened_while_waiting(process, lock, other_user.uid)
    finally:
        os.close(fd)


def test_module_turns_core_dumps_off(user_ca, other_user, shared_dir):
    tree = shared_dir / "collections" / "ansible_collections" / "qpki"
    tree.mkdir(parents=True)
    (tree / "pki").symlink_to(REPO)
    args = shared_dir / "args.json"
    args.write_text(f'{{"ANSIBLE_MODULE_ARGS": {{"ca_dir": "{user_ca}"}}}}')
    lock = user_ca / ".lock"
    fd = _holding(lock)
    try:
        process = other_user.popen(
            sys.executable, str(REPO / "plugins/modules/qpki_crl.py"), str(args),
            env=other_user.environment(PYTHONPATH=str(shared_dir / "collections")),
            preexec_fn=_unlimited_core, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL)
        _assert_hardened_while_waiting(process, lock, other_user.uid)
    finally:
        os.close(fd)


@pytest.fixture
def hsm_ca(softhsm_token, qpki_cli, tmp_path) -> Path:
    hsm = softhsm_token.write_config(tmp_path / "hsm.yaml")
    softhsm_token.keygen("EC:secp384r1", label="root-key", key_id="01")
    qpki_cli("ca", "init", "--hsm-config", str(hsm), "--key-label", "root-key", "--profile",
             "ec/root-ca", "--var", "cn=Hygiene Root", "--ca-dir", "ca", check=True)
    return tmp_path / "ca"


def test_lock_is_taken_before_the_pin_is_read(hsm_ca, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HSM_PIN"}
    lock = hsm_ca / ".lock"
    fd = _holding(lock)
    try:
        process = subprocess.Popen([QPKI, "crl", "gen", "--ca-dir", "ca"], cwd=tmp_path,
                                   env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        waiting = _wait_until_waiting_for(process, lock)
        if not waiting:
            out, err = process.communicate(timeout=30)
            pytest.fail(f"exited before taking the lock: {err.strip()}")
    finally:
        os.close(fd)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1 and "PIN not available" in err, err


PIN_BYTES = b"Zq7\xffWk9"


def test_non_utf8_pin_is_not_quoted(hsm_ca, tmp_path):
    env = {os.fsencode(k): os.fsencode(v) for k, v in os.environ.items()}
    env[b"HSM_PIN"] = PIN_BYTES
    done = subprocess.run([QPKI, "crl", "gen", "--ca-dir", "ca"], cwd=tmp_path, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
                          check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert b"the PIN in the environment variable HSM_PIN is not valid UTF-8" in output
    for piece in (b"Zq7", b"Wk9", b"\xff", b"xff", b"udcff", b"\xed\xb3\xbf"):
        assert piece not in output, output


@pytest.mark.parametrize("name", ["Zq7 Wk9", "1SECRET", "A=B", "Zq7\x1b[2J", "Zq7-Wk9"])
def test_pin_env_must_be_a_variable_name(softhsm_token, qpki_cli, tmp_path, name):
    softhsm_token.write_config(tmp_path / "hsm.yaml", pin_env=name)
    result = qpki_cli("hsm", "test", "--hsm-config", "hsm.yaml")
    assert result.returncode == 1, result
    assert "pkcs11.pin_env must be the name of an environment variable" in result.stderr
    for piece in name.replace("=", " ").replace("\x1b[2J", " ").replace("-", " ").split():
        assert piece not in result.output, result
