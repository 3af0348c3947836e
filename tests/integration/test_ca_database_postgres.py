"""Issue 15, item 7 (first part): the CA database on a real PostgreSQL
server started by the test (postgres_server), chosen at ``ca init`` with
``--store-dsn-env``; the connection string, password included, is read
from the environment only and never written or shown."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from batch_support import csr as make_csr
from test_ca_database import openssl_status

VAR = "QPKI_TEST_DB"


@pytest.fixture
def pg_ca(pg_server, qpki_cli, tmp_path, request):
    name = "ca_" + request.node.name.split("[")[0][-40:].lower().replace("-", "_")
    dsn = pg_server.create_database(name)
    env = {VAR: dsn}
    made = qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=PG CA", "--ca-dir",
                    "ca", "--unencrypted-key", "--store-dsn-env", VAR, env=env)
    assert made.returncode == 0, made
    return tmp_path / "ca", env, dsn


def _rows(dsn: str) -> dict[str, tuple]:
    with psycopg.connect(dsn) as connection:
        return {serial: (status, reason, bytes(der) if der is not None else None)
                for serial, status, reason, der in connection.execute(
                    "SELECT serial, status, reason, der FROM certificates")}


def _issue(qpki_cli, tmp_path: Path, env: dict, host: str) -> str:
    (tmp_path / f"{host}.csr").write_bytes(make_csr(host))
    result = qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr",
                      f"{host}.csr", "--var", f"cn={host}", "--out", f"{host}.crt", "--json",
                      env=env)
    assert result.returncode == 0, result
    return result.json()["serial"]


def test_a_ca_on_postgresql_issues_revokes_and_lists(pg_ca, pg_server, qpki_cli, tmp_path):
    ca, env, dsn = pg_ca
    meta = (ca / "ca.meta.json").read_text()
    assert f'"dsn_env": "{VAR}"' in meta and not (ca / "ca.db").exists()
    serials = [_issue(qpki_cli, tmp_path, env, f"h{n}.example.com") for n in range(3)]
    revoked = qpki_cli("cert", "revoke", serials[1], "--ca-dir", "ca", "--reason",
                       "keyCompromise", env=env)
    assert revoked.returncode == 0, revoked
    rows = _rows(dsn)
    assert sorted(rows) == sorted(serials)
    assert rows[serials[1]][:2] == ("R", "keyCompromise")
    der = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "h0.example.com.crt"),
                          "-outform", "DER"], capture_output=True, check=True).stdout
    assert rows[serials[0]] == ("V", None, der)
    assert openssl_status(ca, serials[1]) == "Revoked (R)"
    assert openssl_status(ca, serials[2]) == "Valid (V)"
    assert qpki_cli("crl", "gen", "--ca-dir", "ca", env=env).returncode == 0
    crl = subprocess.run(["openssl", "crl", "-in", str(ca / "crl" / "ca.crl"), "-noout",
                          "-text"], capture_output=True, text=True, check=True).stdout
    assert serials[1] in crl and serials[0] not in crl
    listed = qpki_cli("cert", "list", "--ca-dir", "ca", "--status", "revoked", "--json",
                      env=env).json()
    assert [c["serial"] for c in listed["certificates"]] == [serials[1]]
    assert qpki_cli("audit", "verify", "--ca-dir", "ca", env=env).returncode == 0
    checked = qpki_cli("ca", "check", "--ca-dir", "ca", "--json", env=env).json()
    assert checked["valid"] and not checked["problems"], checked
    # The connection string and its password are nowhere in the CA directory.
    for path in ca.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert pg_server.password.encode() not in data and b"postgresql://" not in data, path


def test_a_wrong_or_missing_connection_gives_one_line_without_the_password(
        pg_ca, pg_server, qpki_cli, tmp_path, tree_snapshot, diff_snapshots):
    ca, env, dsn = pg_ca
    (tmp_path / "x.csr").write_bytes(make_csr("x.example.com"))
    issue = ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", "x.csr",
             "--var", "cn=x.example.com"]
    before = tree_snapshot(ca)
    wrong = dsn.replace(pg_server.password, "not-the-password-4711")
    for bad_env in ({VAR: wrong}, {VAR: None}, {VAR: "host=127.0.0.1 port=notaport"}):
        result = qpki_cli(*issue, env=bad_env)
        assert result.returncode != 0 and result.stderr.count("\n") == 1, result
        assert VAR in result.stderr and "not-the-password-4711" not in result.stderr
        assert pg_server.password not in result.stderr + result.stdout
    pg_server.stop()
    try:
        stopped = qpki_cli(*issue, env=env)
    finally:
        pg_server.start()
    assert stopped.returncode != 0 and stopped.stderr.count("\n") == 1, stopped
    assert pg_server.password not in stopped.stderr and "cannot connect" in stopped.stderr
    assert diff_snapshots(before, tree_snapshot(ca)) == []
    assert _issue(qpki_cli, tmp_path, env, "after.example.com") in _rows(dsn)


def test_a_database_holding_another_ca_is_refused(pg_ca, qpki_cli, tmp_path):
    dummy, env, dummy = pg_ca
    second = qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Other", "--ca-dir",
                      "other", "--unencrypted-key", "--store-dsn-env", VAR, env=env)
    assert second.returncode != 0 and "another CA" in second.stderr, second
    assert not (tmp_path / "other").exists()


PLAY = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: An issuing CA whose certificates live in PostgreSQL
      qpki.pki.qpki_ca:
        ca_dir: {ca}
        profile: ec/root-ca
        vars:
          cn: Play PG Root
        store_dsn_env: QPKI_PLAY_DB
        unencrypted_key: true
      environment:
        QPKI_PLAY_DB: "{{{{ lookup('ansible.builtin.env', 'TEST_DB') }}}}"
"""


def _play_twice(tmp_path: Path, play: str, **variables: str) -> list[subprocess.CompletedProcess]:
    repo = Path(__file__).resolve().parents[2]
    collections = tmp_path / "collections" / "ansible_collections" / "qpki"
    collections.mkdir(parents=True)
    (collections / "pki").symlink_to(repo)
    (tmp_path / "inventory").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    (tmp_path / "play.yml").write_text(play)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(tmp_path / "ansible-home"), QPKI_IN_PROCESS="0",
               PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", **variables)
    return [subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-v", "-i",
                            "inventory", "play.yml"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=600, check=False)
            for dummy in range(2)]


def _owner(dsn: str) -> str:
    with psycopg.connect(dsn) as connection:
        return connection.execute(
            "SELECT value FROM counters WHERE name = 'ca_certificate'").fetchone()[0]


def _der_sha256(cert: Path) -> str:
    der = subprocess.run(["openssl", "x509", "-in", str(cert), "-outform", "DER"],
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest().upper()


@pytest.mark.ansible
def test_qpki_ca_provisions_a_ca_on_postgresql(pg_server, tmp_path):
    dsn = pg_server.create_database("play")
    runs = _play_twice(tmp_path, PLAY.format(ca=tmp_path / "ca"), TEST_DB=dsn)
    for run in runs:
        assert run.returncode == 0, run.stdout[-3000:]
        assert pg_server.password not in run.stdout + run.stderr
    assert "changed=1" in runs[0].stdout and "changed=0" in runs[1].stdout
    assert '"dsn_env": "QPKI_PLAY_DB"' in (tmp_path / "ca" / "ca.meta.json").read_text()
    assert _owner(dsn) == _der_sha256(tmp_path / "ca" / "ca.crt")


ROLES_PLAY = """\
- hosts: localhost
  gather_facts: false
  roles:
    - role: qpki.pki.root_ca
      vars:
        root_ca_dir: {root}
        root_ca_store_dsn_env: QPKI_ROOT_DB
        root_ca_store_dsn: "{{{{ lookup('ansible.builtin.env', 'ROOT_DB') }}}}"
    - role: qpki.pki.intermediate_ca
      vars:
        intermediate_ca_dir: {issuing}
        intermediate_ca_parent_ca_dir: {root}
        intermediate_ca_parent_environment:
          QPKI_ROOT_DB: "{{{{ lookup('ansible.builtin.env', 'ROOT_DB') }}}}"
        intermediate_ca_store_dsn_env: QPKI_ISSUING_DB
        intermediate_ca_store_dsn: "{{{{ lookup('ansible.builtin.env', 'ISSUING_DB') }}}}"
"""


@pytest.mark.ansible
def test_the_roles_provision_a_root_and_an_issuing_ca_on_postgresql(pg_server, tmp_path):
    root_dsn, issuing_dsn = pg_server.create_database("roles_root"), \
        pg_server.create_database("roles_issuing")
    root, issuing = tmp_path / "root", tmp_path / "issuing"
    runs = _play_twice(tmp_path, ROLES_PLAY.format(root=root, issuing=issuing),
                       ROOT_DB=root_dsn, ISSUING_DB=issuing_dsn)
    for run in runs:
        assert run.returncode == 0, run.stdout[-3000:]
        assert pg_server.password not in run.stdout + run.stderr
    assert "changed=0" in runs[1].stdout and "failed=0" in runs[1].stdout
    for directory, variable, dsn in ((root, "QPKI_ROOT_DB", root_dsn),
                                     (issuing, "QPKI_ISSUING_DB", issuing_dsn)):
        meta = (directory / "ca.meta.json").read_text()
        assert f'"dsn_env": "{variable}"' in meta and pg_server.password not in meta
        assert not (directory / "ca.db").exists()
        assert _owner(dsn) == _der_sha256(directory / "ca.crt")
    # The root's database holds the issuing CA's certificate; the chain verifies.
    with psycopg.connect(root_dsn) as connection:
        fingerprints = [row[0] for row in connection.execute(
            "SELECT fingerprint FROM certificates")]
    assert fingerprints == [_der_sha256(issuing / "ca.crt")]
    verified = subprocess.run(["openssl", "verify", "-CAfile", str(root / "ca.crt"),
                               str(issuing / "ca.crt")], capture_output=True, text=True,
                              check=False)
    assert verified.returncode == 0, verified.stderr
