"""openCryptoki's software token, its slot daemon in a private mount namespace.

openCryptoki 3.8 (Debian 12) has its paths compiled in: the slot daemon
``pkcsslotd`` reads /etc/opencryptoki/opencryptoki.conf and listens on
/run/pkcsslotd.socket, the library locks /run/lock/opencryptoki, and the
soft token keeps its objects in /var/lib/opencryptoki/swtok. None of them
can be moved by an option or variable, so the daemon and every program
that talks to it run in a mount namespace (``unshare --mount``, root)
where those directories are bind mounts of the test's temporary directory
and /dev/shm is a private tmpfs, and in a private IPC namespace
(``--ipc``): the daemon and the library share System V shared memory,
and two instances started side by side (pytest-xdist workers) otherwise
meet in it (C_Initialize then fails with CKR_HOST_MEMORY). The host's
openCryptoki state is never touched.

Token set-up (the soft token's rules): the SO PIN starts as 87654321 and
both PINs are flagged "to be changed"; PINs are 4 to 8 characters.
``C_InitToken`` with the default SO PIN, then the SO PIN changed, the user
PIN initialised by the SO and changed once by the user.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .token import RunningToken, checked

SLOT = 0
DEFAULT_SO_PIN = "87654321"
LIB_NAME = "libopencryptoki.so"

_NAMESPACE_SCRIPT = """set -e
mount --bind "$1/etc" /etc/opencryptoki
mount --bind "$1/lib" /var/lib/opencryptoki
mount --bind "$1/run" /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
touch "$1/ready"
exec sleep 86400
"""


def opencryptoki_lib(multiarch: str) -> str:
    return "/usr/lib/%s/pkcs11/%s" % (multiarch, LIB_NAME)


def opencryptoki_problem(multiarch: str) -> str | None:
    """Why openCryptoki cannot be started here, or None."""
    missing = [tool for tool in ("pkcsslotd", "unshare", "nsenter", "pkcs11-tool")
               if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists()]
    if not Path(opencryptoki_lib(multiarch)).exists():
        missing.append(LIB_NAME)
    if missing:
        return "openCryptoki tooling missing: %s (run scripts/setup.sh)" % ", ".join(missing)
    if os.geteuid() != 0:
        return "openCryptoki's daemon needs root here (its paths are fixed; a mount namespace moves them)"
    return None


def _layout(workdir: Path) -> None:
    import grp

    group = grp.getgrnam("pkcs11").gr_gid
    (workdir / "etc").mkdir()
    (workdir / "etc" / "opencryptoki.conf").write_text(
        "version opencryptoki-3.1\nslot %d\n{\nstdll = libpkcs11_sw.so\n}\n" % SLOT)
    for sub in ("lib", "lib/swtok", "lib/swtok/TOK_OBJ", "run", "run/lock",
                "run/lock/opencryptoki"):
        path = workdir / sub
        path.mkdir()
        os.chown(path, 0, group)
        path.chmod(0o770)


def _wait_for(path: Path, what: str, proc: subprocess.Popen | None = None, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s: process ended (exit %s)" % (what, proc.returncode))
        if time.monotonic() > deadline:
            raise RuntimeError("%s: %s did not appear" % (what, path))
        time.sleep(0.05)


@contextmanager
def running_opencryptoki(workdir: Path, multiarch: str, label: str = "OCK-Token") -> Iterator[RunningToken]:
    _layout(workdir)
    holder = subprocess.Popen(["unshare", "--mount", "--ipc", "--propagation", "private", "sh", "-c",
                               _NAMESPACE_SCRIPT, "sh", str(workdir)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(workdir / "ready", "mount namespace for openCryptoki", holder)
        prefix = ["nsenter", "-t", str(holder.pid), "--mount", "--ipc", "--wd=%s" % workdir, "--"]
        checked(subprocess.run(prefix + ["pkcsslotd"], capture_output=True, text=True, check=False),
                "pkcsslotd")
        _wait_for(workdir / "run" / "pkcsslotd.socket", "pkcsslotd")
        pin, so_pin = secrets.token_hex(4), secrets.token_hex(4)
        token = RunningToken(name="opencryptoki", lib=opencryptoki_lib(multiarch), label=label,
                             pin=pin, so_pin=so_pin, workdir=workdir, env={}, prefix=prefix,
                             algorithms=("rsa-2048", "rsa-3072", "rsa-4096"))
        _init_token(token)
        yield token
    finally:
        _stop(holder)


def _init_token(token: RunningToken) -> None:
    tool = ["pkcs11-tool", "--module", token.lib, "--slot", str(SLOT)]
    first_pin = secrets.token_hex(4)
    steps = [
        (["--init-token", "--label", token.label, "--so-pin", DEFAULT_SO_PIN], "init token"),
        (["--login", "--login-type", "so", "--so-pin", DEFAULT_SO_PIN, "--change-pin",
          "--new-pin", token.so_pin], "change SO PIN"),
        (["--login", "--login-type", "so", "--so-pin", token.so_pin, "--init-pin",
          "--new-pin", first_pin], "init user PIN"),
        (["--login", "--pin", first_pin, "--change-pin", "--new-pin", token.pin], "change user PIN"),
    ]
    for args, what in steps:
        checked(token.run(tool + args), "openCryptoki " + what, token.pin, token.so_pin, first_pin)


def _namespace_processes(holder: subprocess.Popen) -> list[int]:
    """PIDs of the processes in the holder's mount namespace, the holder
    excepted (the slot daemon and anything a test left running there)."""
    try:
        namespace = os.readlink("/proc/%d/ns/mnt" % holder.pid)
    except OSError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == holder.pid:
            continue
        try:
            if os.readlink(entry / "ns" / "mnt") == namespace:
                found.append(int(entry.name))
        except OSError:
            continue  # ended meanwhile, or not ours to read
    return found


def _stop(holder: subprocess.Popen) -> None:
    """End the slot daemon (pkcsslotd forks away from us, so it is found by
    its namespace rather than as a child) and then the namespace holder."""
    for pid in _namespace_processes(holder):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        alive = [pid for pid in _namespace_processes(holder)
                 if Path("/proc/%d/status" % pid).exists()
                 and "State:\tZ" not in Path("/proc/%d/status" % pid).read_text()]
        if not alive:
            break
        time.sleep(0.05)
    else:
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    holder.terminate()
    try:
        holder.wait(timeout=10)
    except subprocess.TimeoutExpired:
        holder.kill()
        holder.wait()
