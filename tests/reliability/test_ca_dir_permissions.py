"""Who may change a CA directory (issue 13, items 11 and 15).

Like OpenSSH with ~/.ssh: qpki refuses a CA or credential directory (or its
private/, certs/, crl/) that group or others can write or another user
owns; created directories do not depend on the umask; the lock file can
only be opened by the CA's owner, so a second local account (a real one,
run through setpriv) cannot block the CA with flock; and a symbolic link
planted among the directories and files qpki writes is refused.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from other_user import other_user, shared_dir  # noqa: F401  # pylint: disable=unused-import
from reliability_support import make_csr

ISSUE = ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", "a.csr",
         "--var", "cn=a.example.com"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _umask_zero() -> None:
    os.umask(0)


def _run_umask_zero(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    argv = [str(Path(sys.executable).parent / "qpki"), *args]
    return subprocess.run(argv, cwd=cwd, preexec_fn=_umask_zero, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def ca(qpki_cli, tmp_path: Path) -> Path:
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Perm Root", "--ca-dir",
             "ca", check=True)
    (tmp_path / "a.csr").write_bytes(make_csr("a.example.com"))
    return tmp_path / "ca"


def test_created_directories_ignore_a_zero_umask(tmp_path):
    done = _run_umask_zero("ca", "init", "--profile", "ec/root-ca", "--var", "cn=U",
                           "--ca-dir", "new/parents/ca", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    enrolled = _run_umask_zero("credential", "enroll", "--ca-dir", "new/parents/ca",
                               "--cred-dir", "fresh/creds", "--profile", "ec/tls-server",
                               "--var", "cn=u.example.com", "u",
                               cwd=tmp_path)
    assert enrolled.returncode == 0, enrolled.stderr
    ca = tmp_path / "new/parents/ca"
    expected = {tmp_path / "new": 0o755, tmp_path / "new/parents": 0o755, ca: 0o755,
                ca / "certs": 0o755, ca / "crl": 0o755, ca / "private": 0o700,
                ca / ".lock": 0o600, ca / "private/ca.ecdsa-p384.key": 0o600,
                tmp_path / "fresh": 0o755, tmp_path / "fresh/creds": 0o755,
                tmp_path / "fresh/creds/u": 0o755}
    found = {path: _mode(path) for path in expected}
    assert found == expected
    for path in ca.rglob("*"):  # nothing group- or world-writable anywhere
        assert not _mode(path) & 0o022, path


@pytest.mark.parametrize("where,mode", [("", 0o775), ("", 0o757), ("private", 0o770),
                                        ("certs", 0o777), ("crl", 0o775)])
def test_writable_by_group_or_others_is_refused(ca, qpki_cli, where, mode, tree_snapshot,
                                                diff_snapshots):
    target = ca / where if where else ca
    shown = f"ca/{where}" if where else "ca"  # as given on the command line
    os.chmod(target, mode)
    before = tree_snapshot(ca)
    result = qpki_cli(*ISSUE)
    assert result.returncode == 1, result
    assert result.stderr.count("\n") == 1
    assert f"refusing to use {shown}: mode {mode:04o} lets group or others write" \
        in result.stderr
    assert diff_snapshots(before, tree_snapshot(ca)) == []
    for read_only in (["ca", "info", "--ca-dir", "ca"], ["ca", "check", "--ca-dir", "ca"]):
        assert qpki_cli(*read_only).returncode == 1


def test_directory_of_another_user_is_refused(ca, qpki_cli, other_user, tree_snapshot,
                                              diff_snapshots):
    os.chown(ca / "private", other_user.uid, other_user.gid)
    before = tree_snapshot(ca)
    result = qpki_cli(*ISSUE)
    assert result.returncode == 1, result
    assert f"refusing to use ca/private: it belongs to uid {other_user.uid}" \
        in result.stderr
    os.chown(ca / "private", 0, 0)
    os.chown(ca, other_user.uid, other_user.gid)
    result = qpki_cli(*ISSUE)
    assert f"refusing to use ca: it belongs to uid {other_user.uid}" in result.stderr
    assert diff_snapshots(before, tree_snapshot(ca)) == []


HOLD_LOCK = """
import fcntl, os, sys, time
try:
    fd = os.open(sys.argv[1], os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError as exc:
    print("refused", exc.errno, flush=True)
    sys.exit(0)
print("locked", flush=True)
time.sleep(120)
"""


def test_another_user_cannot_take_the_lock(shared_dir, other_user, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Lock Root", "--ca-dir",
             "ca", cwd=shared_dir, check=True)
    (shared_dir / "a.csr").write_bytes(make_csr("a.example.com"))
    lock = shared_dir / "ca" / ".lock"
    assert _mode(lock) == 0o600
    holder = other_user.popen(sys.executable, "-c", HOLD_LOCK, str(lock),
                              stdout=subprocess.PIPE, text=True)
    try:
        said = holder.stdout.readline().split()
        assert said[:2] == ["refused", str(13)], said  # EACCES: cannot even open it
        result = qpki_cli(*ISSUE, "--out", "a.crt", cwd=shared_dir)
        assert result.returncode == 0, result
    finally:
        holder.kill()
        holder.wait(30)


def test_lock_file_of_an_older_qpki_is_tightened(ca, qpki_cli, other_user):
    lock = ca / ".lock"
    os.chmod(lock, 0o644)
    assert qpki_cli(*ISSUE).returncode == 0
    assert _mode(lock) == 0o600
    os.chown(lock, other_user.uid, other_user.gid)
    result = qpki_cli(*ISSUE)
    assert result.returncode == 1
    assert f"refusing to use lock file ca/.lock: it belongs to uid {other_user.uid}" \
        in result.stderr


@pytest.mark.parametrize("name", ["certs", "crl", "private"])
def test_symlinked_sub_directory_is_refused(ca, qpki_cli, tmp_path, name, tree_snapshot,
                                            diff_snapshots):
    outside = tmp_path / f"outside-{name}"
    (ca / name).rename(outside)
    os.chmod(outside, 0o700)
    (ca / name).symlink_to(outside)
    before = tree_snapshot(tmp_path)
    for argv in (ISSUE, ["crl", "gen", "--ca-dir", "ca"]):
        result = qpki_cli(*argv)
        assert result.returncode == 1, result
        assert f"refusing to use ca/{name}: it is a symbolic link" in result.stderr
    assert diff_snapshots(before, tree_snapshot(tmp_path)) == []


@pytest.mark.parametrize("name", ["index.txt", "audit.log", "private/ca.ecdsa-p384.key"])
def test_symlinked_file_is_refused(ca, qpki_cli, tmp_path, name, tree_snapshot,
                                   diff_snapshots):
    outside = tmp_path / "outside-file"
    (ca / name).rename(outside)
    (ca / name).symlink_to(outside)
    before = tree_snapshot(tmp_path)
    result = qpki_cli(*ISSUE)
    assert result.returncode == 1, result
    assert f"refusing to use ca/{name}: it is a symbolic link" in result.stderr
    assert diff_snapshots(before, tree_snapshot(tmp_path)) == []


def test_credential_root_writable_by_others_is_refused(ca, qpki_cli, tmp_path):
    (tmp_path / "creds").mkdir(mode=0o777)
    os.chmod(tmp_path / "creds", 0o777)
    result = qpki_cli("credential", "enroll", "--ca-dir", "ca", "--cred-dir", "creds",
                      "--profile", "ec/tls-server", "--var", "cn=c.example.com")
    assert result.returncode == 1, result
    assert "lets group or others write" in result.stderr
    assert list((tmp_path / "creds").iterdir()) == []
