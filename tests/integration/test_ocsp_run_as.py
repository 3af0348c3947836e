"""``qpki ocsp serve --user``: started by root, the responder opens its key,
the CA's records and its socket, then answers as an unprivileged user (what
the ocsp_responder role's service does)."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from test_ocsp import Server, make_csr, openssl


@pytest.fixture
def world_readable_work(tmp_path):
    """A work directory the unprivileged user can reach (pytest's tmp_path
    is under a directory only root may enter)."""
    work = tempfile.mkdtemp(prefix="qpki-run-as-")
    os.chmod(work, 0o755)
    yield work
    shutil.rmtree(work)


def _uid_of(pid):
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("Uid:"))
    return {int(field) for field in line.split()[1:]}


def test_serve_as_a_user_gives_up_root_and_still_follows_the_store(world_readable_work, qpki_cli):
    work = Path(world_readable_work)
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Run-as Root", "--ca-dir", "root",
             cwd=work, check=True)
    made = qpki_cli("credential", "enroll", "--ca-dir", "root", "--cred-dir", "responders",
                    "--profile", "ec/ocsp-responder", "--var", "cn=Run-as Responder", "--json",
                    cwd=work, check=True).json()
    (work / "leaf.csr").write_bytes(make_csr("leaf.example.com"))
    qpki_cli("cert", "issue", "--ca-dir", "root", "--profile", "ec/tls-server", "--csr", "leaf.csr",
             "--var", "cn=leaf.example.com", "--out", "leaf.crt", cwd=work, check=True)
    leaf = "leaf.crt"
    args = ("--ca-dir", "root", "--responder", f"responders/{made['id']}", "--user", "nobody")
    if os.geteuid() != 0:
        refused = subprocess.run(
            [os.path.join(os.path.dirname(os.sys.executable), "qpki"), "ocsp", "serve",
             "--listen", "127.0.0.1:1", *args], cwd=work, capture_output=True, text=True, check=False)
        assert refused.returncode != 0 and "needs the responder to be started by root" \
            in refused.stderr, refused.stderr
        return
    server = Server(work, *args)
    try:
        assert _uid_of(server.proc.pid) == {65534}
        good = openssl("ocsp", "-url", server.url, "-issuer", "root/ca.crt", "-CAfile",
                       "root/ca.crt", "-cert", leaf, cwd=work)
        assert "Response verify OK" in good.stderr and f"{leaf}: good" in good.stdout, good.stderr
        qpki_cli("cert", "revoke", "--cert", leaf, "--ca-dir", "root", "--reason", "superseded",
                 cwd=work, check=True)
        revoked = openssl("ocsp", "-url", server.url, "-issuer", "root/ca.crt", "-CAfile",
                          "root/ca.crt", "-cert", leaf, cwd=work)
        assert f"{leaf}: revoked" in revoked.stdout, revoked.stdout + revoked.stderr
        assert server.proc.poll() is None
    finally:
        server.stop()


def test_serve_as_an_unknown_user_is_refused(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Run-as Root", "--ca-dir", "root",
             check=True)
    result = qpki_cli("ocsp", "serve", "--ca-dir", "root", "--listen", "127.0.0.1:1",
                      "--user", "no-such-user-qpki")
    assert result.returncode != 0
    assert "no user account named 'no-such-user-qpki'" in result.stderr
