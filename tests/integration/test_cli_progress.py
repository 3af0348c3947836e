"""Progress of long work on a terminal (issue 18, item 13): a batch
``cert issue --csr-dir`` (in one process and in workers) and ``crl gen``
draw progress bars on stderr when stderr is a terminal (a pseudo-terminal
here), and draw nothing when stderr is a pipe or with ``--json``; stdout
is the same either way."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from conftest import qpki_command

CSRS = 40


def run(args: list[str], cwd: Path, stderr_tty: bool) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``qpki args``; stderr is a
    pseudo-terminal of 100x24 when ``stderr_tty``, else a pipe. stdout is
    a pipe either way."""
    if not stderr_tty:
        proc = subprocess.run(qpki_command() + args, cwd=cwd, capture_output=True, text=True,
                              timeout=300, stdin=subprocess.DEVNULL, check=False)
        return proc.returncode, proc.stdout, proc.stderr
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(qpki_command() + args, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    terminal = bytearray()
    while True:  # read the terminal while the command runs, or it blocks on a full buffer
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer closed it
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    stdout = proc.stdout.read().decode() if proc.stdout else ""
    code = proc.wait(timeout=300)
    return code, stdout, terminal.decode(errors="replace")


@pytest.fixture
def batch_ca(qpki_cli, tmp_path: Path) -> Path:
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Progress", "--ca-dir", "ca",
             "--unencrypted-key", check=True)
    folder = tmp_path / "csrs"
    folder.mkdir()
    for number in range(CSRS):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"host{number}.example")])
        csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
        (folder / f"host{number}.csr").write_bytes(csr.public_bytes(Encoding.PEM))
    return tmp_path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_progress_only_on_a_terminal(batch_ca: Path, jobs: str):
    def issue(out: str, *extra: str, tty: bool) -> tuple[int, str, str]:
        return run(["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-client",
                    "--csr-dir", "csrs", "--out-dir", out, "--jobs", jobs, *extra],
                   batch_ca, stderr_tty=tty)

    code, stdout, terminal = issue("out-tty", tty=True)
    assert code == 0, terminal
    assert "signing certificates" in terminal
    assert f"/{CSRS} [" in terminal  # a bar with the batch's size
    assert "recording" in terminal
    assert len(list((batch_ca / "out-tty").glob("*.crt"))) == CSRS

    code, piped_stdout, stderr = issue("out-pipe", tty=False)
    assert code == 0 and stderr == ""
    # the same report on stdout, with and without a terminal on stderr
    assert piped_stdout.count("serial") == stdout.count("serial") > 0

    code, json_stdout, terminal = issue("out-json", "--json", tty=True)
    assert code == 0 and json_stdout.lstrip().startswith("{")
    assert "signing certificates" not in terminal and "%" not in terminal


def test_crl_gen_progress_only_on_a_terminal(batch_ca: Path):
    code, stdout, terminal = run(["cert", "issue", "--ca-dir", "ca", "--profile",
                                  "ec/tls-client", "--csr-dir", "csrs", "--out-dir", "out",
                                  "--json"], batch_ca, stderr_tty=False)
    assert code == 0
    for crt in sorted((batch_ca / "out").glob("*.crt"))[:5]:
        assert run(["cert", "revoke", "--cert", str(crt), "--ca-dir", "ca"], batch_ca,
                   stderr_tty=False)[0] == 0

    code, stdout, terminal = run(["crl", "gen", "--ca-dir", "ca"], batch_ca, stderr_tty=True)
    assert code == 0, terminal
    for stage in ("reading revocations", "CRL entries", "signing the CRL", "writing the CRL"):
        assert stage in terminal, (stage, terminal)
    assert "revoked count: 5" in stdout

    code, stdout, stderr = run(["crl", "gen", "--ca-dir", "ca"], batch_ca, stderr_tty=False)
    assert code == 0 and stderr == "" and "revoked count: 5" in stdout

    code, stdout, terminal = run(["crl", "gen", "--ca-dir", "ca", "--json"], batch_ca,
                                 stderr_tty=True)
    assert code == 0 and '"revoked_count": 5' in stdout
    assert terminal == ""
