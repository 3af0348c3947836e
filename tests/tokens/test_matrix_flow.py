"""The seed's HSM flow on each token of the matrix (SoftHSM2, openCryptoki,
tpm2-pkcs11 on swtpm): discovery, capability report, key generation, CAs on
a token key, issuance, CRL and a credential with its key in the token.

Every signature is checked by openssl; the keys by pkcs11-tool. The tests
of one module share one running token (the TPM signs slowly), so they use
distinct labels and run in file order.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tokens.token import RunningToken

HSM_ALGORITHMS = ("ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-3072", "rsa-4096")
PKCS11_TOOL_KEY_TYPES = {"ecdsa-p384": "EC:secp384r1", "rsa-4096": "rsa:4096",
                         "rsa-3072": "rsa:3072"}


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, "exit %d\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr)
    return proc


def as_json(proc: subprocess.CompletedProcess) -> dict:
    return json.loads(ok(proc).stdout)


def openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)


def family(token: RunningToken) -> str:
    """The profile family whose root CA algorithm this token holds."""
    return "ec" if "ecdsa-p384" in token.algorithms else "rsa"


def root_algorithm(token: RunningToken) -> str:
    return "ecdsa-p384" if family(token) == "ec" else "rsa-4096"


def private_key_block(listing: str, label: str) -> str:
    for block in re.split(r"\n(?=\S)", listing):
        if block.startswith("Private Key Object") and re.search(
                r"label:\s+%s\s*$" % re.escape(label), block, re.M):
            return block
    raise AssertionError("no private key %r in:\n%s" % (label, listing))


def assert_key_protected(token: RunningToken, label: str) -> None:
    """pkcs11-tool sees the private key only after login, sensitive and
    never extractable."""
    public_view = ok(token.pkcs11_tool("--list-objects", login=False)).stdout
    assert "Private Key Object" not in public_view
    block = private_key_block(ok(token.pkcs11_tool("--list-objects")).stdout, label)
    assert re.search(r"Access:.*\bsensitive\b", block), block
    assert "never extractable" in block, block


@pytest.fixture(scope="module")
def workdir(running_token: RunningToken, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("flow-" + running_token.name)


@pytest.fixture(scope="module")
def config(running_token: RunningToken, workdir: Path) -> Path:
    return running_token.write_config(workdir / "hsm.yaml")


def test_hsm_list_shows_the_token(running_token: RunningToken) -> None:
    listed = as_json(running_token.qpki("hsm", "list", "--lib", running_token.lib, "--json"))
    assert running_token.label in [slot.get("label") for slot in listed["slots"]]


def test_capabilities_reported_and_unsupported_refused_early(
        running_token: RunningToken, config: Path, workdir: Path) -> None:
    report = as_json(running_token.qpki("hsm", "test", "--hsm-config", config, "--json"))
    support = {entry["algorithm"]: entry for entry in report["algorithms"]}
    assert sorted(support) == sorted(HSM_ALGORITHMS)
    before = ok(running_token.pkcs11_tool("--list-objects")).stdout
    for name in HSM_ALGORITHMS:
        entry = support[name]
        if name in running_token.algorithms:
            assert entry["generate"] and entry["sign"], entry
            assert entry["sign_mechanism"] in ("CKM_ECDSA", "CKM_RSA_PKCS"), entry
            continue
        assert not entry["generate"] and entry["reason"], entry
        refused = running_token.qpki("key", "gen", "--algorithm", name, "--hsm-config", config,
                                     "--key-label", "refused-" + name)
        assert refused.returncode == 1
        message = refused.stderr.strip().splitlines()[-1]
        assert message.startswith("qpki: error: token '%s' cannot generate" % running_token.label)
        assert name in message and "CKR_" not in message and "(General" not in message
        ca_dir = workdir / ("refused-ca-" + name)
        profile = "%s/root-ca" % ("ec" if name.startswith("ecdsa") else "rsa")
        init = running_token.qpki("ca", "init", "--hsm-config", config, "--generate-key",
                                  "--key-label", "refused-ca-" + name, "--profile", profile,
                                  "--var", "cn=Refused", "--ca-dir", ca_dir)
        if name in ("ecdsa-p384", "rsa-4096"):  # the algorithms of the root-ca profiles
            assert init.returncode == 1 and name in init.stderr, init.stderr
            assert not ca_dir.exists()
    assert ok(running_token.pkcs11_tool("--list-objects")).stdout == before


def test_key_gen_each_supported_algorithm(running_token: RunningToken, config: Path) -> None:
    for name in running_token.algorithms:
        ok(running_token.qpki("key", "gen", "--algorithm", name, "--hsm-config", config,
                              "--key-label", "gen-" + name))
    listed = as_json(running_token.qpki("key", "list", "--hsm-config", config, "--json"))
    private = {key["label"] for key in listed["keys"] if key["class"] == "private"}
    assert {"gen-" + name for name in running_token.algorithms} <= private
    for name in running_token.algorithms:
        assert_key_protected(running_token, "gen-" + name)


def test_ca_on_existing_key_issue_and_crl(
        running_token: RunningToken, config: Path, workdir: Path) -> None:
    fam = family(running_token)
    ok(running_token.pkcs11_tool("--keypairgen", "--key-type",
                                 PKCS11_TOOL_KEY_TYPES[root_algorithm(running_token)],
                                 "--label", "root-existing", "--id", "0e01"))
    wrong_id = running_token.qpki("ca", "init", "--hsm-config", config, "--key-label",
                                  "root-existing", "--key-id", "0e02", "--profile",
                                  fam + "/root-ca", "--var", "cn=Matrix Root",
                                  "--ca-dir", workdir / "root")
    assert wrong_id.returncode == 1 and not (workdir / "root").exists(), wrong_id.stderr
    ok(running_token.qpki("ca", "init", "--hsm-config", config, "--key-label", "root-existing",
                          "--key-id", "0e01", "--profile", fam + "/root-ca",
                          "--var", "cn=Matrix Root", "--ca-dir", workdir / "root"))
    meta = json.loads((workdir / "root" / "ca.meta.json").read_text())
    assert meta["keys"][0]["storage"] == {"type": "pkcs11", "config": str(config),
                                          "label": "root-existing", "key_id": "0e01"}
    assert ok(openssl("verify", "-CAfile", "root/ca.crt", "root/ca.crt", cwd=workdir))
    leaf_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if fam == "ec" \
        else ["-newkey", "rsa:2048"]
    ok(openssl("req", "-new", *leaf_key, "-nodes", "-keyout", "leaf.key", "-subj",
               "/CN=leaf.example.com", "-out", "leaf.csr", cwd=workdir))
    ok(running_token.qpki("cert", "issue", "--ca-dir", workdir / "root", "--profile",
                          fam + "/tls-server", "--csr", workdir / "leaf.csr",
                          "--var", "cn=leaf.example.com", "--var", "dns_names=leaf.example.com",
                          "--out", workdir / "leaf.crt"))
    ok(openssl("verify", "-CAfile", "root/ca.crt", "leaf.crt", cwd=workdir))
    ok(running_token.qpki("crl", "gen", "--ca-dir", workdir / "root"))
    crl = openssl("crl", "-in", "root/crl/ca.crl", "-CAfile", "root/ca.crt", "-noout",
                  "-verify", cwd=workdir)
    assert crl.returncode == 0 and "verify OK" in crl.stderr, crl.stderr


def test_ca_with_generated_key_and_credential_in_token(
        running_token: RunningToken, config: Path, workdir: Path) -> None:
    fam = family(running_token)
    ok(running_token.qpki("ca", "init", "--hsm-config", config, "--generate-key",
                          "--key-label", "root-generated", "--profile", fam + "/root-ca",
                          "--var", "cn=Matrix Generated Root", "--ca-dir", workdir / "root2"))
    assert_key_protected(running_token, "root-generated")
    ok(openssl("verify", "-CAfile", "root2/ca.crt", "root2/ca.crt", cwd=workdir))
    cred = as_json(running_token.qpki(
        "credential", "enroll", "--ca-dir", workdir / "root2", "--cred-dir", workdir / "creds",
        "--profile", fam + "/tls-server", "--var", "cn=server.example.com",
        "--var", "dns_names=server.example.com", "--hsm-config", config,
        "--key-label", "server-key", "--json"))
    cert_path = Path(cred["cert_path"])
    cert_path = cert_path if cert_path.is_absolute() else workdir / cert_path
    ok(openssl("verify", "-CAfile", "root2/ca.crt", str(cert_path), cwd=workdir))
    assert_key_protected(running_token, "server-key")
    token_pub = ok(running_token.pkcs11_tool("--read-object", "--type", "pubkey", "--label",
                                             "server-key", "-o", str(workdir / "server.der")))
    assert token_pub.returncode == 0
    cert_pub = openssl("x509", "-in", str(cert_path), "-noout", "-pubkey", cwd=workdir).stdout
    der_pub = openssl("pkey", "-pubin", "-inform", "DER", "-in", "server.der", cwd=workdir).stdout
    assert cert_pub and cert_pub == der_pub
