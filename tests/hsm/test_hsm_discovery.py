"""`qpki hsm list` / `qpki hsm test` back ends against SoftHSM2."""

import pytest

from qpki.errors import HsmError
from qpki.hsm.discovery import list_slots, test_connection as run_connection_test
from qpki.hsm.session import active_logins

pytestmark = pytest.mark.hsm


def test_list_slots_without_pin(token, monkeypatch):
    monkeypatch.delenv("HSM_PIN")
    slots = list_slots(token.lib)
    ours = [s for s in slots if s["label"] == "CA-Token"]
    assert len(ours) == 1
    slot = ours[0]
    assert slot["token_present"] and slot["initialized"] and slot["login_required"]
    assert slot["serial"] == token.serial()
    assert slot["manufacturer"] == "SoftHSM project"
    assert slot["model"] == "SoftHSM v2"
    assert "TOKEN_INITIALIZED" in slot["flags"]
    assert isinstance(slot["slot"], int) and slot["description"]
    # SoftHSM2 always offers one more, uninitialised token.
    assert any(not s["initialized"] for s in slots)


def test_list_slots_of_missing_library(tmp_path):
    with pytest.raises(HsmError, match="does not exist"):
        list_slots(str(tmp_path / "nothing.so"))


def test_connection_test_logs_in_lists_mechanisms_and_logs_out(token, count_logins):
    result = run_connection_test(token.config())
    assert result["token"] == "CA-Token"
    assert result["serial"] == token.serial()
    assert result["logged_in"] is True
    assert "CKM_ECDSA" in result["mechanisms"]
    assert "CKM_RSA_PKCS_PSS" in result["mechanisms"]
    assert count_logins == ["CA-Token"]
    assert active_logins() == 0


def test_connection_test_with_wrong_pin(token, monkeypatch):
    monkeypatch.setenv("HSM_PIN", "wrong-pin-123")
    with pytest.raises(HsmError, match="failed: PIN incorrect"):
        run_connection_test(token.config())
