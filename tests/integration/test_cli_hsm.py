"""The seed's HSM commands end to end on a real SoftHSM2 token.

Token contents are checked with pkcs11-tool, chains with openssl: neither
shares code with qpki.
"""

import json
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

pytestmark = pytest.mark.hsm


def openssl(*args, cwd):
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)


def object_blocks(listing):
    """pkcs11-tool --list-objects output split into one text block per object."""
    return [b for b in re.split(r"\n(?=\S)", listing) if b.strip()]


def block_for(listing, kind, label):
    for block in object_blocks(listing):
        if block.startswith(kind) and re.search(r"label:\s+%s\s*$" % re.escape(label), block, re.M):
            return block
    raise AssertionError(f"no {kind} object labelled {label!r} in:\n{listing}")


def test_key_gen_in_token_is_sensitive_and_not_extractable(softhsm_token, qpki_cli, tmp_path):
    config = softhsm_token.write_config()
    for algorithm, label, key_id in (("ecdsa-p384", "root-ca-key", "0a0b"),
                                     ("rsa-4096", "rsa-ca-key", "0c0d")):
        qpki_cli("key", "gen", "--algorithm", algorithm, "--hsm-config", config,
                 "--key-label", label, "--key-id", key_id, check=True)
    listing = softhsm_token.list_objects()
    ec_private = block_for(listing, "Private Key Object; EC", "root-ca-key")
    rsa_private = block_for(listing, "Private Key Object; RSA", "rsa-ca-key")
    for block, key_id in ((ec_private, "0a0b"), (rsa_private, "0c0d")):
        assert re.search(r"ID:\s+%s\b" % key_id, block), block
        assert "sensitive" in block and "never extractable" in block, block
    assert "Public Key Object; EC" in listing and "Public Key Object; RSA 4096" in listing
    listed = qpki_cli("key", "list", "--hsm-config", config, "--json", check=True).json()
    labels = {k["label"] for k in listed["keys"]}
    assert {"root-ca-key", "rsa-ca-key"} <= labels
    refused = qpki_cli("key", "gen", "--algorithm", "ecdsa-p256", "--hsm-config", config,
                       "--key-label", "root-ca-key")
    assert refused.returncode == 1 and "root-ca-key" in refused.stderr


def hsm_root_chain(softhsm_token, qpki_cli, family, key_type):
    config = softhsm_token.write_config()
    softhsm_token.keygen(key_type, label="root-ca-key", key_id="01")
    qpki_cli("ca", "init", "--hsm-config", config, "--key-label", "root-ca-key",
             "--profile", f"{family}/root-ca", "--var", "cn=HSM Root CA", "--dir", "root",
             check=True)
    qpki_cli("ca", "init", "--profile", f"{family}/issuing-ca", "--var", "cn=Issuing",
             "--ca-dir", "issuing", "--parent", "root", check=True)
    cred = qpki_cli("credential", "enroll", "--ca-dir", "issuing", "--cred-dir", "creds",
                    "--profile", f"{family}/tls-server", "--var", "cn=www.example.com",
                    "--json", check=True).json()
    return config, cred


@pytest.mark.parametrize("family,key_type", [("ec", "EC:secp384r1"), ("rsa", "rsa:4096")])
def test_hsm_root_chain_and_crl(softhsm_token, qpki_cli, tmp_path, family, key_type):
    config, cred = hsm_root_chain(softhsm_token, qpki_cli, family, key_type)
    meta = json.loads((tmp_path / "root/ca.meta.json").read_text())
    assert meta["keys"] == [{"id": "default", "algorithm": "ecdsa-p384" if family == "ec"
                             else "rsa-4096",
                             "storage": {"type": "pkcs11", "config": str(config),
                                         "label": "root-ca-key"}}]
    assert not (tmp_path / "root/private").exists() or not any((tmp_path / "root/private").iterdir())
    ok = openssl("verify", "-CAfile", "root/ca.crt", "-untrusted", "issuing/ca.crt",
                 cred["cert_path"], cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    qpki_cli("crl", "gen", "--ca-dir", "root", check=True)
    crl = openssl("crl", "-in", "root/crl/ca.crl", "-CAfile", "root/ca.crt", "-noout", "-verify",
                  cwd=tmp_path)
    assert crl.returncode == 0 and "verify OK" in crl.stderr, crl.stderr


def test_credential_key_generated_in_token(softhsm_token, qpki_cli, tmp_path):
    config = softhsm_token.write_config()
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Issuing", "--ca-dir", "ca",
             check=True)
    cred = qpki_cli("credential", "enroll", "--ca-dir", "ca", "--cred-dir", "creds",
                    "--profile", "ec/tls-server", "--var", "cn=server.example.com",
                    "--var", "dns_names=server.example.com", "--hsm-config", config,
                    "--key-label", "server-key", "--json")
    assert cred.returncode == 0, cred
    result = cred.json()
    cert = x509.load_pem_x509_certificate((tmp_path / result["cert_path"]).read_bytes())
    exported = softhsm_token.pkcs11_tool("--read-object", "--type", "pubkey", "--label",
                                         "server-key", "-o", str(tmp_path / "pub.der"))
    assert exported.returncode == 0
    token_public = serialization.load_der_public_key((tmp_path / "pub.der").read_bytes())
    assert token_public == cert.public_key()
    meta = json.loads((tmp_path / "creds" / result["id"] / "credential.meta.json").read_text())
    assert meta["certificates"][0]["storage"] == [
        {"type": "pkcs11", "config": str(config), "label": "server-key"}]
    assert not list((tmp_path / "creds" / result["id"]).glob("*.key"))
    exported = qpki_cli("credential", "export", result["id"], "--cred-dir", "creds",
                        "--out", "server.p12", "--json", check=True).json()
    assert exported["key_exported"] is False and "cannot leave" in exported["note"]
    # Without a key, PKCS#12 readers list every certificate as an extra one.
    key, leaf, extra = pkcs12.load_key_and_certificates((tmp_path / "server.p12").read_bytes(),
                                                        None)
    assert key is None and leaf is None
    assert extra[0] == cert and len(extra) == 2


def test_one_login_per_issue_and_logged_out(softhsm_token, qpki_cli, tmp_path, pkcs11_spy):
    softhsm_token.keygen("EC:secp384r1", label="root-ca-key", key_id="01")
    qpki_cli("ca", "init", "--hsm-config", softhsm_token.write_config(), "--key-label",
             "root-ca-key", "--profile", "ec/root-ca", "--var", "cn=Root", "--ca-dir", "ca",
             check=True)
    spied = softhsm_token.write_config(tmp_path / "spy.yaml", lib=pkcs11_spy)
    meta_path = tmp_path / "ca/ca.meta.json"
    meta = json.loads(meta_path.read_text())
    meta["keys"][0]["storage"]["config"] = str(spied)
    meta_path.write_text(json.dumps(meta))
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", "l.key", "-subj", "/CN=l",
                    "-out", "l.csr"], cwd=tmp_path, check=True, capture_output=True)
    log = tmp_path / "spy.log"
    result = qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-client",
                      "--csr", "l.csr", "--out", "l.crt",
                      env={"PKCS11SPY": softhsm_token.lib, "PKCS11SPY_OUTPUT": str(log)})
    assert result.returncode == 0, result
    calls = re.findall(r"^\d+: (C_\w+)", log.read_text(), re.M)
    assert calls.count("C_Login") == 1, calls
    assert calls.count("C_Sign") >= 1
    assert "C_Logout" in calls and calls.index("C_Logout") > max(
        i for i, c in enumerate(calls) if c == "C_Sign")


def ec_ca_with_token_key(softhsm_token, key_type="EC:secp384r1"):
    softhsm_token.keygen(key_type, label="root-ca-key", key_id="01")
    softhsm_token.keygen("EC:secp384r1", label="other-key", key_id="02")


ERRORS = {
    # name: (config overrides, extra argv, env changes, text the error must contain)
    "wrong PIN": ({}, [], {"HSM_PIN": "000000"}, "PIN"),
    "unset pin_env variable": ({}, [], {"HSM_PIN": None}, "HSM_PIN"),
    "unknown token label": ({"token": "No-Such-Token"}, [], {}, "No-Such-Token"),
    "missing key label": ({}, ["--key-label", "missing-key"], {}, "missing-key"),
    "label and id name different keys": ({}, ["--key-label", "root-ca-key", "--key-id", "02"],
                                         {}, "root-ca-key"),
    "PQC profile in HSM mode": ({}, ["--key-label", "root-ca-key", "--profile", "ml/root-ca"],
                                {}, "ml-dsa-87"),
    "PIN stored in the YAML": ({"pin": "123456"}, [], {}, "PIN must not be stored"),
    "wrong library path": ({"lib": "/nonexistent/libpkcs11.so"}, [], {}, "/nonexistent"),
}


@pytest.mark.parametrize("name", sorted(ERRORS) + ["P-256 token key with a P-384 profile"])
def test_hsm_errors_are_one_line_write_nothing_and_hide_the_pin(
        name, softhsm_token, qpki_cli, tmp_path):
    if name.startswith("P-256"):
        softhsm_token.keygen("EC:prime256v1", label="root-ca-key", key_id="01")
        overrides, extra, env, expected = {}, [], {}, "ecdsa-p384"
    else:
        ec_ca_with_token_key(softhsm_token)
        overrides, extra, env, expected = ERRORS[name]
    config = softhsm_token.write_config(tmp_path / "conf" / "hsm.yaml", **overrides)
    argv = ["ca", "init", "--hsm-config", config, "--ca-dir", "ca", "--var", "cn=Root"]
    if "--key-label" not in extra:
        argv += ["--key-label", "root-ca-key"]
    if "--profile" not in extra:
        argv += ["--profile", "ec/root-ca"]
    before = sorted(p.name for p in tmp_path.iterdir())
    result = qpki_cli(*argv, *extra, "--json", env=env)
    assert result.returncode == 1, result
    assert len(result.stderr.strip().splitlines()) == 1, result
    assert expected in result.stderr, result
    assert softhsm_token.pin not in result.output
    assert "123456" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
