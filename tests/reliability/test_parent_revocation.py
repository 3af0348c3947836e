"""A subordinate CA that its parent revoked issues nothing (issue 13, item
16): ``ca init --parent`` records the parent in ca.meta.json; a revoked
line in the parent's index, or an entry in the parent's CRL, for the CA's
own certificate (or for a CA above it) stops every issuing command with
one line, before anything is written. A parent directory that is not
there (an offline root) is passed over."""

from __future__ import annotations

import json
import shutil

import pytest
from cryptography import x509

from reliability_support import make_csr


def _serial_of(ca_dir):
    cert = x509.load_pem_x509_certificate((ca_dir / "ca.crt").read_bytes())
    return f"{cert.serial_number:X}"


@pytest.fixture
def pki(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Root", "--ca-dir", "root",
             check=True)
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Issuing", "--ca-dir",
             "issuing", "--parent", "root", check=True)
    (tmp_path / "leaf.csr").write_bytes(make_csr("leaf.example.com"))
    (tmp_path / "other.csr").write_bytes(make_csr("other.example.com"))
    return tmp_path


ISSUE = ["cert", "issue", "--ca-dir", "issuing", "--profile", "ec/tls-server", "--csr",
         "leaf.csr"]


def _assert_refused(qpki_cli, work, tree_snapshot, diff_snapshots, revoked_ca="this CA's"):
    before = tree_snapshot(work / "issuing")
    for argv in (ISSUE,
                 ["credential", "enroll", "c1", "--ca-dir", "issuing", "--cred-dir", "creds",
                  "--profile", "ec/tls-server", "--var", "cn=c1.example.com"],
                 ISSUE + ["--csr", "other.csr", "--out-dir", "batch"]):
        result = qpki_cli(*argv, cwd=work)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result
        assert "revoked by its parent CA" in result.stderr and "refusing to issue" in result.stderr
        assert revoked_ca in result.stderr
    assert diff_snapshots(before, tree_snapshot(work / "issuing")) == []
    # Revocation information about its own certificates still goes out.
    qpki_cli("crl", "gen", "--ca-dir", "issuing", cwd=work, check=True)


def test_parent_is_recorded_and_its_revocation_stops_issuance(pki, qpki_cli, tree_snapshot,
                                                              diff_snapshots):
    qpki_cli(*ISSUE, cwd=pki, check=True)
    qpki_cli("cert", "revoke", _serial_of(pki / "issuing"), "--ca-dir", "root", "--reason",
             "keyCompromise", cwd=pki, check=True)
    _assert_refused(qpki_cli, pki, tree_snapshot, diff_snapshots)
    meta = json.loads((pki / "issuing" / "ca.meta.json").read_text())
    assert meta["parent"] == "../root"


def test_a_revocation_only_in_the_parents_crl_stops_issuance(pki, qpki_cli, tree_snapshot,
                                                             diff_snapshots):
    index = (pki / "root" / "index.txt").read_bytes()
    qpki_cli("cert", "revoke", _serial_of(pki / "issuing"), "--ca-dir", "root", cwd=pki,
             check=True)
    qpki_cli("crl", "gen", "--ca-dir", "root", cwd=pki, check=True)
    (pki / "root" / "index.txt").write_bytes(index)  # the index lost it; the CRL has it
    _assert_refused(qpki_cli, pki, tree_snapshot, diff_snapshots)


CA_PROFILE = """
name: test/{name}
algorithm: ecdsa-p256
validity: 3650d
variables:
  cn: {{type: string, required: true}}
subject: {{cn: "{{{{ cn }}}}"}}
extensions:
  basicConstraints: {{ca: true, path_len: {path_len}, critical: true}}
  keyUsage: {{usages: [keyCertSign, cRLSign], critical: true}}
"""


def test_a_revoked_ca_higher_up_stops_issuance(tmp_path, qpki_cli, tree_snapshot,
                                               diff_snapshots):
    """root (pathLen 2) -> middle (pathLen 1) -> lower: the root revokes the
    middle CA; the lower one, whose own certificate is fine, stops too."""
    for name, path_len in (("root", 2), ("middle", 1)):
        (tmp_path / f"{name}.yaml").write_text(CA_PROFILE.format(name=name, path_len=path_len))
    qpki_cli("ca", "init", "--profile", "root.yaml", "--var", "cn=Root", "--ca-dir", "root",
             check=True)
    qpki_cli("ca", "init", "--profile", "middle.yaml", "--var", "cn=Middle", "--ca-dir",
             "middle", "--parent", "root", check=True)
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Lower", "--ca-dir",
             "lower", "--parent", "middle", check=True)
    (tmp_path / "leaf.csr").write_bytes(make_csr("leaf.example.com"))
    argv = ["cert", "issue", "--ca-dir", "lower", "--profile", "ec/tls-server", "--csr",
            "leaf.csr"]
    qpki_cli(*argv, check=True)
    qpki_cli("cert", "revoke", _serial_of(tmp_path / "middle"), "--ca-dir", "root", check=True)
    before = tree_snapshot(tmp_path / "lower")
    result = qpki_cli(*argv)
    assert result.returncode == 1 and "the certificate of CA middle" in result.stderr, result
    assert "revoked by its parent CA root" in result.stderr
    assert diff_snapshots(before, tree_snapshot(tmp_path / "lower")) == []


def test_an_offline_parent_is_passed_over(pki, qpki_cli):
    qpki_cli("cert", "revoke", _serial_of(pki / "issuing"), "--ca-dir", "root", cwd=pki,
             check=True)
    shutil.move(pki / "root", pki / "vault")  # the root goes offline
    qpki_cli(*ISSUE, cwd=pki, check=True)


def test_hsm_backed_subordinate_revoked_by_its_parent(pki, qpki_cli, softhsm_token,
                                                      tree_snapshot, diff_snapshots):
    config = softhsm_token.write_config(pki / "hsm.yaml")
    softhsm_token.keygen("EC:prime256v1", "issuing-key", "02")
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=HSM Issuing", "--ca-dir",
             "hsm-issuing", "--parent", "root", "--hsm-config", config, "--key-label",
             "issuing-key", cwd=pki, check=True)
    argv = ["cert", "issue", "--ca-dir", "hsm-issuing", "--profile", "ec/tls-server", "--csr",
            "leaf.csr"]
    qpki_cli(*argv, cwd=pki, check=True)
    objects = softhsm_token.list_objects()
    qpki_cli("cert", "revoke", _serial_of(pki / "hsm-issuing"), "--ca-dir", "root", cwd=pki,
             check=True)
    before = tree_snapshot(pki / "hsm-issuing")
    result = qpki_cli(*argv, cwd=pki)
    assert result.returncode == 1 and "revoked by its parent CA" in result.stderr, result
    assert softhsm_token.pin not in result.output
    assert diff_snapshots(before, tree_snapshot(pki / "hsm-issuing")) == []
    assert softhsm_token.list_objects() == objects
