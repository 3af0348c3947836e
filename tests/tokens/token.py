"""What the HSM matrix tests need to know about one running token.

Each implementation (SoftHSM2, openCryptoki, tpm2-pkcs11 on swtpm) is
started in a private temporary directory by its own module here; all of
them hand back a :class:`RunningToken`, so one test body runs on each.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml


@dataclasses.dataclass
class RunningToken:
    """An initialised token with a user PIN, reachable through ``lib``.

    ``env`` holds the variables the library needs to find this token (its
    configuration, store or TPM connection); ``prefix`` is the argv prefix
    that runs a command where the token is visible (openCryptoki's daemon
    lives in a private mount namespace; the others need none).
    """

    name: str
    lib: str
    label: str
    pin: str
    so_pin: str
    workdir: Path
    env: dict[str, str]
    prefix: list[str]
    # Registry algorithms this implementation can generate and sign with, as
    # found by hand with its own tools (the expectation the tests hold qpki to).
    algorithms: tuple[str, ...]
    pin_env: str = "HSM_PIN"

    def write_config(self, path: Path | None = None, **overrides: Any) -> Path:
        """Write an hsm.yaml for this token (``overrides`` go into ``pkcs11``)."""
        section: dict[str, Any] = {"lib": self.lib, "token": self.label, "pin_env": self.pin_env}
        section.update(overrides)
        path = path or self.workdir / "hsm.yaml"
        path.write_text(yaml.safe_dump({"type": "pkcs11", "pkcs11": section}, sort_keys=False))
        return path

    def environ(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env)
        env[self.pin_env] = self.pin
        env.update(extra)
        return env

    def run(self, argv: list[str], *, cwd: Path | None = None, input: str | None = None,
            env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
        """Run ``argv`` where the token is visible, with its environment."""
        command = self.prefix + [str(arg) for arg in argv]
        environment = self.environ(**(env or {}))
        return subprocess.run(command, cwd=cwd or self.workdir, env=environment, input=input,
                              text=True, capture_output=True, timeout=timeout, check=False)

    def qpki(self, *args: str | os.PathLike, cwd: Path | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        qpki = str(Path(sys.executable).parent / "qpki")
        return self.run([qpki, *map(str, args)], cwd=cwd, env=env)

    def pkcs11_tool(self, *args: str, login: bool = True) -> subprocess.CompletedProcess:
        """An independent view of the token through OpenSC's pkcs11-tool."""
        argv = ["pkcs11-tool", "--module", self.lib, "--token-label", self.label]
        if login:
            argv += ["--login", "--pin", self.pin]
        return self.run(argv + list(args))


def checked(proc: subprocess.CompletedProcess, what: str, *secrets: str) -> subprocess.CompletedProcess:
    """``proc`` when it succeeded; otherwise an error naming ``what`` (PINs masked)."""
    if proc.returncode != 0:
        text = "%s failed (exit %d): %s %s" % (what, proc.returncode, proc.stdout[-800:],
                                               proc.stderr[-1500:])
        for secret in secrets:
            text = text.replace(secret, "***")
        raise RuntimeError(text)
    return proc
