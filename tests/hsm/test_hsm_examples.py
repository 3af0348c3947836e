"""The vendor examples in examples/hsm/ are valid configurations (vendor
libraries are not installed here, so the library path is not checked)."""

from pathlib import Path

import pytest

from qpki.hsm.config import load_hsm_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hsm"
EXPECTED = {
    "softhsm2.yaml": "/usr/lib/softhsm/libsofthsm2.so",
    "thales-luna.yaml": "/usr/safenet/lunaclient/lib/libCryptoki2_64.so",
    "eviden-proteccio.yaml": "/usr/lib/libnethsm.so",
    "utimaco.yaml": "/opt/utimaco/lib/libcs_pkcs11_R3.so",
    "aws-cloudhsm.yaml": "/opt/cloudhsm/lib/libcloudhsm_pkcs11.so",
    "yubihsm2.yaml": "/usr/lib/x86_64-linux-gnu/pkcs11/yubihsm_pkcs11.so",
}


def test_the_six_examples_are_there():
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_validates(name):
    config = load_hsm_config(EXAMPLES / name, check_lib=False)
    assert config.lib == EXPECTED[name]
    assert config.pin_env == "HSM_PIN"
    assert config.logout_after_use is True
    assert sum(x is not None for x in (config.token, config.token_serial, config.slot)) == 1
    if name == "yubihsm2.yaml":
        assert config.slot == 0


# What each example's "Token conventions" comment must say about selecting
# the token: the way its own YAML selects it (label, serial or slot).
SELECTOR_WORD = {"token": "label", "token_serial": "serial", "slot": "slot"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_documents_its_token_conventions(name):
    text = (EXAMPLES / name).read_text()
    comment = "\n".join(line.lstrip("# ").rstrip() for line in text.splitlines()
                        if line.startswith("#"))
    assert text.startswith("#"), "the example opens with its explanation"
    head, found, conventions = comment.partition("Token conventions")
    assert found, f"{name}: no 'Token conventions' section"
    config = load_hsm_config(EXAMPLES / name, check_lib=False)
    selector = next(key for key in SELECTOR_WORD if getattr(config, key) is not None)
    assert SELECTOR_WORD[selector] in conventions.lower(), \
        f"{name} selects its token by {selector} but its conventions do not say why"
    # The PIN: what it is for this HSM, and that it is never in the file.
    assert "PIN" in comment, f"{name}: the comments do not say what the PIN is"
    assert "pin:" not in text.lower().replace("pin_env:", "")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_says_what_was_proven_and_what_was_not(name):
    """Each example says on which implementations qpki proved it; a vendor
    example also names the parts that are vendor conventions not tested."""
    text = (EXAMPLES / name).read_text()
    assert "# Proven with qpki" in text and "SoftHSM2 2.6.1" in text
    if name != "softhsm2.yaml":
        assert "openCryptoki 3.8.1" in text and "tpm2-pkcs11 1.9.0" in text
        assert "NOT tested here (vendor conventions" in text
