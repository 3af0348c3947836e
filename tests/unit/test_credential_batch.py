"""credential_ensure_many: the qpki_credential batch form (``credentials``).

Real CA and credential directories (software keys); every certificate is
checked with ``openssl verify`` against the chain, and a rerun must sign and
write nothing.
"""

import json
import os
import shutil
import subprocess

import pytest

from qpki.errors import InputError
from qpki.ops.ca.state import ca_ensure
from qpki.ops.credential.state import (CredentialRequest, credential_ensure,
                                       credential_ensure_many)
from qpki.store.index import read_index

from ensure_support import file_contents, two_tier_pki


@pytest.fixture()
def pki(tmp_path):
    """A root CA and an issuing CA (software keys) in tmp_path."""
    return two_tier_pki(tmp_path)


def _requests(names, **extra):
    return [CredentialRequest("ec/tls-server", {"cn": name, "dns_names": [name]},
                              credential_id=name, **extra) for name in names]


@pytest.fixture()
def a_example(pki):
    """pki with the credential a.example enrolled in tmp_path/creds:
    ``(tmp_path, issuing_dir, creds_dir)``."""
    tmp_path, _root, issuing = pki
    creds = str(tmp_path / "creds")
    credential_ensure_many(issuing, creds, _requests(["a.example"]))
    return tmp_path, issuing, creds


def _openssl_verify(root, result):
    proc = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(root, "ca.crt"),
                           "-untrusted", result["chain_path"], result["cert_path"]],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_batch_enrolls_verifies_and_is_idempotent(pki):
    tmp_path, root, issuing = pki
    creds = str(tmp_path / "creds")
    names = ["host%02d.example.net" % n for n in range(12)]
    index_before = len(read_index(os.path.join(issuing, "index.txt")))
    made = credential_ensure_many(issuing, creds, _requests(names)).to_dict()
    assert made["changed"] is True and made["enrolled"] == 12
    assert [r["id"] for r in made["results"]] == names
    assert len(read_index(os.path.join(issuing, "index.txt"))) == index_before + 12
    serials = set()
    for name, result in zip(names, made["results"], strict=False):
        assert result["changed"] is True
        assert result["subject"] == "CN=%s" % name
        assert result["sans"] == [name]
        assert result["reasons"] == ["no credential %s in %s" % (name, creds)]
        _openssl_verify(root, result)
        assert os.stat(result["key_path"]).st_mode & 0o777 == 0o600
        # the key in the credential is the certificate's key
        key_pub = subprocess.run(["openssl", "pkey", "-in", result["key_path"], "-pubout"],
                                 capture_output=True, check=True).stdout
        cert_pub = subprocess.run(["openssl", "x509", "-in", result["cert_path"], "-noout",
                                   "-pubkey"], capture_output=True, check=True).stdout
        assert key_pub == cert_pub
        with open(os.path.join(creds, name, "credential.meta.json")) as handle:
            meta = json.load(handle)
        assert meta["id"] == name and meta["profiles"] == ["ec/tls-server"]
        serials.add(result["serial"])
    assert len(serials) == 12
    assert not [n for n in os.listdir(creds) if n.startswith(".")]  # no staging left

    before = file_contents(tmp_path)
    again = credential_ensure_many(issuing, creds, _requests(names)).to_dict()
    assert again["changed"] is False and again["enrolled"] == 0
    assert [r["serial"] for r in again["results"]] == [r["serial"] for r in made["results"]]
    assert file_contents(tmp_path) == before  # nothing signed, nothing written

    # the single form agrees with what the batch made
    single = credential_ensure(issuing, creds, "ec/tls-server",
                               {"cn": names[0], "dns_names": [names[0]]},
                               credential_id=names[0]).to_dict()
    assert single["changed"] is False


def test_batch_only_enrolls_what_is_missing(pki):
    tmp_path, root, issuing = pki
    creds = str(tmp_path / "creds")
    credential_ensure_many(issuing, creds, _requests(["a.example", "b.example"]))
    shutil.rmtree(os.path.join(creds, "b.example"))
    result = credential_ensure_many(issuing, creds, _requests(["a.example", "b.example",
                                                              "c.example"])).to_dict()
    assert result["enrolled"] == 2
    assert [r["changed"] for r in result["results"]] == [False, True, True]
    for item in result["results"]:
        _openssl_verify(root, item)


def test_batch_check_mode_writes_nothing(a_example):
    tmp_path, issuing, creds = a_example
    before = file_contents(tmp_path)
    predicted = credential_ensure_many(issuing, creds, _requests(["a.example", "b.example"]),
                                       check_mode=True).to_dict()
    assert predicted["changed"] is True and predicted["enrolled"] == 0
    assert [r["changed"] for r in predicted["results"]] == [False, True]
    assert predicted["results"][1]["subject"] == "CN=b.example"
    assert file_contents(tmp_path) == before


def test_batch_check_mode_without_ca(tmp_path):
    predicted = credential_ensure_many(str(tmp_path / "none"), str(tmp_path / "creds"),
                                       _requests(["a.example"]), check_mode=True).to_dict()
    assert predicted["results"][0]["reasons"] == ["CA does not exist yet (check mode)"]
    assert not os.path.exists(tmp_path / "creds")


def test_batch_without_ids_looks_up_by_profile_and_cn(pki):
    tmp_path, root, issuing = pki
    creds = str(tmp_path / "creds")
    requests = [CredentialRequest("ec/tls-client", {"cn": "user%d" % n}) for n in range(3)]
    made = credential_ensure_many(issuing, creds, requests).to_dict()
    assert made["enrolled"] == 3
    requests = [CredentialRequest("ec/tls-client", {"cn": "user%d" % n}) for n in range(3)]
    again = credential_ensure_many(issuing, creds, requests).to_dict()
    assert again["enrolled"] == 0
    assert [r["id"] for r in again["results"]] == [r["id"] for r in made["results"]]
    for item in made["results"]:
        _openssl_verify(root, item)


def test_batch_mismatch_names_the_item_and_signs_nothing(a_example):
    tmp_path, issuing, creds = a_example
    before = file_contents(tmp_path)
    changed = [CredentialRequest("ec/tls-server", {"cn": "b.example"}, credential_id="b"),
               CredentialRequest("ec/tls-server", {"cn": "a.example",
                                                   "dns_names": ["other.example"]},
                                 credential_id="a.example")]
    with pytest.raises(InputError, match=r"credentials\[1\]: credential a.example .* "
                                         r"subjectAltName differs"):
        credential_ensure_many(issuing, creds, changed)
    assert file_contents(tmp_path) == before


def test_batch_refuses_bad_items_before_signing(pki):
    tmp_path, _root, issuing = pki
    creds = str(tmp_path / "creds")
    before = file_contents(tmp_path)
    with pytest.raises(InputError, match=r"credentials\[0\] and credentials\[1\] both ask"):
        credential_ensure_many(issuing, creds, _requests(["a.example", "a.example"]))
    with pytest.raises(InputError, match=r"credentials\[1\]: profile ec/issuing-ca is a CA"):
        credential_ensure_many(issuing, creds, _requests(["a.example"]) + [
            CredentialRequest("ec/issuing-ca", {"cn": "x"}, credential_id="x")])
    with pytest.raises(InputError, match=r"credentials\[0\]: .*cn"):
        credential_ensure_many(issuing, creds, [CredentialRequest("ec/tls-server", {},
                                                                  credential_id="x")])
    assert file_contents(tmp_path) == before


def test_batch_catalyst_credentials(tmp_path):
    root, issuing = str(tmp_path / "root"), str(tmp_path / "issuing")
    ca_ensure(root, "hybrid/catalyst/root-ca", {"cn": "Root"})
    ca_ensure(issuing, "hybrid/catalyst/issuing-ca", {"cn": "Issuing"}, parent_dir=root)
    creds = str(tmp_path / "creds")
    requests = [CredentialRequest("hybrid/catalyst/tls-server", {"cn": n, "dns_names": [n]},
                                  credential_id=n) for n in ("a.example", "b.example")]
    made = credential_ensure_many(issuing, creds, requests).to_dict()
    assert made["enrolled"] == 2
    for item in made["results"]:
        _openssl_verify(root, item)  # the classical chain
        assert len([p for p in item["paths"] if p.endswith(".key")]) == 2
    requests = [CredentialRequest("hybrid/catalyst/tls-server", {"cn": n, "dns_names": [n]},
                                  credential_id=n) for n in ("a.example", "b.example")]
    assert credential_ensure_many(issuing, creds, requests).to_dict()["changed"] is False


def test_cli_enroll_batch(pki):
    tmp_path, root, issuing = pki
    creds = str(tmp_path / "creds")
    batch = tmp_path / "batch.yml"
    batch.write_text("- credential_id: a.example\n  vars: {cn: a.example, dns_names: [a.example]}\n"
                     "- vars: {cn: b.example}\n  profile: ec/tls-client\n")
    qpki = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", ".venv", "bin",
                        "qpki")
    command = [qpki if os.path.exists(qpki) else "qpki", "credential", "enroll", "--json",
               "--batch", str(batch), "--ca-dir", issuing, "--cred-dir", creds,
               "--profile", "ec/tls-server"]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["count"] == 2
    first, second = result["credentials"]
    assert first["id"] == "a.example" and second["id"].startswith("b-example-")
    for item in result["credentials"]:
        chain = os.path.join(creds, item["id"], "chain.crt")
        _openssl_verify(root, dict(item, chain_path=chain))
    # not declarative: enrolling a.example again is refused before anything is signed
    before = file_contents(tmp_path)
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "credentials[0]: credential a.example already exists" in proc.stdout + proc.stderr
    assert file_contents(tmp_path) == before
