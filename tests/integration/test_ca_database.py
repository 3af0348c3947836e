"""Issue 15: the CA database (``ca.db``) as the CA's truth, and the files
people and tools use made from it.

What qpki wrote is read back by code qpki did not write: ``openssl ca
-status`` on ``index.txt``, ``sqlite3`` on the database, ``hashlib`` for
fingerprints, ``openssl x509`` for dates.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from batch_support import csr as make_csr

VECTOR = Path(__file__).resolve().parents[1] / "vectors" / "pre_database_ca" / "ca"


def openssl_status(ca: Path, serial: str) -> str:
    """What ``openssl ca -status`` says of ``serial`` (a minimal config
    pointing at the CA directory)."""
    config = ca.parent / f"{ca.name}-openssl.cnf"
    config.write_text(f"[ca]\ndefault_ca = d\n[d]\ndir = {ca}\ndatabase = $dir/index.txt\n")
    proc = subprocess.run(["openssl", "ca", "-config", str(config), "-status", serial],
                          capture_output=True, text=True, timeout=60, check=False)
    return (proc.stdout + proc.stderr).split(f"{serial}=")[-1].split("\n")[0].strip()


def rows(ca: Path) -> dict[str, dict]:
    """The database's certificates, read with sqlite3 directly."""
    connection = sqlite3.connect(f"file:{ca / 'ca.db'}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        return {row["serial"]: dict(row) for row in connection.execute("SELECT * FROM certificates")}
    finally:
        connection.close()


@pytest.fixture
def ca(qpki_cli, tmp_path):
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Database CA",
             "--ca-dir", "ca", "--unencrypted-key", check=True)
    return tmp_path / "ca"


def issue_one(qpki_cli, tmp_path: Path, host: str, ca: str = "ca") -> dict:
    (tmp_path / f"{host}.csr").write_bytes(make_csr(host))
    return qpki_cli("cert", "issue", "--ca-dir", ca, "--profile", "ec/tls-server", "--csr",
                    f"{host}.csr", "--var", f"cn={host}", "--var", f"dns_names={host}",
                    "--out", f"{host}.crt", "--json", check=True).json()


def test_openssl_ca_status_follows_each_issue_and_revoke_without_rewriting_the_index(
        qpki_cli, tmp_path, ca):
    index = ca / "index.txt"
    serials, inode = [], index.stat().st_ino
    for number in range(3):
        before = index.read_bytes()
        serials.append(issue_one(qpki_cli, tmp_path, f"h{number}.example.com")["serial"])
        after = index.read_bytes()
        # Appended in place: the lines before are the same bytes in the same file.
        assert after.startswith(before) and len(after) > len(before)
        assert index.stat().st_ino == inode
        assert openssl_status(ca, serials[-1]) == "Valid (V)"
    size = index.stat().st_size
    qpki_cli("cert", "revoke", serials[1], "--ca-dir", "ca", "--reason", "keyCompromise",
             check=True)
    assert openssl_status(ca, serials[1]) == "Revoked (R)"
    assert [openssl_status(ca, s) for s in (serials[0], serials[2])] == ["Valid (V)"] * 2
    # The revoked line was changed where it was: same file, same size.
    assert index.stat().st_ino == inode and index.stat().st_size == size
    lines = index.read_text().splitlines()
    assert lines[1].startswith("R\t") and ",keyCompromise\t" in lines[1]
    assert [line.split("\t")[3] for line in lines] == serials


def test_the_database_row_is_what_the_certificate_says(qpki_cli, tmp_path, ca):
    issued = issue_one(qpki_cli, tmp_path, "www.example.com")
    pem = (tmp_path / "www.example.com.crt").read_text()
    der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem.encode(),
                         capture_output=True, check=True).stdout
    dates = subprocess.run(["openssl", "x509", "-noout", "-startdate", "-enddate",
                            "-dateopt", "iso_8601"], input=pem, capture_output=True,
                           text=True, check=True).stdout
    row = rows(ca)[issued["serial"]]
    assert row["der"] == der
    assert row["fingerprint"] == hashlib.sha256(der).hexdigest().upper()
    assert row["status"] == "V" and row["subject"] == "/CN=www.example.com"
    assert json.loads(row["sans"]) == ["DNS:www.example.com"]
    assert row["profile"] == "ec/tls-server"
    start, end = (line.split("=", 1)[1].replace(" ", "T") for line in dates.splitlines())
    assert (row["not_before"], row["not_after"]) == (start, end)
    log = [json.loads(line) for line in (ca / "audit.log").read_text().splitlines()]
    assert log[-1]["op"] == "cert.issue" and log[-1]["serial"] == issued["serial"]
    assert log[-1]["fingerprint"] == row["fingerprint"]


def _copy_vector(tmp_path: Path) -> Path:
    ca = tmp_path / "old"
    shutil.copytree(VECTOR, ca)
    (ca / "private").chmod(0o700)
    for key in (ca / "private").iterdir():
        key.chmod(0o600)
    return ca


def test_a_ca_made_before_the_database_is_migrated_at_its_first_change(
        qpki_cli, tmp_path, tree_snapshot, diff_snapshots):
    ca = _copy_vector(tmp_path)
    old_index = (ca / "index.txt").read_bytes()
    old_lines = [line.split("\t") for line in old_index.decode().splitlines()]
    before = tree_snapshot(ca)
    listed = qpki_cli("cert", "list", "--ca-dir", "old", "--json", check=True).json()
    # Reading answers from index.txt and changes nothing.
    assert diff_snapshots(before, tree_snapshot(ca)) == [] and not (ca / "ca.db").exists()
    assert [c["serial"] for c in listed["certificates"]] == [line[3] for line in old_lines]
    assert [c.get("reason") for c in listed["certificates"]] == [None, "keyCompromise",
                                                                 "superseded"]

    new = issue_one(qpki_cli, tmp_path, "new.example.com", ca="old")["serial"]
    meta = json.loads((ca / "ca.meta.json").read_text())
    assert meta["store"] == {"type": "sqlite", "path": "ca.db"}
    # The lines already there (one written by openssl ca) are kept byte for byte.
    assert (ca / "index.txt").read_bytes().startswith(old_index)
    held = rows(ca)
    assert sorted(held) == sorted([line[3] for line in old_lines] + [new])
    for status, dummy, revoked, serial, dummy, subject in old_lines:
        row = held[serial]
        assert (row["status"], row["subject"]) == (status, subject)
        assert (row["reason"] or "") == (revoked.split(",")[1] if revoked else "")
        pem = (ca / "certs" / f"{serial}.crt").read_text()
        der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem.encode(),
                             capture_output=True, check=True).stdout
        assert row["der"] == der and row["profile"] == "ec/tls-server"
        expected = "Revoked (R)" if status == "R" else "Valid (V)"
        assert openssl_status(ca, serial) == expected
    assert openssl_status(ca, new) == "Valid (V)"
    qpki_cli("crl", "gen", "--ca-dir", "old", check=True)
    crl = subprocess.run(["openssl", "crl", "-in", str(ca / "crl" / "ca.crl"), "-noout",
                          "-text"], capture_output=True, text=True, check=True).stdout
    for status, dummy, dummy, serial, dummy, dummy in old_lines:
        assert (serial in crl) == (status == "R")
    assert qpki_cli("audit", "verify", "--ca-dir", "old").returncode == 0
    checked = qpki_cli("ca", "check", "--ca-dir", "old", "--json").json()
    assert checked["valid"] and not checked["problems"], checked


def test_an_index_changed_by_openssl_ca_is_taken_at_the_next_change(qpki_cli, tmp_path, ca):
    serial = issue_one(qpki_cli, tmp_path, "h.example.com")["serial"]
    key = next((ca / "private").iterdir())
    config = tmp_path / "ossl.cnf"
    config.write_text(f"[ca]\ndefault_ca = d\n[d]\ndir = {ca}\ndatabase = $dir/index.txt\n"
                      f"certificate = $dir/ca.crt\nprivate_key = {key}\n"
                      "new_certs_dir = $dir/certs\ndefault_md = sha256\n")
    proc = subprocess.run(["openssl", "ca", "-config", str(config), "-revoke",
                           str(tmp_path / "h.example.com.crt"), "-crl_reason", "superseded"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    qpki_cli("crl", "gen", "--ca-dir", "ca", check=True)
    row = rows(ca)[serial]
    assert (row["status"], row["reason"]) == ("R", "superseded")
    crl = subprocess.run(["openssl", "crl", "-in", str(ca / "crl" / "ca.crl"), "-noout",
                          "-text"], capture_output=True, text=True, check=True).stdout
    assert serial in crl and "Superseded" in crl
    # The revocation that qpki did not make has no audit record: reported, not hidden.
    checked = qpki_cli("ca", "check", "--ca-dir", "ca", "--json").json()
    assert not checked["valid"] and serial in " ".join(checked["problems"])


def test_cert_list_selects_by_status_expiry_and_subject(qpki_cli, tmp_path, ca):
    serials = [issue_one(qpki_cli, tmp_path, f"h{n}.example.com")["serial"] for n in range(3)]
    qpki_cli("cert", "revoke", serials[0], "--ca-dir", "ca", check=True)

    def listed(*args):
        result = qpki_cli("cert", "list", "--ca-dir", "ca", *args, "--json", check=True).json()
        assert result["count"] == len(result["certificates"])
        return [c["serial"] for c in result["certificates"]]

    leaf_end = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "h1.example.com.crt"),
                               "-noout", "-enddate"], capture_output=True, text=True,
                              check=True).stdout.split("=", 1)[1].strip()
    days_left = (datetime.datetime.strptime(leaf_end, "%b %d %H:%M:%S %Y %Z")
                 - datetime.datetime.utcnow()).days
    assert set(listed()) == set(serials)
    assert listed("--status", "revoked") == serials[:1]
    assert set(listed("--status", "valid")) == set(serials[1:])
    assert listed("--status", "expired") == []
    assert set(listed("--expiring", f"{days_left + 2}d")) == set(serials[1:])
    assert listed("--expiring", f"{max(days_left - 2, 1)}d") == []
    assert listed("--subject", "H2.EXAMPLE") == serials[2:]
    assert listed("--subject", "50%_") == []
    text = qpki_cli("cert", "list", "--ca-dir", "ca", check=True).stdout.splitlines()
    assert text[-1] == "3 certificate(s)" and text[0].startswith(serials[0] + "  revoked")
    bad = qpki_cli("cert", "list", "--ca-dir", "ca", "--expiring", "soon")
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1 and "expiring" in bad.stderr


def test_cert_info_by_serial_is_answered_from_the_database(qpki_cli, tmp_path, ca):
    serial = issue_one(qpki_cli, tmp_path, "w.example.com")["serial"]
    qpki_cli("cert", "revoke", serial, "--ca-dir", "ca", "--reason", "superseded", check=True)
    (ca / "certs" / f"{serial}.crt").unlink()  # the database holds the DER
    info = qpki_cli("cert", "info", serial.lower(), "--ca-dir", "ca", "--json",
                    check=True).json()
    from_file = qpki_cli("cert", "info", "w.example.com.crt", "--json", check=True).json()
    assert info["status"] == "revoked" and info["reason"] == "superseded"
    assert {k: v for k, v in info.items() if k not in ("status", "reason", "revoked_at")} \
        == from_file
    unknown = qpki_cli("cert", "info", "0ABC", "--ca-dir", "ca")
    assert unknown.returncode != 0 and "0ABC" in unknown.stderr
