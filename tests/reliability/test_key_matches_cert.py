"""A CA's keys are checked against ca.crt before anything is signed or
written (issue 13, item 10).

A key file swapped for another CA's key of the same algorithm, a token key
swapped for another of the same type, or a ca.crt swapped for another CA's
certificate: every signing command refuses on one line that names the key
and ca.crt, and the CA directory stays byte-identical. Covered: ECDSA and
ML-DSA key files, a token key (SoftHSM2), both keys of a catalyst CA (a
classical one in the token and an ML-DSA one in a file, or both in files)
and a composite key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reliability_support import make_csr

OPERATIONS = {
    "cert issue": ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-client", "--csr",
                   "a.csr", "--var", "cn=a.example.com"],
    "crl gen": ["crl", "gen", "--ca-dir", "ca"],
    "credential enroll": ["credential", "enroll", "--ca-dir", "ca", "--cred-dir", "creds",
                          "--profile", "ec/tls-client", "--var", "cn=c.example.com"],
}


def _init(qpki_cli, name: str, profile: str, *extra: str) -> Path:
    qpki_cli("ca", "init", "--profile", profile, "--var", f"cn={name}", "--ca-dir", name,
             *extra, check=True)
    return Path(name)


def _refused(qpki_cli, tmp_path: Path, argv: list[str], key_text: str, tree_snapshot,
             diff_snapshots) -> None:
    (tmp_path / "a.csr").write_bytes(make_csr("a.example.com"))
    before = tree_snapshot(tmp_path / "ca", exclude=(".lock",))
    result = qpki_cli(*argv)
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result
    assert key_text in lines[0] and "does not match ca/ca.crt" in lines[0], lines[0]
    assert diff_snapshots(before, tree_snapshot(tmp_path / "ca", exclude=(".lock",))) == []
    assert not (tmp_path / "creds").exists() or not any((tmp_path / "creds").iterdir())


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("profile,key", [("ec/root-ca", "private/ca.ecdsa-p384.key"),
                                         ("ml/root-ca", "private/ca.ml-dsa-87.key")])
def test_swapped_key_file_is_refused(qpki_cli, tmp_path, tree_snapshot, diff_snapshots,
                                     operation, profile, key):
    _init(qpki_cli, "ca", profile)
    _init(qpki_cli, "other", profile)
    shutil.copyfile(tmp_path / "other" / key, tmp_path / "ca" / key)
    _refused(qpki_cli, tmp_path, OPERATIONS[operation], f"CA key default ({key})",
             tree_snapshot, diff_snapshots)


def test_swapped_certificate_is_refused(qpki_cli, tmp_path, tree_snapshot, diff_snapshots):
    _init(qpki_cli, "ca", "ec/root-ca")
    _init(qpki_cli, "other", "ec/root-ca")
    shutil.copyfile(tmp_path / "other/ca.crt", tmp_path / "ca/ca.crt")
    _refused(qpki_cli, tmp_path, OPERATIONS["cert issue"],
             "CA key default (private/ca.ecdsa-p384.key)", tree_snapshot, diff_snapshots)


@pytest.mark.parametrize("swapped", ["classical", "pqc"])
def test_catalyst_keys_are_both_checked(qpki_cli, tmp_path, tree_snapshot, diff_snapshots,
                                        swapped):
    _init(qpki_cli, "ca", "hybrid/catalyst/root-ca")
    _init(qpki_cli, "other", "hybrid/catalyst/root-ca")
    key = {"classical": "private/ca.ecdsa-p384.key", "pqc": "private/ca.ml-dsa-87.key"}[swapped]
    shutil.copyfile(tmp_path / "other" / key, tmp_path / "ca" / key)
    argv = ["crl", "gen", "--ca-dir", "ca"]
    _refused(qpki_cli, tmp_path, argv, f"CA key {swapped} ({key})", tree_snapshot,
             diff_snapshots)


def test_composite_key_is_checked(qpki_cli, tmp_path, tree_snapshot, diff_snapshots):
    _init(qpki_cli, "ca", "hybrid/composite/root-ca")
    _init(qpki_cli, "other", "hybrid/composite/root-ca")
    key = "private/ca.composite-mldsa87-ecdsa-p521.key"
    shutil.copyfile(tmp_path / "other" / key, tmp_path / "ca" / key)
    _refused(qpki_cli, tmp_path, ["crl", "gen", "--ca-dir", "ca"], f"CA key default ({key})",
             tree_snapshot, diff_snapshots)


def _point_to(meta_path: Path, key_id: str, label: str) -> None:
    meta = json.loads(meta_path.read_text())
    for entry in meta["keys"]:
        if entry["id"] == key_id:
            entry["storage"]["label"] = label
    meta_path.write_text(json.dumps(meta, indent=4))


def test_swapped_token_key_is_refused(softhsm_token, qpki_cli, tmp_path, tree_snapshot,
                                      diff_snapshots):
    hsm = softhsm_token.write_config(tmp_path / "hsm.yaml")
    softhsm_token.keygen("EC:secp384r1", label="root-key", key_id="01")
    softhsm_token.keygen("EC:secp384r1", label="spare-key", key_id="02")
    _init(qpki_cli, "ca", "ec/root-ca", "--hsm-config", str(hsm), "--key-label", "root-key")
    _point_to(tmp_path / "ca/ca.meta.json", "default", "spare-key")
    for argv in (OPERATIONS["cert issue"], OPERATIONS["crl gen"]):
        _refused(qpki_cli, tmp_path, argv, "CA key default (token key label 'spare-key')",
                 tree_snapshot, diff_snapshots)


def test_catalyst_ca_with_token_key_checks_both(softhsm_token, qpki_cli, tmp_path,
                                                tree_snapshot, diff_snapshots):
    hsm = softhsm_token.write_config(tmp_path / "hsm.yaml")
    softhsm_token.keygen("EC:secp384r1", label="cat-key", key_id="01")
    softhsm_token.keygen("EC:secp384r1", label="spare-key", key_id="02")
    _init(qpki_cli, "ca", "hybrid/catalyst/root-ca", "--hsm-config", str(hsm), "--key-label",
          "cat-key")
    _init(qpki_cli, "other", "hybrid/catalyst/root-ca")
    pqc = "private/ca.ml-dsa-87.key"
    saved = (tmp_path / "ca" / pqc).read_bytes()
    shutil.copyfile(tmp_path / "other" / pqc, tmp_path / "ca" / pqc)
    _refused(qpki_cli, tmp_path, ["crl", "gen", "--ca-dir", "ca"], f"CA key pqc ({pqc})",
             tree_snapshot, diff_snapshots)
    (tmp_path / "ca" / pqc).write_bytes(saved)
    _point_to(tmp_path / "ca/ca.meta.json", "classical", "spare-key")
    _refused(qpki_cli, tmp_path, ["crl", "gen", "--ca-dir", "ca"],
             "CA key classical (token key label 'spare-key')", tree_snapshot, diff_snapshots)
