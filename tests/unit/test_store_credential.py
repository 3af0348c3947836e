"""Credential directories: id validation, paths, metadata order."""

import json
import re
from datetime import datetime, timezone

import pytest

from qpki.errors import InputError, StoreError
from qpki.store.credential_dir import (
    CredentialDir,
    list_credentials,
    make_credential_id,
)

SEED = """{
    "id": "server-example-com-20250102-a1b2c3",
    "subject": {
        "common_name": "server.example.com"
    },
    "profiles": [
        "ec/tls-server"
    ],
    "status": "valid",
    "created": "2025-01-02T10:30:00Z",
    "not_before": "2025-01-02T10:30:00Z",
    "not_after": "2026-01-02T10:30:00Z",
    "certificates": [
        {
            "serial": "0x1A2B3C4D",
            "role": "signature",
            "profile": "ec/tls-server",
            "algorithm": "ECDSA-SHA384",
            "fingerprint": "ABC123DEF456",
            "storage": [
                {
                    "type": "pkcs11",
                    "config": "./hsm.yaml",
                    "label": "server-key"
                }
            ]
        }
    ]
}
"""
SEED_ID = "server-example-com-20250102-a1b2c3"


@pytest.mark.parametrize(
    "bad",
    [
        "../etc",
        "..",
        ".",
        "a/b",
        "a\\b",
        "/abs",
        ".hidden",
        "",
        "x" * 129,
        "tab\there",
        "nl\nx",
        "nul\x00x",
        "esc\x1bx",
        "space x",
        "é",
    ],
)
def test_bad_ids_are_rejected_naming_the_value(tmp_path, bad):
    with pytest.raises(InputError) as info:
        CredentialDir(tmp_path, bad)
    message = str(info.value)
    assert "credential id" in message and repr(bad)[:40] in message
    assert "\n" not in message and "\x00" not in message


def test_non_string_id(tmp_path):
    with pytest.raises(InputError):
        CredentialDir(tmp_path, 42)


@pytest.mark.parametrize("good", ["a", "A.b_c-1", "x" * 128, SEED_ID])
def test_good_ids(tmp_path, good):
    assert CredentialDir(tmp_path, good).path == tmp_path / good


def test_paths(tmp_path):
    cred = CredentialDir(tmp_path, SEED_ID)
    assert cred.meta == tmp_path / SEED_ID / "credential.meta.json"
    assert (
        cred.cert_path("signature", "ecdsa-p384")
        == tmp_path / SEED_ID / "signature.ecdsa-p384.crt"
    )
    assert (
        cred.key_path("signature", "ecdsa-p384")
        == tmp_path / SEED_ID / "signature.ecdsa-p384.key"
    )
    assert cred.key_relpath("encryption", "ml-kem-768") == "encryption.ml-kem-768.key"
    assert cred.chain == tmp_path / SEED_ID / "chain.crt"
    with pytest.raises(InputError, match="role"):
        cred.cert_path("../x", "ecdsa-p384")
    with pytest.raises(InputError, match="algorithm"):
        cred.key_path("signature", "a/b")
    with pytest.raises(InputError):
        cred.resolve("../other/key.pem")


def test_make_credential_id():
    now = datetime(2025, 1, 2, 10, 30, tzinfo=timezone.utc)
    cred_id = make_credential_id("server.example.com", now)
    assert re.fullmatch(r"server-example-com-20250102-[0-9a-f]{6}", cred_id)
    assert re.fullmatch(
        r"credential-20250102-[0-9a-f]{6}", make_credential_id("***", now)
    )
    assert make_credential_id("Ünïcode *.Host", now).startswith(
        "unicode-host-20250102-"
    )
    assert make_credential_id("../../etc/passwd", now).startswith("etc-passwd-")
    long_id = make_credential_id("a" * 500, now)
    CredentialDir("/tmp", long_id)  # always a valid id
    assert re.search(r"-\d{8}-[0-9a-f]{6}$", make_credential_id("x"))


def test_meta_matches_seed_byte_for_byte_modulo_inline_list(tmp_path):
    cred = CredentialDir(tmp_path, SEED_ID).create()
    seed = json.loads(SEED)
    scrambled = {
        "certificates": [
            {
                "storage": [
                    {"label": "server-key", "config": "./hsm.yaml", "type": "pkcs11"}
                ],
                "fingerprint": "ABC123DEF456",
                "algorithm": "ECDSA-SHA384",
                "profile": "ec/tls-server",
                "role": "signature",
                "serial": 0x1A2B3C4D,
            }
        ],
        "not_after": datetime(2026, 1, 2, 10, 30, tzinfo=timezone.utc),
        "not_before": datetime(2025, 1, 2, 10, 30, tzinfo=timezone.utc),
        "created": "2025-01-02T10:30:00Z",
        "status": "valid",
        "profiles": ["ec/tls-server"],
        "subject": {"common_name": "server.example.com"},
    }
    cred.write_meta(scrambled)
    assert cred.meta.read_text() == SEED
    assert cred.load_meta() == seed
    assert cred.exists()


def test_meta_id_must_match(tmp_path):
    cred = CredentialDir(tmp_path, "one").create()
    with pytest.raises(InputError, match="does not match"):
        cred.write_meta({"id": "two"})
    cred.meta.write_text(json.dumps({"id": "two"}))
    with pytest.raises(StoreError, match="does not match the directory name"):
        cred.load_meta()


def test_bad_serial(tmp_path):
    cred = CredentialDir(tmp_path, "one").create()
    with pytest.raises(InputError, match="invalid certificate serial"):
        cred.write_meta({"certificates": [{"serial": "12"}]})
    cred.write_meta({"certificates": [{"serial": "0xabc"}]})
    assert cred.load_meta()["certificates"][0]["serial"] == "0xABC"


def test_create_refuses_existing_and_list(tmp_path):
    assert list_credentials(tmp_path / "none") == []
    cred = CredentialDir(tmp_path, "b-cred").create()
    cred.write_meta({"status": "valid"})
    with pytest.raises(StoreError, match="credential already exists"):
        cred.create()
    CredentialDir(tmp_path, "a-cred").create().write_meta({})
    (tmp_path / "empty").mkdir()
    (tmp_path / ".hidden").mkdir()
    assert list_credentials(tmp_path) == ["a-cred", "b-cred"]
    with pytest.raises(StoreError, match="not a credential directory"):
        CredentialDir(tmp_path, "empty").load_meta()
