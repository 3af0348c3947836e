"""SoftHSM2 with a private token directory (``SOFTHSM2_CONF``)."""

from __future__ import annotations

import secrets
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .token import RunningToken, checked

ALGORITHMS = ("ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-3072", "rsa-4096")


@contextmanager
def running_softhsm(workdir: Path, lib: str, label: str = "SoftHSM-Token") -> Iterator[RunningToken]:
    tokendir = workdir / "tokens"
    tokendir.mkdir(mode=0o700)
    conf = workdir / "softhsm2.conf"
    conf.write_text("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n"
                    % tokendir)
    token = RunningToken(name="softhsm2", lib=lib, label=label, pin=secrets.token_hex(8),
                         so_pin=secrets.token_hex(8), workdir=workdir,
                         env={"SOFTHSM2_CONF": str(conf)}, prefix=[], algorithms=ALGORITHMS)
    proc = subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label,
                           "--pin", token.pin, "--so-pin", token.so_pin],
                          env=token.environ(), capture_output=True, text=True, check=False)
    checked(proc, "softhsm2-util --init-token", token.pin, token.so_pin)
    yield token
