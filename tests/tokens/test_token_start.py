"""Each implementation of the matrix starts, shows its token, lets the user
log in, and is gone after (checked by the tools of the implementation)."""

from tokens.token import RunningToken, checked


def test_token_listed_and_login_works(running_token: RunningToken) -> None:
    listed = checked(running_token.pkcs11_tool("--list-token-slots", login=False), "list slots")
    assert running_token.label in listed.stdout
    objects = running_token.pkcs11_tool("--list-objects")
    assert objects.returncode == 0, objects.stderr


def test_wrong_pin_is_refused(running_token: RunningToken) -> None:
    argv = ["pkcs11-tool", "--module", running_token.lib, "--token-label", running_token.label,
            "--login", "--pin", "0000", "--list-objects"]
    proc = running_token.run(argv)
    assert proc.returncode != 0
    assert "CKR_PIN_INCORRECT" in proc.stdout + proc.stderr
