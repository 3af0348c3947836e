"""A second, unprivileged local account for the tests that play "another
user on the CA host" (issue 13, items 11 and 13).

The account ``qpki-other`` is created with ``useradd`` when it is missing
(the tests run as root, as CI does); commands run as it through
``setpriv`` with its uid, gid and no supplementary groups. Test modules
import the fixtures ``other_user`` and ``shared_dir`` from here (a
conftest.py in this directory would shadow the top-level one, which these
tests import by name).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

NAME = "qpki-other"


class OtherUser:
    def __init__(self, entry: pwd.struct_passwd) -> None:
        self.name = entry.pw_name
        self.uid = entry.pw_uid
        self.gid = entry.pw_gid

    def argv(self, *command: str) -> list[str]:
        """``command`` run as this user (setpriv: uid, gid, no groups)."""
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
                "--", *command]

    @staticmethod
    def environment(**extra: str) -> dict[str, str]:
        """A minimal environment (nothing of root's), plus ``extra``."""
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent",
                "LANG": "C.UTF-8", **extra}

    def popen(self, *command: str, env: dict[str, str] | None = None,
              **kw) -> subprocess.Popen:
        return subprocess.Popen(self.argv(*command), env=env or self.environment(), **kw)

    def run(self, *command: str, env: dict[str, str] | None = None,
            **kw) -> subprocess.CompletedProcess:
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 120)
        return subprocess.run(self.argv(*command), env=env or self.environment(), check=False,
                              **kw)


def account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(NAME)
    except KeyError:
        pass
    done = subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                           "/usr/sbin/nologin", NAME], capture_output=True, text=True,
                          check=False)
    if done.returncode not in (0, 9):  # 9: created meanwhile by a parallel test
        raise RuntimeError(f"useradd {NAME} failed: {done.stderr.strip()}")
    return pwd.getpwnam(NAME)


IN_CI = (os.environ.get("CI") or "").strip().lower() in {"1", "true", "yes", "on"}


@pytest.fixture
def other_user() -> OtherUser:
    """The second account (created when missing); skipped without root on a
    developer machine, a failure in CI, like the HSM tests."""
    problem = None
    if os.geteuid() != 0:
        problem = "needs root to create and switch to a second user"
    elif not shutil.which("setpriv") or not shutil.which("useradd"):
        problem = "needs setpriv and useradd (util-linux, passwd)"
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)
    return OtherUser(account())


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A 0755 directory under /tmp (every user can reach it; pytest's own
    tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="qpki-shared-", dir="/tmp"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
