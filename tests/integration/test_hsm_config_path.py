"""The HSM configuration path stored in ca.meta.json and credential.meta.json
does not depend on the directory a command runs from (issue 13, item 17).

`ca init --hsm-config hsm.yaml` (a relative path, as in the README) stores
a path that later commands find from any working directory, as Ansible
runs them; relative entries are read relative to the CA directory (DESIGN
§4); an old relative entry that does not resolve there is a clear error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


@pytest.fixture
def hsm_ca(softhsm_token, qpki_cli, tmp_path: Path) -> Path:
    """An HSM root CA made from tmp_path/setup with --hsm-config hsm.yaml."""
    setup = tmp_path / "setup"
    setup.mkdir()
    softhsm_token.write_config(setup / "hsm.yaml")
    softhsm_token.keygen("EC:secp384r1", label="root-key", key_id="01")
    qpki_cli("ca", "init", "--hsm-config", "hsm.yaml", "--key-label", "root-key", "--profile",
             "ec/root-ca", "--var", "cn=Path Root", "--ca-dir", "ca", cwd=setup, check=True)
    return setup / "ca"


def _stored_config(meta_path: Path) -> str:
    return json.loads(meta_path.read_text())["keys"][0]["storage"]["config"]


def test_config_path_works_from_any_directory(hsm_ca, softhsm_token, qpki_cli, tmp_path):
    stored = _stored_config(hsm_ca / "ca.meta.json")
    assert os.path.isabs(stored) and Path(stored) == tmp_path / "setup" / "hsm.yaml"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    qpki_cli("crl", "gen", "--ca-dir", hsm_ca, cwd=elsewhere, check=True)
    enrolled = qpki_cli("credential", "enroll", "--ca-dir", hsm_ca, "--cred-dir", "creds",
                        "--profile", "ec/tls-server", "--var", "cn=h.example.com",
                        "--hsm-config", "../setup/hsm.yaml", "--key-label", "leaf-key",
                        "--json", cwd=elsewhere, check=True).json()
    cred_meta = elsewhere / Path(enrolled["cert_path"]).parent / "credential.meta.json"
    storage = json.loads(cred_meta.read_text())["certificates"][0]["storage"][0]
    assert storage["type"] == "pkcs11"
    assert Path(storage["config"]) == tmp_path / "setup" / "hsm.yaml"


def test_relative_entry_is_relative_to_the_ca_directory(hsm_ca, qpki_cli, tmp_path):
    meta_path = hsm_ca / "ca.meta.json"
    meta = json.loads(meta_path.read_text())
    (hsm_ca / "hsm.yaml").write_bytes((tmp_path / "setup" / "hsm.yaml").read_bytes())
    meta["keys"][0]["storage"]["config"] = "hsm.yaml"
    meta_path.write_text(json.dumps(meta, indent=4))
    qpki_cli("crl", "gen", "--ca-dir", hsm_ca, cwd="/", check=True)


def test_old_relative_entry_gives_a_clear_error(hsm_ca, qpki_cli, tmp_path, tree_snapshot,
                                                diff_snapshots):
    """What ca init wrote before: the path relative to where it ran."""
    meta_path = hsm_ca / "ca.meta.json"
    meta = json.loads(meta_path.read_text())
    meta["keys"][0]["storage"]["config"] = "hsm.yaml"
    meta_path.write_text(json.dumps(meta, indent=4))
    before = tree_snapshot(hsm_ca, exclude=(".lock",))
    elsewhere = qpki_cli("crl", "gen", "--ca-dir", hsm_ca, cwd=tmp_path)
    assert elsewhere.returncode == 1, elsewhere
    line = elsewhere.stderr.strip()
    assert "'hsm.yaml'" in line and str(meta_path) in line and "does not exist" in line
    assert str(hsm_ca / "hsm.yaml") in line
    # From the directory ca init ran in, the cwd would have found it: say so, do not use it.
    here = qpki_cli("crl", "gen", "--ca-dir", "ca", cwd=tmp_path / "setup")
    assert here.returncode == 1, here
    assert "exists relative to the current directory" in here.stderr
    assert str(tmp_path / "setup" / "hsm.yaml") in here.stderr
    assert diff_snapshots(before, tree_snapshot(hsm_ca, exclude=(".lock",))) == []
