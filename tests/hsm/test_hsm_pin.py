"""PIN sources: the pin_env variable, else a prompt on a terminal, else an
error naming the variable and the config file."""

import pytest

from qpki.errors import HsmError
from qpki.hsm import pin as pin_module
from qpki.hsm.config import HsmConfig
from qpki.hsm.pin import resolve_pin

CONFIG = HsmConfig(path="/etc/qpki/hsm.yaml", lib="/usr/lib/libp11.so", token="CA-Token",
                   pin_env="HSM_PIN")


def test_pin_from_environment(monkeypatch):
    monkeypatch.setenv("HSM_PIN", "4711-secret")
    assert resolve_pin(CONFIG) == "4711-secret"


@pytest.mark.parametrize("value", [None, ""])
def test_no_pin_without_terminal(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("HSM_PIN", raising=False)
    else:
        monkeypatch.setenv("HSM_PIN", value)
    monkeypatch.setattr(pin_module, "_interactive", lambda: False)
    with pytest.raises(HsmError) as info:
        resolve_pin(CONFIG)
    assert str(info.value) == ("PIN not available: environment variable HSM_PIN is not set "
                               "(pin_env in /etc/qpki/hsm.yaml)")


def test_prompt_on_terminal(monkeypatch):
    monkeypatch.delenv("HSM_PIN", raising=False)
    monkeypatch.setattr(pin_module, "_interactive", lambda: True)
    prompts = []

    def fake_getpass(prompt):
        prompts.append(prompt)
        return "typed-pin"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert resolve_pin(CONFIG, "CA-Token") == "typed-pin"
    assert prompts == ["PIN for token CA-Token: "]


def test_empty_prompt_answer_is_an_error(monkeypatch):
    monkeypatch.delenv("HSM_PIN", raising=False)
    monkeypatch.setattr(pin_module, "_interactive", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: "")
    with pytest.raises(HsmError, match="no PIN entered"):
        resolve_pin(CONFIG)
