"""CA directory layout, metadata order and private key permission checks."""

import json
import os
import stat
from datetime import datetime, timezone

import pytest

from qpki.errors import InputError, StoreError
from qpki.store.ca_dir import CaDir

SEED_SOFTWARE = """{
    "profile": "ec/root-ca",
    "created": "2025-01-02T10:30:00Z",
    "keys": [
        {
            "id": "default",
            "algorithm": "ecdsa-p384",
            "storage": {
                "type": "software",
                "path": "private/ca.ecdsa-p384.key"
            }
        }
    ]
}
"""

HYBRID = {
    "profile": "hybrid/catalyst/root-ca",
    "created": "2025-01-02T10:30:00Z",
    "keys": [
        {
            "id": "classical",
            "algorithm": "ecdsa-p384",
            "storage": {
                "type": "pkcs11",
                "config": "./hsm.yaml",
                "label": "ca-root-classical",
            },
        },
        {
            "id": "pqc",
            "algorithm": "ml-dsa-65",
            "storage": {"type": "software", "path": "private/ca.ml-dsa-65.key"},
        },
    ],
}


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_paths(tmp_path):
    ca = CaDir(tmp_path)
    assert ca.meta == tmp_path / "ca.meta.json"
    assert ca.cert == tmp_path / "ca.crt"
    assert ca.chain == tmp_path / "chain.crt"
    assert ca.index == tmp_path / "index.txt"
    assert ca.index_attr == tmp_path / "index.txt.attr"
    assert ca.serial == tmp_path / "serial"
    assert ca.crlnumber == tmp_path / "crlnumber"
    assert ca.certs_dir == tmp_path / "certs"
    assert ca.crl_dir == tmp_path / "crl"
    assert ca.private_dir == tmp_path / "private"
    assert ca.crl_path() == tmp_path / "crl" / "ca.crl"
    assert ca.crl_path(der=True) == tmp_path / "crl" / "ca.crl.der"
    assert ca.crl_path("ml-dsa-65") == tmp_path / "crl" / "ca.ml-dsa-65.crl"
    assert (
        ca.crl_path("ml-dsa-65", der=True) == tmp_path / "crl" / "ca.ml-dsa-65.crl.der"
    )
    assert ca.key_path("ecdsa-p384") == tmp_path / "private" / "ca.ecdsa-p384.key"
    assert CaDir.key_relpath("ecdsa-p384") == "private/ca.ecdsa-p384.key"
    assert ca.cert_path(0xABC) == tmp_path / "certs" / "0ABC.crt"
    assert ca.cert_path(0x1A2B) == tmp_path / "certs" / "1A2B.crt"
    assert os.fspath(ca) == str(tmp_path)


@pytest.mark.parametrize("bad", ["../x", "a/b", "..", ".hidden", "", "a\x00b"])
def test_algorithm_cannot_escape(tmp_path, bad):
    ca = CaDir(tmp_path)
    with pytest.raises(InputError):
        ca.key_path(bad)
    with pytest.raises(InputError):
        ca.crl_path(bad)


def test_resolve_stored_paths(tmp_path):
    ca = CaDir(tmp_path)
    assert (
        ca.resolve("private/ca.ecdsa-p384.key")
        == tmp_path / "private" / "ca.ecdsa-p384.key"
    )
    assert ca.resolve("/etc/keys/k.pem") == CaDir("/etc/keys/k.pem").path
    for bad in ("../escape.key", "private/../../x", "a//b"):
        with pytest.raises(InputError, match="ca.meta.json"):
            ca.resolve(bad)


def test_cert_path_rejects_negative(tmp_path):
    with pytest.raises(StoreError):
        CaDir(tmp_path).cert_path(-1)


def test_create_layout(tmp_path):
    old = os.umask(0)
    try:
        ca = CaDir(tmp_path / "ca").create_layout()
    finally:
        os.umask(old)
    assert ca.certs_dir.is_dir() and ca.crl_dir.is_dir()
    assert mode_of(ca.private_dir) == 0o700
    assert ca.index.read_text() == ""
    assert ca.index_attr.read_text() == "unique_subject = no\n"
    assert not ca.exists()
    ca.create_layout()  # interrupted init: may run again


def test_create_layout_tightens_private_dir(tmp_path):
    (tmp_path / "private").mkdir(mode=0o755)
    os.chmod(tmp_path / "private", 0o755)
    CaDir(tmp_path).create_layout()
    assert mode_of(tmp_path / "private") == 0o700


def test_create_layout_refuses_existing_ca(tmp_path):
    ca = CaDir(tmp_path).create_layout()
    ca.write_meta(json.loads(SEED_SOFTWARE))
    with pytest.raises(StoreError, match=f"CA directory already exists: {tmp_path}$"):
        ca.create_layout()


def test_require(tmp_path):
    with pytest.raises(StoreError) as info:
        CaDir(tmp_path).require()
    assert str(info.value) == f"not a CA directory: {tmp_path} (no ca.meta.json)"
    with pytest.raises(StoreError, match="not a CA directory"):
        CaDir(tmp_path).load_meta()


def test_meta_is_written_exactly_like_the_seed(tmp_path):
    ca = CaDir(tmp_path)
    meta = json.loads(SEED_SOFTWARE)
    # Scrambled key order in, seed order out.
    scrambled = {
        "keys": [
            {
                "storage": {
                    "path": meta["keys"][0]["storage"]["path"],
                    "type": "software",
                },
                "algorithm": "ecdsa-p384",
                "id": "default",
            }
        ],
        "created": datetime(2025, 1, 2, 10, 30, tzinfo=timezone.utc),
        "profile": "ec/root-ca",
    }
    ca.write_meta(scrambled)
    assert ca.meta.read_text() == SEED_SOFTWARE
    assert mode_of(ca.meta) == 0o644
    assert ca.load_meta() == meta


def test_hybrid_meta_order_and_extras(tmp_path):
    ca = CaDir(tmp_path)
    meta = dict(HYBRID)
    meta = {"parent": "../root", "subject": "/CN=Sub", **meta}
    ca.write_meta(meta)
    loaded = ca.load_meta()
    assert list(loaded) == ["profile", "created", "keys", "parent", "subject"]
    assert [list(key) for key in loaded["keys"]] == [["id", "algorithm", "storage"]] * 2
    assert list(loaded["keys"][0]["storage"]) == ["type", "config", "label"]
    assert loaded["keys"] == HYBRID["keys"]


@pytest.mark.parametrize(
    "change,why",
    [
        (lambda m: m.pop("profile"), "'profile' is missing"),
        (lambda m: m.update(keys=[]), "'keys' must be a non-empty list"),
        (lambda m: m["keys"][0]["storage"].update(type="tpm"), "keys[0].storage.type"),
        (lambda m: m["keys"][1].pop("algorithm"), "keys[1].algorithm is missing"),
        (lambda m: m["keys"][1].update(id="classical"), "appears twice"),
        (lambda m: m["keys"][0]["storage"].pop("label"), "needs a label or a key_id"),
    ],
)
def test_malformed_meta_is_refused(tmp_path, change, why):
    meta = json.loads(json.dumps(HYBRID))
    change(meta)
    ca = CaDir(tmp_path)
    with pytest.raises(StoreError) as info:
        ca.write_meta(meta)
    assert why in str(info.value) and str(ca.meta) in str(info.value)
    ca.meta.write_text(json.dumps(meta))
    with pytest.raises(StoreError, match="invalid"):
        ca.load_meta()


def test_invalid_json_names_the_file(tmp_path):
    ca = CaDir(tmp_path)
    ca.meta.write_text("{\n  oops\n")
    with pytest.raises(StoreError, match=f"invalid JSON in {ca.meta}: .* line 2"):
        ca.load_meta()


def test_read_cert_and_chain(tmp_path):
    ca = CaDir(tmp_path)
    with pytest.raises(StoreError, match=f"missing CA certificate: {ca.cert}"):
        ca.read_cert_pem()
    assert ca.read_chain_pem() is None
    ca.write_cert_pem(b"-----BEGIN CERTIFICATE-----\n")
    assert ca.read_cert_pem() == b"-----BEGIN CERTIFICATE-----\n"


def test_private_key_modes(tmp_path):
    ca = CaDir(tmp_path).create_layout()
    ca.check_private_key_modes()  # empty: fine
    key = ca.key_path("ecdsa-p384")
    key.write_bytes(b"k")
    os.chmod(key, 0o600)
    ca.check_private_key_modes()
    os.chmod(key, 0o644)
    with pytest.raises(StoreError) as info:
        ca.check_private_key_modes()
    assert str(info.value) == (
        f"refusing to use {key}: mode 0644 lets group/others read the private key (chmod 600)"
    )
    os.chmod(key, 0o620)
    with pytest.raises(StoreError, match="mode 0620 lets group/others replace"):
        ca.check_private_key_modes()
    os.chmod(key, 0o600)
    CaDir(tmp_path / "hsm-only").check_private_key_modes()  # no private/ at all
