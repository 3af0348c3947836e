"""A second, unprivileged local account for the tests that play "another
user on the CA host" (issue 13, items 11 and 13).

The account ``qpki-other`` is created with ``useradd`` when it is missing
(the tests run as root, as CI does); commands run as it through
``setpriv`` with its uid, gid and no supplementary groups. The fixtures
``other_user`` and ``shared_dir`` are in this directory's conftest.py.
"""

from __future__ import annotations

import pwd
import subprocess

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
