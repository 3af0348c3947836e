"""Resource limits on input (issue 13, items 6 and 15).

Every file a user hands to qpki is size-capped before it is parsed
(default 1 MiB, 256 MiB for a CRL, QPKI_MAX_INPUT_SIZE to change it), and every YAML file goes
through one loader that refuses alias bombs, self-referencing aliases and
very deep nesting. Each case runs the real console script; the assertions
are on the error it prints and on the CA directory staying as it was.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reliability_support import make_csr

BOMB_LEVELS = 9  # 9**9 = 387 million nodes once expanded


def _bomb(key: str) -> str:
    lines = [f"{key}: &l0 [a, a, a, a, a, a, a, a, a]"]
    for level in range(1, BOMB_LEVELS):
        refs = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"k{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.fixture
def ca(qpki_cli, tmp_path: Path) -> Path:
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Limits Root",
             "--ca-dir", "ca", check=True)
    return tmp_path / "ca"


def _one_line_error(result) -> str:
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qpki: error: "), result
    return lines[0]


def test_two_gib_csr_is_refused_before_reading(ca, qpki_cli, tmp_path, tree_snapshot,
                                               diff_snapshots):
    big = tmp_path / "big.csr"
    with open(big, "wb") as handle:  # sparse: costs no disk
        handle.truncate(2 << 30)
    before = tree_snapshot(ca)
    result = qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server",
                      "--csr", "big.csr", "--var", "cn=a.example.com", timeout=300)
    line = _one_line_error(result)
    assert "big.csr" in line and "larger than the 1 MiB input limit" in line
    assert str(2 << 30) in line
    assert diff_snapshots(before, tree_snapshot(ca)) == []


def test_endless_input_is_cut_at_the_limit(ca, qpki_cli):
    """/dev/zero has no size to stat: the reader stops one byte past the cap."""
    result = qpki_cli("cert", "info", "/dev/zero", timeout=120)
    assert "larger than the 1 MiB input limit" in _one_line_error(result)


def test_limit_is_configurable(ca, qpki_cli, tmp_path):
    (tmp_path / "ok.csr").write_bytes(make_csr("a.example.com"))
    small = {"QPKI_MAX_INPUT_SIZE": "100"}
    result = qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server",
                      "--csr", "ok.csr", "--var", "cn=a.example.com", env=small)
    assert "larger than the 100 bytes input limit" in _one_line_error(result)
    result = qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server",
                      "--csr", "ok.csr", "--var", "cn=a.example.com", "--out", "ok.crt",
                      env={"QPKI_MAX_INPUT_SIZE": "4K"})
    assert result.returncode == 0, result
    bad = qpki_cli("cert", "info", "ok.crt", env={"QPKI_MAX_INPUT_SIZE": "lots"})
    assert bad.returncode == 2 and "QPKI_MAX_INPUT_SIZE must be a positive size" in bad.stderr


def _revoke_in_store(ca_dir: Path, count: int) -> None:
    """``count`` revoked entries in the CA's database, in one transaction
    (no certificate is issued for them: only their CRL matters here)."""
    import datetime

    from qpki.revocation import RevocationReason
    from qpki.store.ca_dir import CaDir
    from qpki.store.cert_db import CertRow
    from qpki.store.cert_store import write_store
    from qpki.store.index import IndexEntry
    from qpki.store.lock import ca_lock
    from qpki.store.serials import new_serial

    when = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    rows = [CertRow(IndexEntry("R", when + datetime.timedelta(days=365), when,
                               RevocationReason.superseded, new_serial(), f"/CN=r{number}"))
            for number in range(count)]
    ca = CaDir(ca_dir)
    with ca_lock(ca.path), write_store(ca) as store:
        store.record_issued(rows, [])


def test_a_crl_of_a_large_ca_is_read_past_the_general_cap(ca, qpki_cli):
    """30,000 revocations make a CRL of about 1.5 MB: qpki reads the CRLs it
    makes (a CRL's cap is 256 MiB) and still refuses it under a cap set
    lower."""
    _revoke_in_store(ca, 30_000)
    assert qpki_cli("crl", "gen", "--ca-dir", "ca").returncode == 0
    crl = ca / "crl" / "ca.crl"
    assert crl.stat().st_size > 1 << 20
    info = qpki_cli("crl", "info", str(crl), "--json", check=True)
    assert json.loads(info.stdout)["revoked_count"] == 30_000
    verified = qpki_cli("crl", "verify", str(crl), "--ca", "ca/ca.crt")
    assert verified.returncode == 0, verified
    capped = qpki_cli("crl", "info", str(crl), env={"QPKI_MAX_INPUT_SIZE": "1M"})
    assert "larger than the 1 MiB input limit" in _one_line_error(capped)


@pytest.mark.parametrize("what", ["var file", "profile", "batch file", "HSM config"])
def test_every_yaml_refuses_an_alias_bomb(what, ca, qpki_cli, tmp_path, tree_snapshot,
                                          diff_snapshots):
    (tmp_path / "c.csr").write_bytes(make_csr("a.example.com"))
    bomb = tmp_path / "bomb.yaml"
    argv = {
        "var file": ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server",
                     "--csr", "c.csr", "--var-file", "bomb.yaml"],
        "profile": ["cert", "issue", "--ca-dir", "ca", "--profile", "bomb.yaml",
                    "--csr", "c.csr"],
        "batch file": ["credential", "enroll", "--ca-dir", "ca", "--cred-dir", "creds",
                       "--profile", "ec/tls-server", "--batch", "bomb.yaml"],
        "HSM config": ["hsm", "test", "--hsm-config", "bomb.yaml"],
    }[what]
    bomb.write_text(_bomb("dns_names" if what != "HSM config" else "type"))
    before = tree_snapshot(tmp_path)
    result = qpki_cli(*argv, timeout=300)
    line = _one_line_error(result)
    assert "bomb.yaml" in line and "nodes once aliases are expanded" in line, line
    assert diff_snapshots(before, tree_snapshot(tmp_path)) == []


def test_yaml_self_reference_and_depth_are_refused(qpki_cli, tmp_path):
    (tmp_path / "loop.yaml").write_text("type: pkcs11\npkcs11: &a {x: [*a]}\n")
    line = _one_line_error(qpki_cli("hsm", "test", "--hsm-config", "loop.yaml"))
    assert "alias refers to a node that contains it" in line
    (tmp_path / "deep.yaml").write_text("cn: " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "c.csr").write_bytes(make_csr("a.example.com"))
    line = _one_line_error(qpki_cli("profile", "show", "deep.yaml"))
    assert "nested deeper than 50 levels" in line


def test_yaml_over_the_size_cap_is_refused(qpki_cli, tmp_path):
    names = "".join(f"  - host{i}.example.com\n" for i in range(60000))
    (tmp_path / "vars.yaml").write_text("dns_names:\n" + names)
    assert os.path.getsize(tmp_path / "vars.yaml") > 1 << 20
    (tmp_path / "c.csr").write_bytes(make_csr("a.example.com"))
    result = qpki_cli("cert", "issue", "--ca-dir", "nowhere", "--profile", "ec/tls-server",
                      "--csr", "c.csr", "--var-file", "vars.yaml")
    line = _one_line_error(result)
    assert "var file vars.yaml: larger than the 1 MiB input limit" in line
