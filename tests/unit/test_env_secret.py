"""Passphrases from the environment: one reader for both front ends."""

import pytest

from qpki.env_secret import secret_from_env
from qpki.errors import InputError


def test_value_is_read_as_utf8_bytes(monkeypatch):
    monkeypatch.setenv("QPKI_TEST_PASS", "pässword")
    assert secret_from_env("QPKI_TEST_PASS") == "pässword".encode("utf-8")
    assert secret_from_env(None) is None and secret_from_env("") is None


def test_unset_or_empty_names_the_variable(monkeypatch):
    monkeypatch.delenv("QPKI_TEST_UNSET", raising=False)
    with pytest.raises(InputError, match=r"^environment variable QPKI_TEST_UNSET \(the CA "
                                         r"passphrase\) is not set$"):
        secret_from_env("QPKI_TEST_UNSET", "the CA passphrase")
    monkeypatch.setenv("QPKI_TEST_UNSET", "")
    with pytest.raises(InputError, match="is not set"):
        secret_from_env("QPKI_TEST_UNSET")


def test_a_name_that_is_not_a_variable_name_is_refused_without_its_tail(monkeypatch):
    name = "A B" + "x" * 100 + "SECRET-TAIL"
    with pytest.raises(InputError, match="is not an environment variable name") as caught:
        secret_from_env(name)
    assert "SECRET-TAIL" not in str(caught.value)
