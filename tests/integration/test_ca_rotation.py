"""CA key rollover: ca rotate / versions / activate / recertify and CRLs of
earlier versions, checked with openssl (issue 17, items 1, 2 and 6)."""

import json
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_csr(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def openssl(*args, cwd):
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


def verifies(work, anchor, leaf, *untrusted, crl=None):
    args = ["verify", "-CAfile", anchor]
    for path in untrusted:
        args += ["-untrusted", path]
    if crl:
        args += ["-crl_check", "-CRLfile", crl]
    done = openssl(*args, leaf, cwd=work)
    return done.returncode == 0 and f"{leaf}: OK" in done.stdout


def issue(qpki_cli, work, ca, name, profile="ec/tls-server"):
    (work / f"{name}.csr").write_bytes(make_csr(f"{name}.example.com"))
    qpki_cli("cert", "issue", "--ca-dir", ca, "--profile", profile, "--csr", f"{name}.csr",
             "--var", f"cn={name}.example.com", "--var", f"dns_names={name}.example.com",
             "--out", f"{name}.crt", check=True)
    return f"{name}.crt"


def audit_ops(work, ca):
    lines = (work / ca / "audit.log").read_text().splitlines()
    return [json.loads(line)["op"] for line in lines]


def clean(qpki_cli, ca):
    assert qpki_cli("ca", "check", "--ca-dir", ca).returncode == 0
    assert qpki_cli("audit", "verify", "--ca-dir", ca).returncode == 0


@pytest.fixture
def rotated_root(tmp_path, qpki_cli):
    """An EC root that issued ``before.crt``, then was rotated to v2 and issued ``after.crt``."""
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Roll Root", "--ca-dir", "root",
             check=True)
    issue(qpki_cli, tmp_path, "root", "before")
    rotated = qpki_cli("ca", "rotate", "--ca-dir", "root", "--json", check=True).json()
    issue(qpki_cli, tmp_path, "root", "after")
    return tmp_path, rotated


V1 = "root/versions/v1/certs/ca.ecdsa-p384.pem"
V2 = "root/versions/v2/certs/ca.ecdsa-p384.pem"
V1_SIGNS_V2 = "root/versions/v2/certs/cross-from-v1.pem"
V2_SIGNS_V1 = "root/versions/v1/certs/cross-from-v2.pem"


def test_both_populations_verify_through_the_cross_certificates(rotated_root):
    work, rotated = rotated_root
    assert rotated["version"] == "v2" and rotated["active_version"] == "v2"
    assert sorted(rotated["cross_certificates"]) == sorted([V1_SIGNS_V2, V2_SIGNS_V1])
    assert verifies(work, V1, "after.crt", V1_SIGNS_V2)  # old anchor, new leaf
    assert not verifies(work, V1, "after.crt")
    assert verifies(work, V2, "before.crt", V2_SIGNS_V1)  # new anchor, old leaf
    assert not verifies(work, V2, "before.crt")
    assert (work / "root/ca.crt").read_bytes() == (work / V2).read_bytes()
    old, new = (x509.load_pem_x509_certificate((work / p).read_bytes()) for p in (V1, V2))
    assert new.subject == old.subject and new.public_key() != old.public_key()


def test_versions_metadata_audit_and_checks(rotated_root, qpki_cli):
    work, dummy = rotated_root
    listed = qpki_cli("ca", "versions", "--ca-dir", "root", "--json", check=True).json()
    assert listed["active_version"] == "v2"
    statuses = [(v["id"], v["status"]) for v in listed["versions"]]
    assert statuses == [("v1", "archived"), ("v2", "active")]
    meta = json.loads((work / "root/ca.meta.json").read_text())
    assert meta["active"] == "v2" and meta["versions"]["v2"]["cross_signed_by"] == ["v1"]
    assert meta["versions"]["v1"]["keys"][0]["storage"]["path"] == "private/ca.ecdsa-p384.key"
    assert meta["versions"]["v2"]["keys"][0]["storage"]["path"] == "private/v2/ca.ecdsa-p384.key"
    assert audit_ops(work, "root")[-3:] == ["ca.rotate", "ca.activate", "cert.issue"]
    clean(qpki_cli, "root")


def test_each_version_signs_the_crl_of_what_it_issued(rotated_root, qpki_cli):
    work, dummy = rotated_root
    for leaf in ("before.crt", "after.crt"):
        qpki_cli("cert", "revoke", "--cert", leaf, "--ca-dir", "root", "--reason",
                 "keyCompromise", check=True)
    qpki_cli("crl", "gen", "--ca-dir", "root", "--version", "v1", check=True)
    qpki_cli("crl", "gen", "--ca-dir", "root", check=True)
    old_crl = x509.load_pem_x509_crl((work / "root/crl/v1/ca.crl").read_bytes())
    before = x509.load_pem_x509_certificate((work / "before.crt").read_bytes())
    assert [entry.serial_number for entry in old_crl] == [before.serial_number]
    assert openssl("crl", "-in", "root/crl/v1/ca.crl", "-CAfile", V1, "-noout",
                   cwd=work).returncode == 0
    assert not verifies(work, V1, "before.crt", crl="root/crl/v1/ca.crl")
    assert "certificate revoked" in openssl("verify", "-crl_check", "-CAfile", V1, "-CRLfile",
                                            "root/crl/v1/ca.crl", "before.crt", cwd=work).stderr
    assert not verifies(work, "root/ca.crt", "after.crt", crl="root/crl/ca.crl")
    clean(qpki_cli, "root")


def test_export_chain_carries_the_cross_certificate(rotated_root, qpki_cli):
    work, dummy = rotated_root
    qpki_cli("ca", "export", "--ca-dir", "root", "--bundle", "chain", "--out", "bundle.pem",
             check=True)
    bundle = x509.load_pem_x509_certificates((work / "bundle.pem").read_bytes())
    cross = x509.load_pem_x509_certificate((work / V1_SIGNS_V2).read_bytes())
    assert cross in bundle
    assert verifies(work, V1, "after.crt", "bundle.pem")


def test_activate_rolls_back_and_forward(rotated_root, qpki_cli):
    work, dummy = rotated_root
    back = qpki_cli("ca", "activate", "--ca-dir", "root", "--version", "v1", "--json",
                    check=True).json()
    assert back["changed"] is True and back["active_version"] == "v1"
    assert (work / "root/ca.crt").read_bytes() == (work / V1).read_bytes()
    leaf = issue(qpki_cli, work, "root", "rolled")
    assert verifies(work, V1, leaf)
    again = qpki_cli("ca", "activate", "--ca-dir", "root", "--version", "v1", "--json",
                     check=True).json()
    assert again["changed"] is False
    unknown = qpki_cli("ca", "activate", "--ca-dir", "root", "--version", "v9")
    assert unknown.returncode == 1 and "no version 'v9'" in unknown.stderr
    qpki_cli("ca", "activate", "--ca-dir", "root", "--version", "v2", check=True)
    assert verifies(work, V2, issue(qpki_cli, work, "root", "forward"))
    clean(qpki_cli, "root")


def test_ecdsa_root_rotates_to_a_catalyst_root(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Move Root", "--ca-dir", "root",
             check=True)
    issue(qpki_cli, tmp_path, "root", "classic")
    qpki_cli("ca", "rotate", "--ca-dir", "root", "--profile", "hybrid/catalyst/root-ca",
             check=True)
    new_root = x509.load_pem_x509_certificate((tmp_path / "root/ca.crt").read_bytes())
    oids = {ext.oid.dotted_string for ext in new_root.extensions}
    assert "2.5.29.72" in oids  # subjectAltPublicKeyInfo: the ML-DSA key
    leaf = issue(qpki_cli, tmp_path, "root", "hybrid")
    # Classical path through the cross-certificate, for clients that know only the old root.
    assert verifies(tmp_path, V1, leaf, V1_SIGNS_V2)
    # Both signatures (ECDSA and ML-DSA) of the new version, checked by qpki.
    checked = qpki_cli("cert", "verify", leaf, "--ca", "root/ca.crt", "--json", check=True).json()
    assert checked["valid"] is True
    assert verifies(tmp_path, V2, "classic.crt", V2_SIGNS_V1)
    clean(qpki_cli, "root")


def test_subordinate_recertified_then_rotated_under_the_new_root(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Sub Root", "--ca-dir", "root",
             check=True)
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Sub Issuing",
             "--ca-dir", "issuing", "--parent", "root", check=True)
    old_leaf = issue(qpki_cli, tmp_path, "issuing", "early")
    qpki_cli("ca", "rotate", "--ca-dir", "root", check=True)
    refused = qpki_cli("ca", "rotate", "--ca-dir", "issuing")
    assert refused.returncode == 1 and "subordinate" in refused.stderr
    qpki_cli("ca", "recertify", "--ca-dir", "issuing", "--parent", "root", check=True)
    # The issuing CA's key did not change: its earlier leaf verifies with the new root alone.
    assert verifies(tmp_path, V2, old_leaf, "issuing/chain.crt")
    # A client that trusts only the old root: the server sends the issuing CA and the cross.
    (tmp_path / "sent.pem").write_bytes((tmp_path / "issuing/ca.crt").read_bytes()
                                        + (tmp_path / V1_SIGNS_V2).read_bytes())
    assert verifies(tmp_path, V1, old_leaf, "sent.pem")
    qpki_cli("ca", "rotate", "--ca-dir", "issuing", "--parent", "root", check=True)
    late_leaf = issue(qpki_cli, tmp_path, "issuing", "late")
    assert verifies(tmp_path, V2, late_leaf, "issuing/chain.crt")
    assert not verifies(tmp_path, V2, late_leaf, "issuing/versions/v1/chain.crt")
    for ca in ("root", "issuing"):
        clean(qpki_cli, ca)


def test_rotate_before_rotates_only_when_due_and_check_mode_writes_nothing(tmp_path, qpki_cli):
    from conftest import tree_snapshot
    from qpki.ops.ca.rotation_state import ca_ensure_rotated

    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Due Root", "--ca-dir", "root",
             check=True)
    root = str(tmp_path / "root")
    before = tree_snapshot(tmp_path / "root")
    kept = ca_ensure_rotated(root, "ec/root-ca", {"cn": "Due Root"}, rotate_before="365d").to_dict()
    assert kept["changed"] is False and kept.get("rotated") is None
    predicted = ca_ensure_rotated(root, "ec/root-ca", {"cn": "Due Root"}, rotate_before="7400d",
                                  check_mode=True).to_dict()
    assert predicted["changed"] is True and "within rotate_before" in predicted["rotation_reason"]
    assert tree_snapshot(tmp_path / "root") == before
    done = ca_ensure_rotated(root, "ec/root-ca", {"cn": "Due Root"}, rotate_before="7400d").to_dict()
    assert done["changed"] is True and done["rotated"] == "v2" and done["active_version"] == "v2"
    clean(qpki_cli, "root")


def test_a_rotated_catalyst_root_keeps_each_versions_pqc_key(tmp_path, qpki_cli):
    """Catalyst to catalyst: the new version's ML-DSA key is a new file, and
    the earlier version still signs a CRL both of its signatures verify for."""
    qpki_cli("ca", "init", "--profile", "hybrid/catalyst/root-ca", "--var", "cn=Cat Root",
             "--ca-dir", "root", check=True)
    qpki_cli("ca", "rotate", "--ca-dir", "root", "--profile", "hybrid/catalyst/root-ca",
             check=True)
    pqc = sorted(path.relative_to(tmp_path / "root") for path in
                 (tmp_path / "root/private").rglob("ca.ml-dsa-87.key"))
    assert len(pqc) == 2 and pqc[0].parent != pqc[1].parent, pqc
    assert (tmp_path / "root" / pqc[0]).read_bytes() != (tmp_path / "root" / pqc[1]).read_bytes()
    qpki_cli("crl", "gen", "--ca-dir", "root", "--version", "v1", check=True)
    checked = qpki_cli("crl", "verify", "root/crl/v1/ca.crl", "--ca",
                       "root/versions/v1/certs/ca.ecdsa-p384.pem", "--json", check=True).json()
    assert checked["valid"] is True, checked
    clean(qpki_cli, "root")
