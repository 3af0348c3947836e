"""Where a killed qpki process was when it died: a log of its durable steps.

A crash test that kills at a random moment proves nothing about the moments
it claims to cover unless it knows where each kill landed. Here the process
under test records, in a file of its own, every durable step it completes:
each ``os.replace`` / ``os.rename`` that puts a file or directory in place,
each ``os.fsync`` / ``os.fdatasync`` (the audit log's append, the audit
journal, directory flushes, index lines written in place) and each commit
of the CA database (``sqlite3``, or a PostgreSQL server's). A line is
written with one ``os.write`` after the step returns, to a file opened
``O_APPEND``, so a SIGKILL can never leave a step logged that did not
happen. ``kill_before=N`` makes the process SIGKILL itself just before its
N-th step: a kill that lands exactly there, whatever the machine's speed.

``install`` runs inside the process under test: in a forked child before it
calls ``qpki.cli.main.main``, or from a ``sitecustomize`` module in a real
``qpki`` process (``sitecustomize_dir``). Only the test's process is
instrumented; qpki's code is unchanged.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import sqlite3
import time
from pathlib import Path

LOG_ENV = "QPKI_TEST_STEP_LOG"
KILL_ENV = "QPKI_TEST_KILL_BEFORE"


@dataclasses.dataclass(frozen=True)
class Step:
    number: int
    kind: str  # replace, rename, fsync
    target: str  # path of the file or directory
    at: float  # time.monotonic() when it completed

    @property
    def label(self) -> str:
        """The step without what differs between two runs of one command:
        serial numbers, temporary and staging suffixes, numbers in names
        (the harness names its CAs r1, r2...)."""
        name = re.sub(r"\.tmp-[0-9a-z]+$", ".tmp", os.path.basename(self.target.rstrip("/")))
        name = re.sub(r"^[0-9A-F]{16,40}\.crt$", "<serial>.crt", name)
        name = re.sub(r"\.init-[0-9a-z_]+$", ".init", name)
        return f"{self.kind} {re.sub(r'[0-9]+', 'N', name)}"


def install(log_path: str, kill_before: int | None = None,
            first_step_fd: int | None = None) -> None:
    """Log every durable step of this process to ``log_path``; with
    ``kill_before``, SIGKILL this process just before that step (1-based);
    with ``first_step_fd``, write a byte there once the first step is done."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    done = [0]

    def about_to_step() -> None:
        if kill_before is not None and done[0] + 1 == kill_before:
            os.kill(os.getpid(), signal.SIGKILL)

    def logged(kind: str, target: str) -> None:
        done[0] += 1
        os.write(fd, f"{done[0]} {kind} {time.monotonic():.6f} {target}\n".encode())
        if done[0] == 1 and first_step_fd is not None:
            os.write(first_step_fd, b"1")

    def wrap_move(kind: str, real):
        def move(src, dst, *args, **kwargs):
            about_to_step()
            result = real(src, dst, *args, **kwargs)
            logged(kind, os.fspath(dst))
            return result
        return move

    def wrap_flush(real):
        def flush(fd_or_file):
            number = fd_or_file if isinstance(fd_or_file, int) else fd_or_file.fileno()
            try:
                target = os.readlink(f"/proc/self/fd/{number}")
            except OSError:
                target = "?"
            if number == fd:  # never our own log
                return real(fd_or_file)
            about_to_step()
            result = real(fd_or_file)
            logged("fsync", target)
            return result
        return flush

    class LoggedConnection(sqlite3.Connection):
        """A database commit is a durable step too (the CA database's)."""

        path = "?"

        def execute(self, sql, *args):
            if sql.strip().upper() != "COMMIT":
                return super().execute(sql, *args)
            about_to_step()
            result = super().execute(sql, *args)
            logged("commit", self.path)
            return result

    real_connect = sqlite3.connect

    def connect(database, *args, **kwargs):
        kwargs.setdefault("factory", LoggedConnection)
        connection = real_connect(database, *args, **kwargs)
        connection.path = os.path.abspath(os.fspath(database))
        return connection

    sqlite3.connect = connect
    _log_postgresql_commits(about_to_step, logged)
    os.replace = wrap_move("replace", os.replace)
    os.rename = wrap_move("rename", os.rename)
    os.fsync = wrap_flush(os.fsync)
    os.fdatasync = wrap_flush(os.fdatasync)  # the audit journal (audit.pending)


def _log_postgresql_commits(about_to_step, logged) -> None:
    """A commit sent to a PostgreSQL server (``commit postgresql``)."""
    try:
        import psycopg
    except ImportError:
        return
    real_execute = psycopg.Connection.execute

    def execute(self, query, *args, **kwargs):
        if not isinstance(query, str) or query.strip().upper() != "COMMIT":
            return real_execute(self, query, *args, **kwargs)
        about_to_step()
        result = real_execute(self, query, *args, **kwargs)
        logged("commit", "postgresql")
        return result

    psycopg.Connection.execute = execute


def install_from_environment() -> None:
    """``install`` as the environment asks (a real qpki process)."""
    log_path = os.environ.get(LOG_ENV)
    if log_path:
        kill = os.environ.get(KILL_ENV)
        install(log_path, int(kill) if kill else None)


def read(log_path: str | os.PathLike) -> list[Step]:
    """The steps a process logged (none if it never got to one)."""
    path = Path(log_path)
    if not path.exists():
        return []
    steps = []
    for line in path.read_text().splitlines():
        number, kind, at, target = line.split(" ", 3)
        steps.append(Step(int(number), kind, target, float(at)))
    assert [s.number for s in steps] == list(range(1, len(steps) + 1)), steps
    return steps


def sitecustomize_dir(folder: Path) -> Path:
    """A directory to put first on PYTHONPATH: its sitecustomize installs the
    step log in any Python process started with QPKI_TEST_STEP_LOG set."""
    folder.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent
    (folder / "sitecustomize.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(here)!r})\n"
        "import crash_phases\n"
        "crash_phases.install_from_environment()\n"
        "del sys.path[0]\n")
    return folder


def phase(done: int, total: int, finished: bool) -> str:
    """Where a run stopped: ``finished``; ``before-writes`` (start-up,
    parsing, checking, signing); ``mid-write`` (some of its durable steps
    done, not all); ``after-writes`` (all done, only output and exit left)."""
    if finished:
        return "finished"
    if done == 0:
        return "before-writes"
    return "mid-write" if done < total else "after-writes"
