"""The HSM configuration file (``--hsm-config``): where the PKCS#11 library
is, which token to use and which environment variable holds the PIN.

Shape::

    type: pkcs11
    pkcs11:
      lib: /usr/lib/softhsm/libsofthsm2.so
      token: CA-Token            # or token_serial: "..." or slot: 0 (exactly one)
      pin_env: HSM_PIN
      logout_after_use: true     # optional, default true

The PIN itself is never accepted from this file: any PIN-like key anywhere in
it is refused without echoing its value.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any

from ..errors import HsmError

PIN_KEYS = ("pin", "so_pin", "user_pin", "password", "passphrase")
TOKEN_SELECTORS = ("token", "token_serial", "slot")
_TOP_KEYS = ("type", "pkcs11")
_PKCS11_KEYS = ("lib",) + TOKEN_SELECTORS + ("pin_env", "logout_after_use")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclasses.dataclass(frozen=True)
class HsmConfig:
    """A validated HSM configuration. ``path`` is the file it came from
    (absolute); ``lib`` is absolute too. Exactly one of ``token``,
    ``token_serial`` and ``slot`` is set."""

    path: str
    lib: str
    token: str | None = None
    token_serial: str | None = None
    slot: int | None = None
    pin_env: str | None = None
    logout_after_use: bool = True

    def token_selector(self) -> str:
        """How the token is chosen, for messages: ``token 'CA-Token'``,
        ``token with serial '...'`` or ``slot 0``."""
        if self.token is not None:
            return "token '%s'" % self.token
        if self.token_serial is not None:
            return "token with serial '%s'" % self.token_serial
        return "slot %s" % self.slot


def load_hsm_config(path: str | os.PathLike[str], check_lib: bool = True) -> HsmConfig:
    """Read and validate the HSM YAML file at ``path``.

    ``check_lib=False`` skips the check that the PKCS#11 library exists (for
    validating vendor examples on a machine without the vendor client).
    """
    absolute = os.path.abspath(os.fspath(path))
    data = _read_yaml(absolute)
    _refuse_pins(data, absolute)
    return _parse(data, absolute, check_lib)


def hsm_config_from_dict(data: object, path: str | os.PathLike[str], check_lib: bool = True) -> HsmConfig:
    """Validate an already-parsed configuration mapping (``path`` names where
    it came from, for messages and to resolve a relative ``lib``)."""
    absolute = os.path.abspath(os.fspath(path))
    _refuse_pins(data, absolute)
    return _parse(data, absolute, check_lib)


def _fail(path: str, text: str) -> HsmError:
    return HsmError("HSM config %s: %s" % (path, text))


def _read_yaml(path: str) -> object:
    from ..input_file import read_input
    from ..safe_yaml import parse_yaml

    data = read_input(path, "HSM config", HsmError)
    return parse_yaml(data, f"HSM config {path}", HsmError, column=True)


def _normal_key(key: object) -> str:
    return str(key).strip().lower().replace("-", "_")


def _refuse_pins(node: object, path: str) -> None:
    """Refuse a PIN-like key at any depth, naming the key, never the value."""
    if isinstance(node, dict):
        for key, value in node.items():
            if _normal_key(key) in PIN_KEYS:
                raise HsmError(
                    "PIN must not be stored in the config file (%s: key '%s'); "
                    "set pin_env instead" % (path, key)
                )
            _refuse_pins(value, path)
    elif isinstance(node, list):
        for item in node:
            _refuse_pins(item, path)


def _unknown(mapping: dict[Any, Any], allowed: tuple[str, ...], prefix: str, path: str) -> None:
    unknown = [str(k) for k in mapping if k not in allowed]
    if unknown:
        raise _fail(
            path,
            "unknown key(s) %s (allowed: %s)"
            % (", ".join(prefix + k for k in sorted(unknown)),
               ", ".join(prefix + k for k in allowed)),
        )


def _string(section: dict[Any, Any], key: str, path: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _fail(path, "pkcs11.%s must be a string" % key)
    value = str(value).strip()
    if not value:
        raise _fail(path, "pkcs11.%s is empty" % key)
    return value


def _parse(data: object, path: str, check_lib: bool) -> HsmConfig:
    if data is None:
        raise _fail(path, "file is empty (expected 'type: pkcs11' and a 'pkcs11:' mapping)")
    if not isinstance(data, dict):
        raise _fail(path, "expected a mapping with 'type: pkcs11' and 'pkcs11:'")
    kind = data.get("type")
    if kind is None:
        raise _fail(path, "'type' is missing (expected 'type: pkcs11')")
    if kind != "pkcs11":
        raise _fail(path, "unknown type '%s' (only 'pkcs11' is supported)" % kind)
    _unknown(data, _TOP_KEYS, "", path)
    section = data.get("pkcs11")
    if not isinstance(section, dict):
        raise _fail(path, "'pkcs11:' mapping is missing")
    _unknown(section, _PKCS11_KEYS, "pkcs11.", path)

    lib = _string(section, "lib", path)
    if lib is None:
        raise _fail(path, "pkcs11.lib (path of the PKCS#11 library) is missing")
    lib = os.path.expanduser(lib)
    if not os.path.isabs(lib):
        lib = os.path.join(os.path.dirname(path), lib)
    lib = os.path.normpath(lib)
    if check_lib and not os.path.isfile(lib):
        raise _fail(path, "PKCS#11 library %s does not exist" % lib)

    chosen = [k for k in TOKEN_SELECTORS if section.get(k) is not None]
    if len(chosen) != 1:
        found = "none" if not chosen else ", ".join(chosen)
        raise _fail(path, "set exactly one of pkcs11.token, pkcs11.token_serial, "
                          "pkcs11.slot (found: %s)" % found)
    token = _string(section, "token", path)
    token_serial = _string(section, "token_serial", path)
    slot = _slot(section.get("slot"), path)

    pin_env = section.get("pin_env")
    if pin_env is None:
        raise _fail(path, "pkcs11.pin_env (name of the environment variable holding "
                          "the PIN) is missing")
    if not isinstance(pin_env, str) or ENV_NAME.fullmatch(pin_env) is None:
        # Not echoed: a PIN typed where its variable's name belongs must not leak.
        raise _fail(path, "pkcs11.pin_env must be the name of an environment variable "
                          "(letters, digits and '_', not starting with a digit)")
    logout = section.get("logout_after_use", True)
    if not isinstance(logout, bool):
        raise _fail(path, "pkcs11.logout_after_use must be true or false")

    return HsmConfig(path=path, lib=lib, token=token, token_serial=token_serial,
                     slot=slot, pin_env=pin_env, logout_after_use=logout)


def _slot(value: object, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _fail(path, "pkcs11.slot must be a slot number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise _fail(path, "pkcs11.slot must be a slot number")
    if number < 0:
        raise _fail(path, "pkcs11.slot must not be negative")
    return number
