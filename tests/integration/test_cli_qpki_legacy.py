"""QPKI's legacy composite and catalyst CSRs through the qpki command line,
as a user sees them (text and --json, exit codes, --strict); what qpki
itself writes is reported as draft-13 composite and standard catalyst
attributes. The cryptographic checks by reference code are in
tests/unit/test_qpki_legacy.py."""

import shutil
import subprocess

import pytest

from qpki_vectors import (CROSSVAL, MADE, QPKI, QPKI_CATALYST_OIDS, csr_attribute_values,
                          der_of)


LEGACY = QPKI / "composite-legacy"
AT = "2026-02-16T12:00:00Z"
LEGACY_WORDS = "QPKI's pre-draft-13 composite form (not a standard encoding"


def openssl(*args, cwd):
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)


# --------------------------------------------------------------------------
# Legacy composite: cert verify / cert info / crl verify / crl info
# --------------------------------------------------------------------------

def test_cert_verify_accepts_qpki_legacy_composite_and_says_so(qpki_cli):
    text = qpki_cli("cert", "verify", LEGACY / "certs/02.crt", "--ca", LEGACY / "ca.crt",
                    "--crl", CROSSVAL / "composite/ca/crl/ca.crl", "--at", AT)
    assert text.returncode == 0, text
    lines = text.stdout.splitlines()
    assert lines[0] == "OK"
    assert lines[1:] == [
        f"  legacy: certificate CN=composite.test.local: public key and signature in {LEGACY_WORDS}"
        ": qpki reads it and never writes it)",
        f"  legacy: certificate CN=Test Composite CA: public key and signature in {LEGACY_WORDS}"
        ": qpki reads it and never writes it)",
        f"  legacy: CRL of CN=Test Composite CA: signature in {LEGACY_WORDS}"
        ": qpki reads it and never writes it)"]
    data = qpki_cli("cert", "verify", LEGACY / "certs/02.crt", "--ca", LEGACY / "ca.crt",
                    "--at", AT, "--json", check=True).json()
    assert data["valid"] is True and data["strict"] is False
    assert len(data["legacy_composite"]) == 2


def test_strict_refuses_legacy_composite_with_exit_1(qpki_cli):
    done = qpki_cli("cert", "verify", LEGACY / "certs/02.crt", "--ca", LEGACY / "ca.crt",
                    "--at", AT, "--strict", "--json")
    assert done.returncode == 1
    data = done.json()
    assert data["valid"] is False and data["strict"] is True
    assert data["reason"].startswith("refused by --strict: certificate CN=composite.test.local")
    crl = qpki_cli("crl", "verify", CROSSVAL / "composite/ca/crl/ca.crl.der", "--ca",
                   LEGACY / "ca.crt", "--strict")
    assert crl.returncode == 1 and crl.stdout.startswith("FAILED: refused by --strict: CRL of")


def test_strict_accepts_standard_objects(qpki_cli):
    ecdsa = QPKI / "classical/ecdsa"
    done = qpki_cli("cert", "verify", ecdsa / "certs/02.crt", "--ca", ecdsa / "ca.crt",
                    "--at", AT, "--strict", "--json")
    assert done.returncode == 0, done
    assert done.json()["legacy_composite"] == []


def test_crl_verify_and_info_on_legacy_crl(qpki_cli):
    data = qpki_cli("crl", "verify", MADE / "composite-legacy-mldsa65/crl/ca.crl", "--ca",
                    MADE / "composite-legacy-mldsa65/ca.crt", "--json", check=True).json()
    assert data["valid"] and data["legacy_composite"][0].startswith(
        "CRL of CN=Legacy Composite Test CA: signature in QPKI's pre-draft-13")
    info = qpki_cli("crl", "info", MADE / "composite-legacy-mldsa65/crl/ca.crl.der", "--json",
                    check=True).json()
    assert info["signature_algorithm"] == "composite-mldsa65-ecdsa-p384"
    assert (info["hybrid"], info["composite_form"]) == ("composite", "legacy")
    assert info["revoked_count"] == 1
    text = qpki_cli("crl", "info", CROSSVAL / "composite/ca/crl/ca.crl", check=True).stdout
    assert "composite form: legacy" in text and LEGACY_WORDS in text


def test_cert_info_on_legacy_certificate(qpki_cli):
    info = qpki_cli("cert", "info", LEGACY / "ca.crt", "--json", check=True).json()
    assert info["public_key_algorithm"] == "composite-mldsa87-ecdsa-p521"
    assert info["composite_form"] == "legacy"
    assert info["composite_components"] == ["ml-dsa-87", "ECDSA secp521r1"]
    text = qpki_cli("cert", "info", LEGACY / "certs/02.crt", check=True).stdout
    assert "composite form: legacy" in text
    assert f"public key and signature in {LEGACY_WORDS}" in text


# --------------------------------------------------------------------------
# csr info / csr verify, QPKI's catalyst and composite CSRs
# --------------------------------------------------------------------------

@pytest.mark.parametrize("path", [CROSSVAL / "csr/catalyst.csr",
                                  MADE / "csr/catalyst-p384-mldsa87.csr"], ids=lambda p: p.name)
def test_csr_verify_and_info_on_qpki_catalyst_csr(qpki_cli, path):
    done = qpki_cli("csr", "verify", path)
    assert done.returncode == 0, done
    assert done.stdout.startswith("OK\n")
    assert "catalyst attributes under QPKI's non-standard OIDs 2.16.840.1.101.2.1.2.100-102" \
        in done.stdout
    data = qpki_cli("csr", "verify", path, "--json", check=True).json()
    assert data["details"][1].startswith("alternative signature (ML-DSA-")
    assert len(data["non_standard"]) == 2
    info = qpki_cli("csr", "info", path, "--json", check=True).json()
    assert info["hybrid"] == "catalyst" and info["catalyst_standard"] is False
    assert info["catalyst_attribute_oids"] == QPKI_CATALYST_OIDS
    assert info["encoding"] == "BER (not DER)"
    assert {a["oid"] for a in info["attributes"]} >= set(QPKI_CATALYST_OIDS)
    strict = qpki_cli("csr", "verify", path, "--strict")
    assert strict.returncode == 1 and strict.stdout.startswith("FAILED: refused by --strict")


def test_csr_verify_reports_a_damaged_qpki_alternative_signature(tmp_path, qpki_cli):
    der = der_of(CROSSVAL / "csr/catalyst.csr")
    value = csr_attribute_values(der)[QPKI_CATALYST_OIDS[2]]  # the ML-DSA signature
    damaged = der.replace(value, value[:100] + bytes([value[100] ^ 1]) + value[101:])
    (tmp_path / "bad.csr").write_bytes(damaged)
    done = qpki_cli("csr", "verify", "bad.csr", "--json")
    assert done.returncode == 1
    data = done.json()
    # The alternative signature sits inside what the classical one signs: both fail.
    assert data["details"] == [
        "certificate request CN=CSR Test Catalyst: signature does not verify (ecdsa-with-SHA256)",
        "certificate request CN=CSR Test Catalyst: alternative signature (ML-DSA-65) does not "
        "verify with the requested alternative key"]
    assert data["reason"] == data["details"][0]


def test_csr_verify_on_legacy_composite_csr(qpki_cli):
    for path in (CROSSVAL / "csr/composite.csr", MADE / "composite-legacy-mldsa65/leaf.csr"):
        data = qpki_cli("csr", "verify", path, "--json", check=True).json()
        assert data["valid"] and len(data["legacy_composite"]) == 1
        info = qpki_cli("csr", "info", path, "--json", check=True).json()
        assert info["composite_form"] == "legacy"


@pytest.mark.parametrize("path", ["csr/ecdsa.csr", "csr/mldsa87.csr"])
def test_csr_verify_on_standard_csrs(qpki_cli, path):
    data = qpki_cli("csr", "verify", QPKI / path, "--strict", "--json", check=True).json()
    assert data["valid"] and data["non_standard"] == [] and data["legacy_composite"] == []


# --------------------------------------------------------------------------
# The CA reads QPKI's catalyst CSR and writes a standard catalyst certificate
# --------------------------------------------------------------------------

def test_issue_from_qpki_catalyst_csr_gives_a_standard_catalyst_certificate(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "hybrid/catalyst/root-ca", "--var", "cn=Catalyst Root",
             "--ca-dir", "root", check=True)
    shutil.copy(CROSSVAL / "csr/catalyst.csr", tmp_path / "qpki.csr")
    issued = qpki_cli("cert", "issue", "--ca-dir", "root", "--profile",
                      "hybrid/catalyst/tls-server", "--csr", "qpki.csr",
                      "--var", "cn=csr.catalyst.test.local", "--out", "leaf.crt",
                      "--json", check=True).json()
    assert issued["changed"]
    done = openssl("verify", "-x509_strict", "-CAfile", "root/ca.crt", "leaf.crt", cwd=tmp_path)
    assert done.returncode == 0, done
    ok = qpki_cli("cert", "verify", "leaf.crt", "--ca", "root/ca.crt", "--strict", "--json",
                  check=True).json()
    assert ok["valid"] and "alternative signature (ML-DSA-87) verified" in ok["details"][0]
    info = qpki_cli("cert", "info", "leaf.crt", "--json", check=True).json()
    assert info["alt_public_key_algorithm"] == "ml-dsa-65"
    assert {"subjectAltPublicKeyInfo", "altSignatureAlgorithm", "altSignatureValue"} <= {
        e["name"] for e in info["extensions"]}


def test_issue_from_legacy_composite_csr_is_refused(tmp_path, qpki_cli, tree_snapshot):
    qpki_cli("ca", "init", "--profile", "hybrid/composite/root-ca", "--var", "cn=Composite Root",
             "--ca-dir", "root", check=True)
    before = tree_snapshot(tmp_path / "root")
    done = qpki_cli("cert", "issue", "--ca-dir", "root", "--profile",
                    "hybrid/composite/tls-server", "--csr",
                    MADE / "composite-legacy-mldsa65/leaf.csr", "--var", "cn=x")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert ("key is a composite-mldsa65-ecdsa-p256 key in the legacy pre-draft-13 encoding "
            "but profile hybrid/composite/tls-server expects composite-mldsa65-ecdsa-p256"
            in done.stderr)
    assert tree_snapshot(tmp_path / "root") == before


# --------------------------------------------------------------------------
# What we write, as the front end reports it
# --------------------------------------------------------------------------

def test_what_qpki_writes_is_reported_as_draft13(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "hybrid/composite/root-ca", "--var", "cn=Composite Root",
             "--ca-dir", "root", check=True)
    cred = qpki_cli("credential", "enroll", "--ca-dir", "root", "--cred-dir", "creds",
                    "--profile", "hybrid/composite/tls-server", "--var", "cn=c.example.com",
                    "--json", check=True).json()
    qpki_cli("crl", "gen", "--ca-dir", "root", check=True)
    qpki_cli("csr", "gen", "--out", "c.csr", "--cn", "c.example.com", "--algorithm",
             "composite-mldsa65-ecdsa-p256", "--key-out", "c.key", check=True)
    for command, path in (("cert", "root/ca.crt"), ("cert", cred["cert_path"]),
                          ("crl", "root/crl/ca.crl"), ("csr", "c.csr")):
        info = qpki_cli(command, "info", path, "--json", check=True).json()
        assert (info["hybrid"], info["composite_form"]) == ("composite", "draft-13"), path
        assert info["legacy_composite"] == []
    ok = qpki_cli("cert", "verify", cred["cert_path"], "--ca", "root/ca.crt", "--crl",
                  "root/crl/ca.crl", "--strict", "--json", check=True).json()
    assert ok["valid"] and ok["legacy_composite"] == []
    csr = qpki_cli("csr", "verify", "c.csr", "--strict", "--json", check=True).json()
    assert csr["valid"] and csr["legacy_composite"] == [] and csr["non_standard"] == []


def test_what_qpki_writes_is_a_standard_catalyst_csr(tmp_path, qpki_cli):
    qpki_cli("csr", "gen", "--out", "c.csr", "--cn", "c.example.com", "--algorithm",
             "ecdsa-p256", "--key-out", "c.key", "--alt-algorithm", "ml-dsa-65",
             "--alt-key-out", "c.alt.key", check=True)
    info = qpki_cli("csr", "info", "c.csr", "--json", check=True).json()
    assert info["catalyst_standard"] is True and info["encoding"] == "DER"
    assert info["catalyst_attribute_oids"] == ["2.5.29.72", "2.5.29.73", "2.5.29.74"]
    data = qpki_cli("csr", "verify", "c.csr", "--strict", "--json", check=True).json()
    assert data["valid"] and data["non_standard"] == []
    assert data["details"][1].startswith("alternative signature (ML-DSA-65) verified")
