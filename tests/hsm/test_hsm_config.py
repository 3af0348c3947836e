"""HSM YAML validation: every mistake is a one-line error saying where."""

import os
import secrets

import pytest

from qpki.errors import HsmError
from qpki.hsm.config import HsmConfig, load_hsm_config

from .conftest import assert_no_secret


@pytest.fixture
def lib(tmp_path):
    """A file standing in for a PKCS#11 library (only its existence matters)."""
    path = tmp_path / "libvendor.so"
    path.write_bytes(b"\x7fELF")
    return str(path)


def write(tmp_path, text, name="hsm.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def load_error(path, **kw):
    with pytest.raises(HsmError) as info:
        load_hsm_config(path, **kw)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_valid_config_by_label(tmp_path, lib):
    path = write(tmp_path, "type: pkcs11\npkcs11:\n  lib: %s\n  token: CA-Token\n"
                           "  pin_env: HSM_PIN\n" % lib)
    config = load_hsm_config(path)
    assert config == HsmConfig(path=str(path), lib=lib, token="CA-Token",
                               pin_env="HSM_PIN", logout_after_use=True)
    assert os.path.isabs(config.path)


def test_serial_and_slot_selectors(tmp_path, lib):
    by_serial = load_hsm_config(write(
        tmp_path, "type: pkcs11\npkcs11: {lib: %s, token_serial: 12345, pin_env: P}\n" % lib))
    assert by_serial.token_serial == "12345" and by_serial.token is None
    by_slot = load_hsm_config(write(
        tmp_path, "type: pkcs11\npkcs11: {lib: %s, slot: 0, pin_env: P, "
                  "logout_after_use: false}\n" % lib))
    assert by_slot.slot == 0 and by_slot.logout_after_use is False


def test_relative_lib_is_resolved_next_to_the_config(tmp_path, lib):
    config = load_hsm_config(write(
        tmp_path, "type: pkcs11\npkcs11: {lib: libvendor.so, token: T, pin_env: P}\n"))
    assert config.lib == lib


def test_unreadable_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    message = load_error(missing)
    assert message.startswith("cannot read HSM config %s" % missing)


def test_bad_yaml(tmp_path):
    path = write(tmp_path, "type: pkcs11\npkcs11: [unclosed\n")
    message = load_error(path)
    assert str(path) in message and "invalid YAML" in message and "line" in message


def test_unknown_type(tmp_path, lib):
    message = load_error(write(tmp_path, "type: kmip\npkcs11: {lib: %s}\n" % lib))
    assert "unknown type 'kmip'" in message


def test_missing_lib(tmp_path):
    message = load_error(write(tmp_path, "type: pkcs11\npkcs11: {token: T, pin_env: P}\n"))
    assert "pkcs11.lib" in message and "missing" in message


def test_lib_that_does_not_exist_is_named(tmp_path):
    message = load_error(write(
        tmp_path, "type: pkcs11\npkcs11: {lib: /opt/none/libp11.so, token: T, pin_env: P}\n"))
    assert "/opt/none/libp11.so does not exist" in message


def test_lib_not_checked_on_request(tmp_path):
    config = load_hsm_config(write(
        tmp_path, "type: pkcs11\npkcs11: {lib: /opt/none/libp11.so, token: T, pin_env: P}\n"),
        check_lib=False)
    assert config.lib == "/opt/none/libp11.so"


def test_no_token_selector(tmp_path, lib):
    message = load_error(write(tmp_path, "type: pkcs11\npkcs11: {lib: %s, pin_env: P}\n" % lib))
    assert "exactly one of" in message and "found: none" in message


def test_two_token_selectors(tmp_path, lib):
    message = load_error(write(
        tmp_path, "type: pkcs11\npkcs11: {lib: %s, token: T, slot: 1, pin_env: P}\n" % lib))
    assert "found: token, slot" in message


def test_missing_pin_env(tmp_path, lib):
    message = load_error(write(tmp_path, "type: pkcs11\npkcs11: {lib: %s, token: T}\n" % lib))
    assert "pin_env" in message and "missing" in message


def test_unknown_keys_are_named(tmp_path, lib):
    message = load_error(write(
        tmp_path, "type: pkcs11\npkcs11: {lib: %s, token: T, pin_env: P, tokn: x, "
                  "timeout: 3}\n" % lib))
    assert "pkcs11.timeout" in message and "pkcs11.tokn" in message
    message = load_error(write(
        tmp_path, "type: pkcs11\nextra: 1\npkcs11: {lib: %s, token: T, pin_env: P}\n" % lib))
    assert "unknown key(s) extra" in message


@pytest.mark.parametrize("key", ["pin", "so_pin", "user_pin", "password", "passphrase",
                                 "PIN", "user-pin"])
def test_pin_like_key_is_refused_without_echoing_it(tmp_path, lib, key):
    secret = secrets.token_hex(6)
    path = write(tmp_path, "type: pkcs11\npkcs11:\n  lib: %s\n  token: T\n  pin_env: P\n"
                           "  %s: \"%s\"\n" % (lib, key, secret))
    with pytest.raises(HsmError) as info:
        load_hsm_config(path)
    assert str(info.value) == (
        "PIN must not be stored in the config file (%s: key '%s'); set pin_env instead"
        % (path, key))
    assert_no_secret(info.value, secret)


def test_pin_key_anywhere_is_refused(tmp_path, lib):
    secret = secrets.token_hex(6)
    path = write(tmp_path, "type: pkcs11\npin: %s\npkcs11: {lib: %s, token: T, pin_env: P}\n"
                 % (secret, lib))
    message = load_error(path)
    assert "key 'pin'" in message and secret not in message
    path = write(tmp_path, "type: pkcs11\npkcs11:\n  lib: %s\n  token: T\n  pin_env: P\n"
                           "  extra:\n    - {password: %s}\n" % (lib, secret))
    message = load_error(path)
    assert "key 'password'" in message and secret not in message


def test_pin_in_broken_yaml_is_not_echoed(tmp_path, lib):
    secret = secrets.token_hex(6)
    path = write(tmp_path, "type: pkcs11\npkcs11:\n  lib: %s\n  pin: \"%s\n" % (lib, secret))
    with pytest.raises(HsmError) as info:
        load_hsm_config(path)
    assert_no_secret(info.value, secret)
