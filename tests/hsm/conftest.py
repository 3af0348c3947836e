"""Fixtures for the PKCS#11 tests: a real SoftHSM2 token per test.

How the per-process PKCS#11 state is handled
--------------------------------------------
A PKCS#11 library is loaded and ``C_Initialize``d once per process, and
SoftHSM2 reads ``SOFTHSM2_CONF`` (hence its token directory) only in
``C_Initialize``; tokens created afterwards by another process
(``softhsm2-util``) are not seen either. Each test therefore gets

1. its own directory with ``softhsm2.conf`` and ``tokens/``, exported via
   ``SOFTHSM2_CONF`` (monkeypatch), a token ``CA-Token`` initialised there by
   ``softhsm2-util --init-token --free`` with random PINs, ``HSM_PIN`` set;
2. a ``C_Finalize`` of the (cached) SoftHSM library before the test starts
   and after it ends (``qpki.hsm.library.finalize_library``). The library
   stays loaded, but the next use runs ``C_Initialize`` again, which makes
   SoftHSM2 re-read ``SOFTHSM2_CONF``: the test sees exactly its own token
   directory, and no session or login leaks from one test to the next.

Objects created by ``pkcs11-tool`` (another process) in an already
initialised token *are* seen (SoftHSM2's file store re-reads the token), so
no reload is needed after ``token.keygen()``. A new token made by
``token.add_token()`` reloads the library itself.

The one test that must observe ``C_Login``/``C_Logout`` from outside runs
in a subprocess through OpenSC's ``pkcs11-spy.so`` (see test_session.py).
"""

import dataclasses
import re
import secrets
import shutil
import subprocess
import textwrap
import traceback
from pathlib import Path

import pytest

from conftest import find_softhsm_lib

SOFTHSM_LIB = find_softhsm_lib()


def _tools_missing():
    missing = [t for t in ("softhsm2-util", "pkcs11-tool") if shutil.which(t) is None]
    if SOFTHSM_LIB is None:
        missing.append("libsofthsm2.so")
    return missing


def _run(argv, **kw):
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kw)
    if result.returncode != 0:
        # Never show PINs (they are on the command line) in a failure report.
        raise RuntimeError("%s failed (exit %d): %s" % (argv[0], result.returncode,
                                                        result.stderr.strip()[-500:]))
    return result


@dataclasses.dataclass
class HsmToken:
    """A SoftHSM2 token living in a per-test directory."""

    lib: str
    label: str
    pin: str
    so_pin: str
    workdir: Path
    conf: Path
    config_path: Path
    pin_env: str = "HSM_PIN"

    def write_config(self, name="hsm.yaml", **pkcs11):
        """Write an HSM YAML (``pkcs11`` entries override the defaults; a
        value of None drops the key) and return its path."""
        section = {"lib": self.lib, "token": self.label, "pin_env": self.pin_env}
        section.update(pkcs11)
        lines = ["type: pkcs11", "pkcs11:"]
        for key, value in section.items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, str):
                value = '"%s"' % value
            lines.append("  %s: %s" % (key, value))
        path = self.workdir / name
        path.write_text("\n".join(lines) + "\n")
        return path

    def config(self, **pkcs11):
        from qpki.hsm.config import load_hsm_config

        if not pkcs11:
            return load_hsm_config(self.config_path)
        return load_hsm_config(self.write_config("hsm-%s.yaml" % secrets.token_hex(4),
                                                 **pkcs11))

    def tool(self, *args, login=True, label=None):
        """``pkcs11-tool`` on this token (an independent view of it)."""
        argv = ["pkcs11-tool", "--module", self.lib, "--token-label", label or self.label]
        if login:
            argv += ["--login", "--pin", self.pin]
        return _run(argv + list(args)).stdout

    def keygen(self, key_type="EC:secp384r1", label="root-ca-key", key_id="01"):
        """Make a key pair with pkcs11-tool, not with qpki."""
        args = ["--keypairgen", "--key-type", key_type, "--label", label]
        if key_id:
            args += ["--id", key_id]
        return self.tool(*args)

    def objects(self, login=True):
        return self.tool("--list-objects", login=login)

    def add_token(self, label, pin=None):
        """Initialise another token in the same directory (and reload the
        library so this process sees it)."""
        from qpki.hsm.library import finalize_library

        pin = pin or secrets.token_hex(8)
        _run(["softhsm2-util", "--init-token", "--free", "--label", label,
              "--pin", pin, "--so-pin", secrets.token_hex(8)])
        finalize_library(self.lib)
        return pin

    def serial(self, label=None):
        """Serial number of a token as ``softhsm2-util --show-slots`` shows it."""
        label = label or self.label
        out = _run(["softhsm2-util", "--show-slots"]).stdout
        for block in re.split(r"(?m)^Slot ", out):
            found = re.search(r"(?m)^\s*Label:\s*(.*?)\s*$", block)
            serial = re.search(r"(?m)^\s*Serial number:\s*(\S+)", block)
            if found and serial and found.group(1) == label:
                return serial.group(1)
        raise AssertionError("serial of token %r not found" % label)

    def slot_id(self):
        from qpki.hsm.session import open_session

        with open_session(self.config(), login=False) as hsm:
            return hsm.token.slot.slot_id


@pytest.fixture
def token(tmp_path, monkeypatch):
    """A fresh SoftHSM2 token ``CA-Token`` with random PINs; ``$HSM_PIN``
    set, ``token.config_path`` an HSM YAML naming it."""
    missing = _tools_missing()
    if missing:
        pytest.skip("SoftHSM2 tooling missing: %s" % ", ".join(missing))
    from qpki.hsm.library import finalize_library

    workdir = tmp_path / "hsm"
    tokendir = workdir / "tokens"
    tokendir.mkdir(parents=True, mode=0o700)
    conf = workdir / "softhsm2.conf"
    conf.write_text(textwrap.dedent("""\
        directories.tokendir = %s
        objectstore.backend = file
        log.level = ERROR
        """ % tokendir))
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    pin, so_pin = secrets.token_hex(8), secrets.token_hex(8)
    _run(["softhsm2-util", "--init-token", "--free", "--label", "CA-Token",
          "--pin", pin, "--so-pin", so_pin])
    monkeypatch.setenv("HSM_PIN", pin)
    finalize_library(SOFTHSM_LIB)  # next use re-reads SOFTHSM2_CONF
    tok = HsmToken(lib=SOFTHSM_LIB, label="CA-Token", pin=pin, so_pin=so_pin,
                   workdir=workdir, conf=conf, config_path=workdir / "hsm.yaml")
    tok.write_config()
    yield tok
    finalize_library(SOFTHSM_LIB)


def assert_no_secret(exc, *secrets_):
    """The exception is one line and neither its text nor its formatted
    traceback contains any of ``secrets_``."""
    text = str(exc)
    assert "\n" not in text
    formatted = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    for secret in secrets_:
        assert secret not in text
        assert secret not in formatted


@pytest.fixture
def count_token_signs(monkeypatch):
    """Counts every C_Sign qpki asks the token for (all token signatures go
    through ``qpki.hsm.signing.token_sign``)."""
    from qpki.hsm import signing

    calls = []
    real = signing.token_sign

    def counting(*args, **kwargs):
        calls.append(args[2] if len(args) > 2 else kwargs.get("mechanism"))
        return real(*args, **kwargs)

    monkeypatch.setattr(signing, "token_sign", counting)
    return calls


@pytest.fixture
def count_logins(monkeypatch):
    """Counts user logins (every C_Login qpki does goes through
    ``qpki.hsm.session.user_login``)."""
    from qpki.hsm import session

    calls = []
    real = session.user_login

    def counting(token, pin, rw):
        calls.append(token.label)
        return real(token, pin, rw)

    monkeypatch.setattr(session, "user_login", counting)
    return calls
