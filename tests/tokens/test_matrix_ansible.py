"""The root CA role on each token of the matrix: key generated in the token
by qpki_hsm_key, the CA by qpki_ca, its CRL by qpki_crl; run twice, the
second run changes nothing. ansible-playbook runs where the token is
visible (for openCryptoki, inside its namespace)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT
from tokens.test_matrix_flow import assert_key_protected, family, ok, openssl, root_algorithm
from tokens.token import RunningToken

pytestmark = pytest.mark.ansible


def collection_path(base: Path) -> Path:
    """An ANSIBLE_COLLECTIONS_PATH whose qpki.pki is this checkout."""
    namespace = base / "collections" / "ansible_collections" / "qpki"
    namespace.mkdir(parents=True)
    (namespace / "pki").symlink_to(REPO_ROOT)
    return base / "collections"


def test_root_ca_role_on_the_token(running_token: RunningToken,
                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("ansible-" + running_token.name)
    config = running_token.write_config(base / "hsm.yaml")
    playbook = base / "root.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Root CA in the token",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "roles": [{
            "role": "qpki.pki.root_ca",
            "root_ca_dir": str(base / "root"),
            "root_ca_profile": family(running_token) + "/root-ca",
            "root_ca_vars": {"cn": "Ansible Matrix Root"},
            "root_ca_key_algorithm": root_algorithm(running_token),
            "root_ca_key_label": "ansible-root",
            "root_ca_hsm_config": str(config),
            "root_ca_hsm_pin": "{{ lookup('ansible.builtin.env', 'QPKI_TEST_TOKEN_PIN') }}",
            "root_ca_environment": running_token.env,
        }],
    }], sort_keys=False))
    env = {"ANSIBLE_COLLECTIONS_PATH": str(collection_path(base)),
           "ANSIBLE_HOME": str(base / "ansible-home"), "ANSIBLE_LOCAL_TEMP": str(base / "tmp"),
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
           "ANSIBLE_DEPRECATION_WARNINGS": "0", "ANSIBLE_LOCALHOST_WARNING": "0",
           "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
           "QPKI_TEST_TOKEN_PIN": running_token.pin, "HSM_PIN": ""}
    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    first = ok(running_token.run([ansible_playbook, "-i", "localhost,", str(playbook)],
                                 cwd=base, env=env))
    assert re.search(r"localhost\s*:.*changed=3\b.*failed=0", first.stdout), first.stdout
    assert running_token.pin not in first.stdout + first.stderr
    second = ok(running_token.run([ansible_playbook, "-i", "localhost,", str(playbook)],
                                  cwd=base, env=env))
    assert re.search(r"localhost\s*:.*changed=0\b.*failed=0", second.stdout), second.stdout
    meta = json.loads((base / "root" / "ca.meta.json").read_text())
    assert meta["keys"][0]["storage"]["label"] == "ansible-root"
    ok(openssl("verify", "-CAfile", "root/ca.crt", "root/ca.crt", cwd=base))
    crl = openssl("crl", "-in", "root/crl/ca.crl", "-CAfile", "root/ca.crt", "-noout", "-verify",
                  cwd=base)
    assert crl.returncode == 0 and "verify OK" in crl.stderr, crl.stderr
    assert_key_protected(running_token, "ansible-root")
