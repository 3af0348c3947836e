"""Issue 15, item 8: the SIGKILL harness of test_crash on a CA whose database
is on a PostgreSQL server (a real one, postgres_server). A commit sent to
the server is a durable step of the child's log (crash_phases), so kills
land before, at and after it; after each, ``ca check`` must see what the
kill left and ``--repair`` fix it, and the next command must work. CA
creation is not drawn: one database holds one CA."""

from __future__ import annotations

import os
import random
import uuid

import pytest

from test_crash import SEED, Harness, _run_main, sigkill_at_random_points, \
    sigkill_before_each_durable_step

VAR = "QPKI_CRASH_DB"
KINDS = {"issue": 50, "revoke": 25, "crl": 25}
RUNS = int(os.environ.get("QPKI_CRASH_PG_RUNS", "80"))


@pytest.fixture
def pg_harness(pg_server, tmp_path, monkeypatch):
    from qpki.ops.ca.commands import ca_init

    monkeypatch.setenv(VAR, pg_server.create_database("crash_" + uuid.uuid4().hex[:12]))
    (tmp_path / "csr").mkdir()
    ca_init(str(tmp_path / "ca"), "ec/root-ca", {"cn": "Crash Test Root"}, store_dsn_env=VAR)
    harness = Harness(tmp_path, random.Random(SEED), kinds=KINDS)
    harness.settle = lambda: _copy_shared_changes(harness.ca)
    for kind in ("issue", "issue", "revoke", "crl"):  # warm up: children inherit the imports
        code, err = _run_main(harness.command(kind), tmp_path)
        assert code == 0, err
    from qpki.ops.audit import trail  # noqa: F401
    from qpki.ops.ca import check  # noqa: F401
    return harness


def _copy_shared_changes(ca) -> None:
    from qpki.store.ca_dir import CaDir
    from qpki.store.cert_store import write_store
    from qpki.store.lock import ca_lock

    with ca_lock(str(ca)), write_store(CaDir(str(ca))) as store:
        store.copy_changes()


@pytest.mark.parametrize("kind", list(KINDS))
def test_sigkill_before_each_durable_step_on_postgresql(pg_harness, kind):
    sigkill_before_each_durable_step(pg_harness, kind)
    assert "commit postgresql" in pg_harness.traces[kind]


def test_sigkill_at_random_points_on_postgresql(pg_harness, record_property):
    sigkill_at_random_points(pg_harness, RUNS, record_property)
