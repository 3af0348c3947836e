"""Issue 15, item 7: two issuers, each in its own working directory, share
one CA: its key in one SoftHSM2 token, its truth in one PostgreSQL database
(a real server, postgres_server). Each directory's files (certs/,
index.txt, audit.log) are made from the database, and a SIGKILL of an
issuer loses nothing committed and leaves nothing half-done."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from batch_support import ec_csr_dir
from conftest import qpki_command
from test_ca_database import openssl_status

VAR = "QPKI_SHARED_DB"
WRITE_LOCK = 0x71706B69  # store.cert_db_postgres: every write transaction takes it
PER_ISSUER = 500


@pytest.fixture
def shared(pg_server, softhsm_token, qpki_cli, tmp_path):
    """Working directory a (made by ca init) and b (given only ca.meta.json
    and ca.crt, as an operator copies them to a second host)."""
    dsn = pg_server.create_database("shared_" + uuid.uuid4().hex[:12])
    env = {VAR: dsn}
    softhsm_token.write_config(tmp_path / "hsm.yaml")
    softhsm_token.keygen(label="issuing-key", key_id="01")
    qpki_cli("ca", "init", "--hsm-config", "hsm.yaml", "--key-label", "issuing-key", "--profile",
             "ec/root-ca", "--var", "cn=Shared CA", "--ca-dir", "a", "--store-dsn-env", VAR,
             env=env, check=True)
    (tmp_path / "b").mkdir()
    for name in ("ca.meta.json", "ca.crt"):
        shutil.copy2(tmp_path / "a" / name, tmp_path / "b" / name)
    return tmp_path / "a", tmp_path / "b", env, dsn


def _start_batch(tmp_path: Path, directory: str, env: dict, count: int) -> subprocess.Popen:
    ec_csr_dir(tmp_path / f"csr-{directory}-{count}", directory, count)
    # Each issuer as on a host of its own: its own runtime directory, so
    # its own token lock (hsm/token_lock.py); they sign at the same time.
    runtime = tmp_path / f"run-{directory}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return subprocess.Popen(
        qpki_command() + ["cert", "issue", "--ca-dir", directory, "--profile", "ec/tls-server",
                          "--csr-dir", f"csr-{directory}-{count}", "--out-dir",
                          f"out-{directory}-{count}"],
        cwd=tmp_path, env={**os.environ, **env, "XDG_RUNTIME_DIR": str(runtime)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def _db_serials(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as connection:
        return [serial for (serial,) in connection.execute("SELECT serial FROM certificates")]


def _audit_ops(directory: Path) -> list[str]:
    import json

    return [json.loads(line)["op"] for line in (directory / "audit.log").read_text().splitlines()]


def _issued_serials(directory: Path) -> list[str]:
    import json

    return [record["serial"] for record in map(json.loads, (directory / "audit.log")
                                               .read_text().splitlines())
            if record["op"] == "cert.issue"]


def _verified(qpki_cli, directory: Path, env: dict) -> dict:
    verified = qpki_cli("audit", "verify", "--ca-dir", directory, "--json", env=env)
    assert verified.returncode == 0, verified
    result = verified.json()
    assert result["valid"], result
    checked = qpki_cli("ca", "check", "--ca-dir", directory, "--json", env=env)
    assert checked.returncode == 0 and checked.json()["valid"], checked
    assert not checked.json()["repaired"], checked
    return result


def _wait_for_waiters(holder: psycopg.Connection, batches: list[subprocess.Popen],
                      count: int) -> None:
    """Until ``count`` sessions wait for the write lock ``holder`` holds
    (the batches exit on their own if they never get there)."""
    while holder.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                         "NOT granted").fetchone()[0] < count:
        for batch in batches:
            assert batch.poll() is None, batch.communicate()
        time.sleep(0.01)


def test_two_issuers_issue_500_each_at_once(shared, qpki_cli, tmp_path):
    a, b, env, dsn = shared
    # Both sign at once; the test holds the write lock until both wait for
    # it, so their commits meet too.
    with psycopg.connect(dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
        batches = [_start_batch(tmp_path, name, env, PER_ISSUER) for name in ("a", "b")]
        _wait_for_waiters(holder, batches, 2)
        holder.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))
    for batch in batches:
        out, err = batch.communicate(timeout=600)
        assert batch.returncode == 0, err
    serials = _db_serials(dsn)
    assert len(serials) == 2 * PER_ISSUER == len(set(serials))
    heads = [_verified(qpki_cli, directory, env)["head"] for directory in (a, b)]
    assert heads[0] == heads[1]
    for directory in (a, b):
        assert sorted(_issued_serials(directory)) == sorted(serials)
        assert _audit_ops(directory)[0] == "ca.init"
        assert sorted(p.stem for p in (directory / "certs").glob("*.crt")) == sorted(serials)
        lines = (directory / "index.txt").read_text().splitlines()
        assert sorted(line.split("\t")[3] for line in lines) == sorted(serials)
    # One chain, one index layout: the two copies are the same bytes.
    assert (a / "audit.log").read_bytes() == (b / "audit.log").read_bytes()
    assert (a / "index.txt").read_bytes() == (b / "index.txt").read_bytes()
    for serial in serials[:3] + serials[-3:]:
        cert = (a / "certs" / f"{serial}.crt").read_bytes()
        assert (b / "certs" / f"{serial}.crt").read_bytes() == cert
        verified = subprocess.run(["openssl", "verify", "-CAfile", str(a / "ca.crt"),
                                   str(b / "certs" / f"{serial}.crt")], capture_output=True,
                                  text=True, check=False)
        assert verified.returncode == 0, verified.stderr
        assert openssl_status(b, serial) == "Valid (V)"
    # A revocation made from b is seen from a at once, and in its files
    # after a's next command.
    assert qpki_cli("cert", "revoke", serials[0], "--ca-dir", b, "--reason", "keyCompromise",
                    env=env).returncode == 0
    info = qpki_cli("cert", "info", serials[0], "--ca-dir", a, "--json", env=env).json()
    assert info["status"] == "revoked", info
    assert qpki_cli("crl", "gen", "--ca-dir", a, env=env).returncode == 0
    crl = subprocess.run(["openssl", "crl", "-in", str(a / "crl" / "ca.crl"), "-noout", "-text"],
                         capture_output=True, text=True, check=True).stdout
    assert serials[0] in crl
    assert openssl_status(a, serials[0]) == "Revoked (R)"
    heads = [_verified(qpki_cli, directory, env)["head"] for directory in (a, b)]
    assert heads[0] == heads[1]


def _wait_for_rows(dsn: str, more_than: int, process: subprocess.Popen) -> None:
    """Until the database holds more than ``more_than`` rows (the process
    commits once, then exits: a wait that cannot last)."""
    while len(_db_serials(dsn)) <= more_than:
        assert process.poll() is None, process.communicate()
        time.sleep(0.005)


def test_an_issuer_killed_right_after_its_commit_loses_nothing(shared, qpki_cli, tmp_path):
    a, b, env, dsn = shared
    batch = _start_batch(tmp_path, "a", env, 200)
    _wait_for_rows(dsn, 0, batch)
    batch.send_signal(signal.SIGKILL)
    batch.wait()
    serials = _db_serials(dsn)
    assert len(serials) == 200  # one transaction: all of the batch or none
    # The next ordinary command in a writes what the dead one did not.
    assert qpki_cli("crl", "gen", "--ca-dir", a, env=env).returncode == 0
    for directory in (a, b):
        result = _verified(qpki_cli, directory, env)
        assert sorted(_issued_serials(directory)) == sorted(serials), result
        assert sorted(p.stem for p in (directory / "certs").glob("*.crt")) == sorted(serials)
    assert (a / "audit.log").read_bytes() == (b / "audit.log").read_bytes()


def test_an_issuer_killed_before_its_commit_leaves_nothing(shared, qpki_cli, tmp_path):
    a, b, env, dsn = shared
    # The test holds the database's write lock, so the batch signs
    # everything and then waits for it, before its commit: killed there.
    with psycopg.connect(dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
        batch = _start_batch(tmp_path, "a", env, 300)
        _wait_for_waiters(holder, [batch], 1)
        staged = [p.name for p in (a / "certs").iterdir()]
        batch.send_signal(signal.SIGKILL)
        batch.wait()
        holder.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))
    assert len(staged) == 300 and not any(name.endswith(".crt") for name in staged)
    assert _db_serials(dsn) == []
    assert list((a / "certs").glob("*.crt")) == []
    # b issues meanwhile; a's next command works; nothing of the dead batch
    # is recorded anywhere.
    assert _start_batch(tmp_path, "b", env, 20).wait(timeout=300) == 0
    assert qpki_cli("crl", "gen", "--ca-dir", a, env=env).returncode == 0
    serials = _db_serials(dsn)
    assert len(serials) == 20
    for directory in (a, b):
        assert sorted(_issued_serials(directory)) == sorted(serials)
        checked = qpki_cli("audit", "verify", "--ca-dir", directory, "--json", env=env).json()
        assert checked["valid"], checked
    # What the kill left are the staged temporary files, which ca check
    # names and --repair removes (as on SQLite).
    problems = qpki_cli("ca", "check", "--ca-dir", a, "--json", env=env).json()["problems"]
    assert len(problems) == 300 and all("orphan temporary file" in p for p in problems)
    assert qpki_cli("ca", "check", "--ca-dir", a, "--repair", env=env).returncode == 0
    assert sorted(p.stem for p in (a / "certs").iterdir()) == sorted(serials)


def test_an_edited_index_is_refused_then_written_again(shared, qpki_cli, tmp_path):
    a, b, env, dsn = shared
    assert _start_batch(tmp_path, "a", env, 3).wait(timeout=300) == 0
    serial = _db_serials(dsn)[0]
    index = a / "index.txt"
    index.write_text(index.read_text().replace("V\t", "R\t", 1))
    refused = qpki_cli("crl", "gen", "--ca-dir", a, env=env)
    assert refused.returncode != 0 and "changed outside qpki" in refused.stderr, refused
    assert len(refused.stderr.strip().splitlines()) == 1
    repaired = qpki_cli("ca", "check", "--ca-dir", a, "--repair", "--json", env=env).json()
    assert repaired["repaired"], repaired
    assert openssl_status(a, serial) == "Valid (V)"
    assert qpki_cli("crl", "gen", "--ca-dir", a, env=env).returncode == 0
    # A lost copy is made again, the same bytes as the other directory's.
    assert qpki_cli("crl", "gen", "--ca-dir", b, env=env).returncode == 0
    (b / "index.txt").unlink()
    assert qpki_cli("crl", "gen", "--ca-dir", b, env=env).returncode == 0
    assert (b / "index.txt").read_bytes() == index.read_bytes()


def test_a_log_with_a_record_the_database_lacks_is_refused(shared, qpki_cli, tmp_path):
    """A record appended to one directory's audit.log behind qpki's back is
    not in the database's chain: that directory's next change and its audit
    verify say so in one line, and nothing is signed there."""
    import json

    from qpki.store import audit as store_audit

    a, b, env, dsn = shared
    assert _start_batch(tmp_path, "b", env, 2).wait(timeout=300) == 0
    lines = (b / "audit.log").read_text().splitlines()
    last = json.loads(lines[-1])
    forged = store_audit.seal({"time": last["time"], "op": "cert.revoke", "serial": "01"},
                              last["seq"] + 1, last["hash"])
    with open(b / "audit.log", "ab") as log:
        log.write(store_audit.line_bytes(forged))
    before = _db_serials(dsn)
    refused = qpki_cli("crl", "gen", "--ca-dir", b, env=env)
    assert refused.returncode != 0, refused
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "audit.log" in refused.stderr and "more than the CA database's chain" in refused.stderr
    verdict = qpki_cli("audit", "verify", "--ca-dir", b, "--json", env=env).json()
    assert not verdict["valid"] and "more than the CA database's chain" in verdict["reason"]
    assert not (b / "crl" / "ca.crl").exists() and _db_serials(dsn) == before
    # The other directory is not affected.
    assert qpki_cli("crl", "gen", "--ca-dir", a, env=env).returncode == 0
