"""Sessions against a real SoftHSM2 token: token selection, login errors,
one login per operation, logout afterwards."""

import os
import secrets
import subprocess
import sys
import textwrap

import pytest

from qpki.errors import HsmError
from qpki.hsm.config import load_hsm_config
from qpki.hsm.session import active_logins, connect, drop_sessions, open_session
from qpki.signer.pkcs11 import Pkcs11Signer

from .conftest import assert_no_secret

pytestmark = pytest.mark.hsm


def private_keys_visible(hsm):
    import pkcs11

    return list(hsm.session.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.PRIVATE_KEY}))


def test_open_session_by_label_logs_in(token):
    with open_session(token.config()) as hsm:
        assert hsm.label == "CA-Token"
        assert hsm.logged_in
        assert hsm.session.rw


def test_select_by_serial_and_by_slot(token):
    serial = token.serial()
    with open_session(token.config(token=None, token_serial=serial)) as hsm:
        assert hsm.label == "CA-Token" and hsm.serial == serial
        slot = hsm.token.slot.slot_id
    with open_session(token.config(token=None, slot=slot)) as hsm:
        assert hsm.label == "CA-Token"


def test_unknown_token_lists_available_ones(token):
    token.add_token("Other-Token")
    with pytest.raises(HsmError) as info:
        connect(token.config(token="No-Such-Token"))
    assert str(info.value) == ("token 'No-Such-Token' not found in %s (available: CA-Token, "
                               "Other-Token)" % token.lib)
    assert_no_secret(info.value, token.pin)


def test_unknown_serial_and_slot(token):
    with pytest.raises(HsmError, match="token with serial 'nope' not found in"):
        connect(token.config(token=None, token_serial="nope"))
    with pytest.raises(HsmError, match=r"slot 4242 not found in .* \(available slots: "):
        connect(token.config(token=None, slot=4242))


def test_wrong_pin(token, monkeypatch):
    wrong = secrets.token_hex(8)
    monkeypatch.setenv("HSM_PIN", wrong)
    with pytest.raises(HsmError) as info:
        connect(token.config())
    assert str(info.value) == "login to token 'CA-Token' failed: PIN incorrect"
    assert_no_secret(info.value, wrong, token.pin)
    assert active_logins() == 0


def test_pin_length_out_of_range(token, monkeypatch):
    monkeypatch.setenv("HSM_PIN", "x" * 300)
    with pytest.raises(HsmError) as info:
        connect(token.config())
    assert str(info.value).startswith("login to token 'CA-Token' failed: PIN")
    assert_no_secret(info.value, "x" * 300)


def test_unset_pin_env_var(token, monkeypatch):
    monkeypatch.delenv("HSM_PIN")
    with pytest.raises(HsmError) as info:
        connect(token.config())
    assert str(info.value) == ("PIN not available: environment variable HSM_PIN is not set "
                               "(pin_env in %s)" % token.config_path)
    assert_no_secret(info.value, token.pin)


def test_other_pin_env_name(token, monkeypatch):
    monkeypatch.setenv("CA_TOKEN_PIN", token.pin)
    monkeypatch.delenv("HSM_PIN")
    with open_session(token.config(pin_env="CA_TOKEN_PIN")) as hsm:
        assert hsm.logged_in


def test_wrong_lib_path(token, tmp_path):
    from qpki.hsm.config import HsmConfig

    missing = str(tmp_path / "libnothere.so")
    config = HsmConfig(path=str(token.config_path), lib=missing, token="CA-Token",
                       pin_env="HSM_PIN")
    with pytest.raises(HsmError) as info:
        connect(config)
    assert str(info.value) == "PKCS#11 library %s does not exist" % missing
    assert_no_secret(info.value, token.pin)
    # Through the YAML file, the same mistake is caught when loading it.
    with pytest.raises(HsmError, match="libnothere.so does not exist"):
        load_hsm_config(token.write_config("bad.yaml", lib=missing))


def test_lib_that_is_not_a_pkcs11_library(token, tmp_path):
    from qpki.hsm.config import HsmConfig

    bogus = tmp_path / "libbogus.so"
    bogus.write_bytes(b"not a shared object")
    config = HsmConfig(path=str(token.config_path), lib=str(bogus), token="CA-Token",
                       pin_env="HSM_PIN")
    with pytest.raises(HsmError) as info:
        connect(config)
    assert str(info.value).startswith("cannot load PKCS#11 library %s: " % bogus)


def test_pin_key_in_yaml_is_refused(token):
    path = token.workdir / "withpin.yaml"
    path.write_text("type: pkcs11\npkcs11:\n  lib: %s\n  token: CA-Token\n  pin_env: HSM_PIN\n"
                    "  pin: \"%s\"\n" % (token.lib, token.pin))
    with pytest.raises(HsmError) as info:
        Pkcs11Signer(str(path), "ecdsa-p384", label="root-ca-key")
    assert str(info.value) == ("PIN must not be stored in the config file (%s: key 'pin'); "
                               "set pin_env instead" % path)
    assert_no_secret(info.value, token.pin)


def test_one_login_for_five_signatures_then_logout(token, count_logins, count_token_signs):
    """Login counting: every C_Login qpki makes goes through
    ``session.user_login`` (count_logins wraps it); the logout is observed
    from a second, never-logged-in session of the same process, which sees
    private objects exactly while the PKCS#11 login lasts."""
    token.keygen("EC:prime256v1", "root-ca-key", "01")
    config = token.config()
    observer = connect(config, login=False)
    try:
        assert private_keys_visible(observer) == []
        signer = Pkcs11Signer(config, "ecdsa-p256", label="root-ca-key")
        for i in range(5):
            signer.sign(b"message %d" % i)
        assert len(private_keys_visible(observer)) == 1  # logged in (login is per process)
        signer.close()
        assert count_logins == ["CA-Token"]
        assert len(count_token_signs) == 5
        assert private_keys_visible(observer) == []  # logged out after close
        assert active_logins() == 0
    finally:
        observer.close()
    # And a brand-new session without login sees no private object either.
    with open_session(config, login=False) as fresh:
        assert private_keys_visible(fresh) == []


def test_signers_sharing_a_session_share_the_login(token, count_logins):
    token.keygen("EC:prime256v1", "k1", "01")
    token.keygen("EC:secp384r1", "k2", "02")
    config = token.config()
    with open_session(config) as hsm:
        first = Pkcs11Signer(config, "ecdsa-p256", label="k1", session=hsm)
        second = Pkcs11Signer(config, "ecdsa-p384", label="k2", session=hsm)
        first.sign(b"a")
        second.sign(b"b")
        first.close()  # borrowed session: stays open
        second.sign(b"c")
        second.close()
        assert not hsm.closed
    # Two signers opening the token on their own also log in only once.
    a = Pkcs11Signer(config, "ecdsa-p256", label="k1")
    b = Pkcs11Signer(config, "ecdsa-p384", label="k2")
    a.close()
    b.sign(b"still logged in")
    b.close()
    assert count_logins == ["CA-Token", "CA-Token"]
    assert active_logins() == 0


def test_logout_after_use_false_keeps_the_login(token, count_logins):
    token.keygen("EC:prime256v1", "root-ca-key", "01")
    config = token.config(logout_after_use=False)
    with Pkcs11Signer(config, "ecdsa-p256", label="root-ca-key") as signer:
        signer.sign(b"one")
    assert active_logins() == 1
    with Pkcs11Signer(config, "ecdsa-p256", label="root-ca-key") as signer:
        signer.sign(b"two")
    assert count_logins == ["CA-Token"]
    drop_sessions()
    assert active_logins() == 0
    with open_session(config, login=False) as fresh:
        assert private_keys_visible(fresh) == []


def test_login_and_logout_seen_by_pkcs11_spy(token, pkcs11_spy):
    """Independent count at the PKCS#11 boundary: the signer runs in a
    subprocess through OpenSC's pkcs11-spy, which logs every call it
    forwards to SoftHSM2."""
    token.keygen("EC:secp384r1", "root-ca-key", "01")
    spy_config = token.write_config("spy.yaml", lib=pkcs11_spy)
    log = token.workdir / "spy.log"
    code = textwrap.dedent("""
        import sys
        from qpki.signer.pkcs11 import Pkcs11Signer
        signer = Pkcs11Signer(sys.argv[1], "ecdsa-p384", label="root-ca-key")
        for i in range(5):
            signer.sign(b"message %d" % i)
        signer.close()
    """)
    env = dict(os.environ, PKCS11SPY=token.lib, PKCS11SPY_OUTPUT=str(log))
    result = subprocess.run([sys.executable, "-c", code, str(spy_config)], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    calls = [line.split()[1] for line in log.read_text(errors="replace").splitlines()
             if line[:1].isdigit() and ": C_" in line]
    assert calls.count("C_Login") == 1
    assert calls.count("C_SignInit") == 5
    assert calls.count("C_OpenSession") == 1
    assert calls.count("C_Logout") == 1
    assert calls.index("C_Logout") > max(i for i, c in enumerate(calls) if c == "C_Sign")
    assert calls.index("C_Logout") < calls.index("C_CloseSession")
