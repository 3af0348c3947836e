"""tpm2-pkcs11 on a software TPM, through tpm2-abrmd on a private D-Bus bus.

Started in the test's temporary directory and stopped after:

1. ``swtpm socket --tpm2`` with its state in ``tpm/``, listening on a free
   local TCP port (``--flags not-need-init,startup-clear``: ready at once);
2. a private D-Bus session bus (``dbus-daemon --session --address
   unix:path=<dir>/bus``): tpm2-abrmd registers its name on that bus, not on
   the system bus;
3. ``tpm2-abrmd --session --tcti swtpm:...``, the resource manager: without
   it every PKCS#11 session holds TPM object slots and the (3-slot) TPM runs
   out after a few concurrent sessions;
4. ``tpm2_ptool init`` and ``addtoken`` with ``TPM2_PKCS11_STORE`` (the
   token's SQLite store) in the directory.

The library finds all of this from ``TPM2_PKCS11_TCTI``,
``TPM2_PKCS11_STORE`` and ``DBUS_SESSION_BUS_ADDRESS``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .token import RunningToken, checked

TOOLS = ("swtpm", "dbus-daemon", "tpm2-abrmd", "tpm2_ptool", "pkcs11-tool")
BUS_NAME = "com.intel.tss2.Tabrmd"


def tpm2_lib(multiarch: str) -> str:
    return "/usr/lib/%s/pkcs11/libtpm2_pkcs11.so" % multiarch


def tpm2_problem(multiarch: str) -> str | None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not Path(tpm2_lib(multiarch)).exists():
        missing.append("libtpm2_pkcs11.so")
    if missing:
        return "tpm2-pkcs11 tooling missing: %s (run scripts/setup.sh)" % ", ".join(missing)
    return None


def _free_port_pair() -> int:
    """A port p with p and p+1 free (swtpm's server and control channels)."""
    for _attempt in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of local TCP ports for swtpm")


def _wait_port(port: int, proc: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise RuntimeError("swtpm ended (exit %s)" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("swtpm does not listen on port %d" % port) from None
            time.sleep(0.05)


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def running_tpm2(workdir: Path, multiarch: str, label: str = "TPM-Token") -> Iterator[RunningToken]:
    procs: list[subprocess.Popen] = []
    state, store = workdir / "tpm", workdir / "store"
    state.mkdir()
    store.mkdir()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    try:
        port = _free_port_pair()
        swtpm = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", "dir=%s" % state,
             "--server", "type=tcp,port=%d,bindaddr=127.0.0.1" % port,
             "--ctrl", "type=tcp,port=%d,bindaddr=127.0.0.1" % (port + 1),
             "--flags", "not-need-init,startup-clear"], **quiet)
        procs.append(swtpm)
        _wait_port(port, swtpm)
        bus_address = "unix:path=%s" % (workdir / "bus")
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                                "--address", bus_address, "--print-address"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(bus)
        assert bus.stdout is not None
        bus_address = bus.stdout.readline().strip() or bus_address
        tcti = "tabrmd:bus_type=session,bus_name=%s" % BUS_NAME
        env = {"DBUS_SESSION_BUS_ADDRESS": bus_address, "TPM2_PKCS11_TCTI": tcti,
               "TPM2TOOLS_TCTI": tcti, "TPM2_PKCS11_STORE": str(store)}
        abrmd = subprocess.Popen(
            ["tpm2-abrmd", "--session", "--allow-root", "--dbus-name=%s" % BUS_NAME,
             "--tcti=swtpm:host=127.0.0.1,port=%d" % port],
            env=dict(os.environ, **env), **quiet)
        procs.append(abrmd)
        token = RunningToken(name="tpm2", lib=tpm2_lib(multiarch), label=label,
                             pin=secrets.token_hex(8), so_pin=secrets.token_hex(8),
                             workdir=workdir, env=env, prefix=[],
                             algorithms=("ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-3072"))
        _init_token(token, abrmd)
        yield token
    finally:
        _stop(procs)


def _init_token(token: RunningToken, abrmd: subprocess.Popen) -> None:
    store = token.env["TPM2_PKCS11_STORE"]
    deadline = time.monotonic() + 20
    while True:  # tpm2-abrmd takes a moment to own its bus name
        proc = token.run(["tpm2_ptool", "init", "--path", store])
        if proc.returncode == 0:
            break
        if abrmd.poll() is not None or time.monotonic() > deadline:
            checked(proc, "tpm2_ptool init (tpm2-abrmd exit %s)" % abrmd.poll())
        time.sleep(0.2)
    checked(token.run(["tpm2_ptool", "addtoken", "--pid=1", "--label=%s" % token.label,
                       "--sopin=%s" % token.so_pin, "--userpin=%s" % token.pin,
                       "--path", store]),
            "tpm2_ptool addtoken", token.pin, token.so_pin)
