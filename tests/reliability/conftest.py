"""Fixtures of the reliability tests that play a second local user."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from other_user import OtherUser, account

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
