"""Hybrid PKIs through the qpki CLI; catalyst artifacts also checked by
OpenSSL 3.0, which knows nothing of PQC and must see ordinary ECDSA ones."""

import json
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding


def openssl(*args, cwd):
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture
def catalyst_chain(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "hybrid/catalyst/root-ca", "--var", "cn=Catalyst Root",
             "--ca-dir", "root", check=True)
    qpki_cli("ca", "init", "--profile", "hybrid/catalyst/issuing-ca",
             "--var", "cn=Catalyst Issuing", "--ca-dir", "issuing", "--parent", "root",
             check=True)
    cred = qpki_cli("credential", "enroll", "--ca-dir", "issuing", "--cred-dir", "creds",
                    "--profile", "hybrid/catalyst/tls-server", "--var", "cn=www.example.com",
                    "--var", "dns_names=www.example.com", "--json", check=True).json()
    return cred


def test_openssl_accepts_the_catalyst_chain_and_crl(tmp_path, qpki_cli, catalyst_chain):
    leaf = catalyst_chain["cert_path"]
    for strict in ([], ["-x509_strict"]):
        done = openssl("verify", *strict, "-CAfile", "root/ca.crt", "-untrusted",
                       "issuing/ca.crt", leaf, cwd=tmp_path)
        assert done.returncode == 0 and done.stdout.strip().endswith(": OK"), done
    qpki_cli("cert", "revoke", catalyst_chain["serial"], "--ca-dir", "issuing",
             "--reason", "keyCompromise", check=True)
    gen = qpki_cli("crl", "gen", "--ca-dir", "issuing", "--json", check=True).json()
    assert gen["alt_signature_algorithm"] == "ML-DSA-65"
    done = openssl("crl", "-in", "issuing/crl/ca.crl", "-CAfile", "issuing/ca.crt", "-noout",
                   "-verify", cwd=tmp_path)
    assert done.returncode == 0 and "verify OK" in done.stderr + done.stdout, done
    done = openssl("verify", "-crl_check", "-CRLfile", "issuing/crl/ca.crl", "-CAfile",
                   "root/ca.crt", "-untrusted", "issuing/ca.crt", leaf, cwd=tmp_path)
    assert done.returncode != 0 and "revoked" in done.stdout + done.stderr
    ours = qpki_cli("crl", "verify", "issuing/crl/ca.crl", "--ca", "issuing/ca.crt", "--json",
                    check=True).json()
    assert ours["valid"] and "alternative signature (ML-DSA-65) verified" in ours["details"][0]
    revoked = qpki_cli("cert", "verify", leaf, "--ca", "root/ca.crt", "--untrusted",
                       "issuing/ca.crt", "--crl", "issuing/crl/ca.crl")
    assert revoked.returncode == 1 and "revoked" in revoked.stdout


def test_cert_verify_both_and_classical_only(tmp_path, qpki_cli, catalyst_chain):
    leaf = catalyst_chain["cert_path"]
    ok = qpki_cli("cert", "verify", leaf, "--ca", "root/ca.crt", "--untrusted",
                  "issuing/ca.crt", "--json", check=True).json()
    assert ok["valid"] and len(ok["details"]) == 2
    legacy = qpki_cli("cert", "verify", leaf, "--ca", "root/ca.crt", "--untrusted",
                      "issuing/ca.crt", "--classical-only", "--json", check=True).json()
    assert legacy["valid"] and legacy["classical_only"] and legacy["details"] == []
    # One byte of the classical signature flipped: the classical check says so.
    der = bytearray(x509.load_pem_x509_certificate((tmp_path / leaf).read_bytes())
                    .public_bytes(Encoding.DER))
    der[-1] ^= 0x01
    (tmp_path / "bad.der").write_bytes(bytes(der))
    bad = qpki_cli("cert", "verify", "bad.der", "--ca", "root/ca.crt", "--untrusted",
                   "issuing/ca.crt")
    assert bad.returncode == 1 and "ecdsa-with-SHA256" in bad.stdout


def test_cert_verify_names_a_bad_alternative_signature(tmp_path, qpki_cli, catalyst_chain):
    # Issue with the right classical key but a wrong ML-DSA key (the CLI
    # never does that; the core is used to forge it).
    from qpki.algorithms.registry import get_algorithm
    from qpki.ops.ca.authority import Authority
    from qpki.ops.cert.issuance import issue
    from qpki.profiles.loader import load_profile
    from qpki.signer.software import SoftwareSigner
    from qpki.store.lock import ca_lock

    issuing = str(tmp_path / "issuing")
    with Authority(issuing) as authority:
        authority.signers["pqc"] = SoftwareSigner(get_algorithm("ml-dsa-65").generate(),
                                                  "ml-dsa-65")
        profile = load_profile("ec/tls-server")
        with ca_lock(issuing):
            cert = issue(authority, profile, profile.render({"cn": "forged.example.com"}),
                         get_algorithm("ecdsa-p256").generate().public_key())
    (tmp_path / "forged.crt").write_bytes(cert.public_bytes(Encoding.PEM))
    assert openssl("verify", "-CAfile", "root/ca.crt", "-untrusted", "issuing/ca.crt",
                   "forged.crt", cwd=tmp_path).returncode == 0  # OpenSSL cannot tell
    full = qpki_cli("cert", "verify", "forged.crt", "--ca", "root/ca.crt", "--untrusted",
                    "issuing/ca.crt")
    assert full.returncode == 1
    assert "alternative signature (ML-DSA-65) does not verify" in full.stdout
    legacy = qpki_cli("cert", "verify", "forged.crt", "--ca", "root/ca.crt", "--untrusted",
                      "issuing/ca.crt", "--classical-only")
    assert legacy.returncode == 0, legacy


def test_catalyst_csr_through_the_cli(tmp_path, qpki_cli, catalyst_chain):
    made = qpki_cli("csr", "gen", "--out", "req.csr", "--cn", "api.example.com", "--dns",
                    "api.example.com", "--algorithm", "ecdsa-p256", "--key-out", "api.key",
                    "--alt-algorithm", "ml-dsa-65", "--alt-key-out", "api.alt.key", "--json",
                    check=True).json()
    assert made["alt_algorithm"] == "ml-dsa-65"
    done = openssl("req", "-in", "req.csr", "-noout", "-verify", cwd=tmp_path)
    assert done.returncode == 0, done
    qpki_cli("cert", "issue", "--ca-dir", "issuing", "--profile", "hybrid/catalyst/tls-server",
             "--csr", "req.csr", "--out", "api.crt", check=True)
    info = qpki_cli("cert", "info", "api.crt", "--json", check=True).json()
    assert info["public_key_algorithm"] == "ecdsa-p256"
    assert info["alt_public_key_algorithm"] == "ml-dsa-65"
    assert info["alt_signature_algorithm"] == "ML-DSA-65"
    text = qpki_cli("cert", "info", "api.crt", check=True).stdout
    assert "subjectAltPublicKeyInfo (2.5.29.72):\n    algorithm: ML-DSA-65" in text
    assert openssl("verify", "-CAfile", "root/ca.crt", "-untrusted", "issuing/ca.crt",
                   "api.crt", cwd=tmp_path).returncode == 0
    plain = qpki_cli("csr", "gen", "--out", "plain.csr", "--cn", "p", "--algorithm",
                     "ecdsa-p256", "--key-out", "p.key", check=True)
    assert plain.returncode == 0
    refused = qpki_cli("cert", "issue", "--ca-dir", "issuing", "--profile",
                       "hybrid/catalyst/tls-server", "--csr", "plain.csr")
    assert refused.returncode == 1 and "no alternative public key" in refused.stderr


def test_composite_chain_through_the_cli(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "hybrid/composite/root-ca", "--var", "cn=Composite Root",
             "--ca-dir", "root", check=True)
    meta = json.loads((tmp_path / "root/ca.meta.json").read_text())
    assert [(k["id"], k["algorithm"]) for k in meta["keys"]] == [
        ("default", "composite-mldsa87-ecdsa-p521")]
    qpki_cli("ca", "init", "--profile", "hybrid/composite/issuing-ca",
             "--var", "cn=Composite Issuing", "--ca-dir", "issuing", "--parent", "root",
             check=True)
    cred = qpki_cli("credential", "enroll", "--ca-dir", "issuing", "--cred-dir", "creds",
                    "--profile", "hybrid/composite/tls-server", "--var", "cn=c.example.com",
                    "--json", check=True).json()
    ok = qpki_cli("cert", "verify", cred["cert_path"], "--ca", "root/ca.crt", "--untrusted",
                  "issuing/ca.crt", "--json", check=True).json()
    assert ok["valid"]
    qpki_cli("crl", "gen", "--ca-dir", "issuing", check=True)
    assert qpki_cli("crl", "verify", "issuing/crl/ca.crl", "--ca", "issuing/ca.crt",
                    "--json", check=True).json()["valid"]
    info = qpki_cli("cert", "info", cred["cert_path"], "--json", check=True).json()
    assert info["public_key_algorithm"] == "composite-mldsa65-ecdsa-p256"
    assert info["composite_components"] == ["ml-dsa-65", "ECDSA secp256r1"]


def test_ml_dsa_root_over_catalyst_issuing_cli(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ml/root-ca", "--var", "cn=ML Root", "--ca-dir", "root",
             check=True)
    qpki_cli("ca", "init", "--profile", "hybrid/catalyst/issuing-ca", "--var", "cn=Cat",
             "--ca-dir", "issuing", "--parent", "root", check=True)
    cred = qpki_cli("credential", "enroll", "--ca-dir", "issuing", "--cred-dir", "creds",
                    "--profile", "hybrid/catalyst/tls-client", "--var", "cn=client",
                    "--json", check=True).json()
    ok = qpki_cli("cert", "verify", cred["cert_path"], "--ca", "root/ca.crt", "--untrusted",
                  "issuing/ca.crt", "--json", check=True).json()
    assert ok["valid"] and ok["path"][-1] == "CN=ML Root"


def test_catalyst_ca_with_classical_key_in_hsm(tmp_path, qpki_cli, softhsm_token):
    # The seed's "Hybrid CA (classical HSM + PQC software)" metadata.
    config = softhsm_token.write_config(tmp_path / "hsm.yaml")
    qpki_cli("ca", "init", "--profile", "hybrid/catalyst/root-ca", "--var", "cn=HSM Catalyst",
             "--ca-dir", "root", "--hsm-config", str(config), "--key-label",
             "ca-root-classical", "--generate-key", check=True)
    meta = json.loads((tmp_path / "root/ca.meta.json").read_text())
    assert meta["profile"] == "hybrid/catalyst/root-ca"
    assert meta["keys"] == [
        {"id": "classical", "algorithm": "ecdsa-p384",
         "storage": {"type": "pkcs11", "config": str(config), "label": "ca-root-classical"}},
        {"id": "pqc", "algorithm": "ml-dsa-87",
         "storage": {"type": "software", "path": "private/ca.ml-dsa-87.key"}},
    ]
    assert not (tmp_path / "root/private/ca.ecdsa-p384.key").exists()
    cred = qpki_cli("credential", "enroll", "--ca-dir", "root", "--cred-dir", "creds",
                    "--profile", "hybrid/catalyst/tls-server", "--var", "cn=h.example.com",
                    "--json", check=True).json()
    assert openssl("verify", "-CAfile", "root/ca.crt", cred["cert_path"],
                   cwd=tmp_path).returncode == 0
    ok = qpki_cli("cert", "verify", cred["cert_path"], "--ca", "root/ca.crt", "--json",
                  check=True).json()
    assert ok["valid"] and "alternative signature (ML-DSA-87) verified" in ok["details"][0]
    qpki_cli("crl", "gen", "--ca-dir", "root", check=True)
    assert openssl("crl", "-in", "root/crl/ca.crl", "-CAfile", "root/ca.crt", "-noout",
                   "-verify", cwd=tmp_path).returncode == 0
    refused = qpki_cli("ca", "init", "--profile", "hybrid/composite/root-ca", "--var", "cn=x",
                       "--ca-dir", "comp", "--hsm-config", str(config), "--key-label", "x")
    assert refused.returncode != 0 and "software-only" in refused.stderr


def test_catalyst_ca_request_with_classical_key_in_hsm(tmp_path, softhsm_token):
    """A catalyst CA signed elsewhere, its classical key made in the token:
    the CSR carries the token's key (not a stand-in) with its signature, and
    the PQC proof; openssl and qpki's own check both accept it."""
    from cryptography.hazmat.primitives import serialization

    from qpki.ops.ca.keys import KeyRequest
    from qpki.ops.ca.state import ca_request
    from qpki.ops.cert.commands import csr_request
    from qpki.ops.keys.hybrid import csr_alt_public_key

    config = softhsm_token.write_config(tmp_path / "hsm.yaml")
    key = KeyRequest(hsm_config=str(config), key_label="sub-classical", generate_key=True)
    ca_request(str(tmp_path / "sub"), "hybrid/catalyst/issuing-ca", {"cn": "HSM Catalyst Sub"},
               key=key, csr_out=str(tmp_path / "sub.csr"))
    assert openssl("req", "-in", "sub.csr", "-noout", "-verify",
                   cwd=tmp_path).returncode == 0
    exported = softhsm_token.pkcs11_tool("--read-object", "--type", "pubkey", "--label",
                                         "sub-classical", "-o", str(tmp_path / "pub.der"))
    assert exported.returncode == 0
    token_public = serialization.load_der_public_key((tmp_path / "pub.der").read_bytes())
    data = (tmp_path / "sub.csr").read_bytes()
    csr, public_key = csr_request(data, "sub.csr")
    assert public_key == token_public
    assert csr_alt_public_key(csr, "sub.csr") is not None
