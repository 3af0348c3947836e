"""A real PostgreSQL server for the tests, from Debian's package, in a
temporary directory: ``initdb`` with a password for the ``qpki`` role
(scram-sha-256 on 127.0.0.1), ``pg_ctl start`` on a free port, as the
``postgres`` user when the tests run as root (PostgreSQL refuses root)."""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    assert found, "PostgreSQL is not installed (scripts/setup.sh installs the postgresql package)"
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    base: Path
    port: int
    password: str
    as_user: list[str]

    def dsn(self, database: str = "postgres", password: str | None = None) -> str:
        return (f"postgresql://qpki:{self.password if password is None else password}"
                f"@127.0.0.1:{self.port}/{database}")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def pg_ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, str(_bin_dir() / "pg_ctl"), "-D",
                               str(self.base / "data"), *args], capture_output=True, text=True,
                              timeout=120, check=False)

    def start(self) -> None:
        proc = self.pg_ctl("-w", "-l", str(self.base / "server.log"), "-o",
                           f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1",
                           "start")
        assert proc.returncode == 0, proc.stdout + proc.stderr + self.log()

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def log(self) -> str:
        try:
            return (self.base / "server.log").read_text()[-2000:]
        except OSError:
            return ""


def start_server() -> PostgresServer:
    base = Path(tempfile.mkdtemp(prefix="qpki-pg-", dir="/tmp"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    password = secrets.token_urlsafe(18)
    pwfile = base / "pw"
    pwfile.write_text(password + "\n")
    if as_user:
        os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
    proc = subprocess.run([*as_user, str(_bin_dir() / "initdb"), "-D", str(base / "data"),
                           "-U", "qpki", f"--pwfile={pwfile}", "--auth=scram-sha-256",
                           "--no-sync"], capture_output=True, text=True, timeout=180, check=False)
    pwfile.unlink()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    server = PostgresServer(base, _free_port(), password, as_user)
    server.start()
    return server


def remove_server(server: PostgresServer) -> None:
    server.pg_ctl("-m", "immediate", "-w", "stop")
    shutil.rmtree(server.base, ignore_errors=True)
