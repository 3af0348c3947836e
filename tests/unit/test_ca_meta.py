"""ca.meta.json read in both shapes: the seed's flat one and QPKI's versioned one."""

import json
import shutil

import pytest

from qpki.errors import StoreError
from qpki.store.ca_dir import CaDir
from qpki_vectors import QPKI

QPKI_CA_DIR = QPKI / "ca-dirs/ecdsa/ca"

FLAT = {"profile": "ec/root-ca", "created": "2025-01-02T10:30:00Z",
        "keys": [{"id": "default", "algorithm": "ecdsa-p384",
                  "storage": {"type": "software", "path": "private/ca.ecdsa-p384.key"}}]}


def _key(path="versions/v1/keys/ca.ecdsa-p384.key", algorithm="ecdsa-p384"):
    return {"id": "default", "algorithm": algorithm, "storage": {"type": "software", "path": path}}


def versioned(**changes):
    v1 = {"profiles": ["ec/root-ca"], "algos": ["ecdsa-p384"],
          "created": "2026-01-01T00:00:00Z", "activated_at": "2026-01-01T00:00:00Z",
          "archived_at": "2026-06-01T00:00:00Z", "keys": [_key()]}
    v2 = {"profiles": ["hybrid/catalyst/root-ca"], "algos": ["ecdsa-p384", "ml-dsa-87"],
          "created": "2026-05-01T00:00:00Z", "activated_at": "2026-06-01T00:00:00Z",
          "cross_signed_by": ["v1"],
          "keys": [dict(_key("versions/v2/keys/ca.ecdsa-p384.key"), id="classical"),
                   dict(_key("versions/v2/keys/ca.ml-dsa-87.key", "ml-dsa-87"), id="pqc")]}
    v3 = {"profiles": ["ml/root-ca"], "algos": ["ml-dsa-87"], "created": "2026-07-01T00:00:00Z",
          "keys": [_key("versions/v3/keys/ca.ml-dsa-87.key", "ml-dsa-87")]}
    meta = {"subject": {"common_name": "Rotated CA"}, "created": "2026-01-01T00:00:00Z",
            "active": "v2", "versions": {"v1": v1, "v2": v2, "v3": v3}}
    meta.update(changes)
    return meta


def ca_dir(tmp_path, meta):
    (tmp_path / "ca.meta.json").write_text(json.dumps(meta))
    return CaDir(tmp_path)


def test_qpki_versioned_metadata_is_read():
    meta = CaDir(QPKI_CA_DIR).load_ca_meta()
    assert (meta.shape, meta.active, list(meta.versions)) == ("versioned", "v1", ["v1"])
    version = meta.active_version
    assert version.status == "active" and version.algorithms == ("ecdsa-p384",)
    assert version.profile is None  # QPKI wrote profiles [""]
    assert meta.subject["common_name"] == "Test ECDSA CA"
    assert CaDir(QPKI_CA_DIR).load_meta() == {
        "profile": None, "created": "2026-02-14T12:47:19.66988+01:00", "version": "v1",
        "keys": [_key()]}


def test_versions_have_a_status_and_the_active_one_gives_the_keys(tmp_path):
    meta = ca_dir(tmp_path, versioned()).load_ca_meta()
    assert [(v.id, v.status) for v in meta.versions.values()] == [
        ("v1", "archived"), ("v2", "active"), ("v3", "pending")]
    assert meta.versions["v2"].cross_signed_by == ("v1",)
    flat = CaDir(tmp_path).load_meta()
    assert flat["profile"] == "hybrid/catalyst/root-ca" and flat["version"] == "v2"
    assert [k["id"] for k in flat["keys"]] == ["classical", "pqc"]


def test_version_order_is_numeric(tmp_path):
    versions = {f"v{n}": {"profiles": ["ec/root-ca"], "keys": [_key()]} for n in (10, 2, 1)}
    meta = ca_dir(tmp_path, {"active": "v10", "versions": versions}).load_ca_meta()
    assert list(meta.versions) == ["v1", "v2", "v10"]


def test_flat_metadata_is_one_active_version(tmp_path):
    meta = ca_dir(tmp_path, FLAT).load_ca_meta()
    assert (meta.shape, meta.active) == ("flat", "v1")
    assert meta.active_version.profile == "ec/root-ca"
    assert meta.active_version.keys == tuple(FLAT["keys"])
    assert CaDir(tmp_path).load_meta() == FLAT  # the seed's view is the file itself


@pytest.mark.parametrize("change,message", [
    ({"active": "v9"}, "active version 'v9' is not among the versions (v1, v2, v3)"),
    ({"active": ""}, "'active' is missing"),
    ({"versions": {}}, "'versions' must be a non-empty object"),
    ({"versions": []}, "'versions' must be a non-empty object"),
    ({"versions": {"v2": "x"}}, "versions.v2 must be an object"),
    ({"versions": {"v2": {"keys": {}}}}, "versions.v2.keys must be a list"),
    ({"versions": {"v2": {"keys": [{"id": "default", "algorithm": "ecdsa-p384",
                                    "storage": {"type": "disk"}}]}}},
     "versions.v2.keys[0].storage.type must be 'software' or 'pkcs11'"),
    ({"versions": {"v2": {"profiles": "ec/root-ca"}}}, "versions.v2.profiles must be a list"),
    ({"active": "../x", "versions": {"../x": {}}}, "invalid version id '../x'"),
    ({"subject": "CN=x"}, "'subject' must be an object"),
])
def test_malformed_versioned_metadata_is_refused(tmp_path, change, message):
    with pytest.raises(StoreError) as err:
        ca_dir(tmp_path, versioned(**change)).load_ca_meta()
    assert message in str(err.value) and str(tmp_path / "ca.meta.json") in str(err.value)
    assert "\n" not in str(err.value)


def test_reading_changes_nothing(tmp_path, tree_snapshot):
    copy = tmp_path / "ca"
    shutil.copytree(QPKI_CA_DIR, copy)
    before = tree_snapshot(copy)
    CaDir(copy).load_ca_meta()
    assert tree_snapshot(copy) == before
