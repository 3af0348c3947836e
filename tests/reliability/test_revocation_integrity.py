"""A revocation cannot be undone silently (issue 13, item 8), and nothing is
signed without the CA's audit log (item 9).

- index.txt edited from R back to V, or the line and the certificate file
  deleted: ``audit verify`` and ``ca check`` report it, ``crl gen`` refuses
  to publish a CRL without the serial;
- expired entries stay on the CRL unless ``--drop-expired`` is given, and
  then only once a CRL issued after the expiry listed them (RFC 5280 §3.3);
- no audit log, an emptied one, or one that lost its first line: issuance,
  revocation, release and CRL generation refuse in one line naming the
  file, and change nothing;
- CA directories made by qpki 0.1.0 (vendored in data/ca-0.1.0) keep
  working; those installed from a CSR, whose logs lack the CA's creation,
  are adopted by ``ca check --repair``.
"""

from __future__ import annotations

import datetime
import os
import shutil
from pathlib import Path

import pytest

from reliability_support import make_csr
from revocation_support import crl_text, issue, make_ca


LEGACY = Path(__file__).parent / "data" / "ca-0.1.0"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """ca: three certificates, the first revoked (keyCompromise), a CRL."""
    from qpki.ops.crl.state import crl_ensure

    base = tmp_path_factory.mktemp("integrity")
    ca = make_ca(base / "ca")
    serials = issue(ca, 3)
    crl_ensure(str(ca), revocations=[{"serial": serials[0], "reason": "keyCompromise"}])
    (base / "new.csr").write_bytes(make_csr("new.example.com"))
    return base, serials


@pytest.fixture
def pki(pristine, tmp_path):
    base, serials = pristine
    shutil.copytree(base, tmp_path / "w", symlinks=True)
    return tmp_path / "w", serials


def _edit_index(ca: Path, serial: str, change) -> None:
    lines = (ca / "index.txt").read_text().splitlines(keepends=True)
    out = []
    for line in lines:
        fields = line.split("\t")
        out.append(change(fields) if int(fields[3], 16) == int(serial, 16) else line)
    (ca / "index.txt").write_text("".join(x for x in out if x))


def _assert_reported(qpki_cli, work, words):
    verify = qpki_cli("audit", "verify", "--ca-dir", "ca", "--json", cwd=work)
    assert verify.returncode == 1 and words in verify.json()["reason"], verify
    check = qpki_cli("ca", "check", "--ca-dir", "ca", "--json", cwd=work)
    assert check.returncode == 1 and any(words in p for p in check.json()["problems"]), check
    repair = qpki_cli("ca", "check", "--ca-dir", "ca", "--repair", "--json", cwd=work)
    assert repair.returncode == 1 and any(words in p for p in repair.json()["problems"])


def _assert_crl_gen_refuses(qpki_cli, work, serial, tree_snapshot, diff_snapshots):
    before = tree_snapshot(work / "ca")
    gen = qpki_cli("crl", "gen", "--ca-dir", "ca", cwd=work)
    assert gen.returncode == 1 and gen.stderr.count("\n") == 1, gen
    assert f"serial {serial} would drop off the next CRL" in gen.stderr
    assert diff_snapshots(before, tree_snapshot(work / "ca")) == []
    assert int(serial, 16) in crl_text(work / "ca" / "crl" / "ca.crl")[1]


def test_revocation_undone_by_editing_the_index(pki, qpki_cli, tree_snapshot, diff_snapshots):
    work, serials = pki
    _edit_index(work / "ca", serials[0],
                lambda f: "\t".join(["V", f[1], ""] + f[3:]))
    _assert_reported(qpki_cli, work, "the revocation was undone outside qpki")
    _assert_crl_gen_refuses(qpki_cli, work, serials[0], tree_snapshot, diff_snapshots)


def test_revoked_again_after_a_release_stays_revoked(pki, qpki_cli):
    """Held, released, revoked again: the release is not the last record, so an
    index edited back to valid does not take the serial off the next CRL."""
    work, serials = pki
    serial = serials[1]
    qpki_cli("cert", "revoke", serial, "--ca-dir", "ca", "--reason", "certificateHold", cwd=work,
             check=True)
    qpki_cli("crl", "gen", "--ca-dir", "ca", cwd=work, check=True)
    qpki_cli("cert", "unhold", serial, "--ca-dir", "ca", cwd=work, check=True)
    qpki_cli("cert", "revoke", serial, "--ca-dir", "ca", "--reason", "keyCompromise", cwd=work,
             check=True)
    qpki_cli("crl", "gen", "--ca-dir", "ca", cwd=work, check=True)
    _edit_index(work / "ca", serial, lambda f: "\t".join(["V", f[1], ""] + f[3:]))
    crl_before = (work / "ca" / "crl" / "ca.crl.der").read_bytes()
    gen = qpki_cli("crl", "gen", "--ca-dir", "ca", cwd=work)
    assert gen.returncode == 1 and f"serial {serial} would drop off the next CRL" in gen.stderr, gen
    assert (work / "ca" / "crl" / "ca.crl.der").read_bytes() == crl_before
    assert int(serial, 16) in crl_text(work / "ca" / "crl" / "ca.crl")[1]


def test_revocation_undone_by_deleting_line_and_file(pki, qpki_cli, tree_snapshot,
                                                     diff_snapshots):
    work, serials = pki
    _edit_index(work / "ca", serials[0], lambda f: "")
    (work / "ca" / "certs" / f"{serials[0]}.crt").unlink()
    _assert_reported(qpki_cli, work, "has no line in index.txt: the line was deleted")
    _assert_crl_gen_refuses(qpki_cli, work, serials[0], tree_snapshot, diff_snapshots)


def test_reason_changed_in_the_index(pki, qpki_cli):
    work, serials = pki
    _edit_index(work / "ca", serials[0],
                lambda f: "\t".join(f[:2] + [f[2].replace("keyCompromise", "superseded")]
                                    + f[3:]))
    _assert_reported(qpki_cli, work, "another revocation reason (superseded, recorded "
                                     "keyCompromise)")


def test_expired_entries_stay_unless_allowed(pki):
    from cryptography import x509

    from qpki.ops.audit.trail import audit_verify
    from qpki.ops.crl.commands import crl_gen
    from qpki.ops.crl.state import crl_ensure

    work, serials = pki
    ca = work / "ca"
    cert = x509.load_pem_x509_certificate((ca / "certs" / f"{serials[0]}.crt").read_bytes())
    expiry = cert.not_valid_after_utc
    day = datetime.timedelta(days=1)

    def listed(**kwargs):
        crl_gen(str(ca), **kwargs)
        return crl_text(ca / "crl" / "ca.crl")[1]

    # The current CRL was issued before the expiry: dropping must wait.
    assert int(serials[0], 16) in listed(now=expiry + day, drop_expired=True)
    # Kept by default, however late.
    assert int(serials[0], 16) in listed(now=expiry + 400 * day)
    # Allowed, and listed once after the expiry: it goes.
    assert int(serials[0], 16) not in listed(now=expiry + 401 * day, drop_expired=True)
    assert audit_verify(str(ca)).valid
    # A certificate revoked and listed before its expiry only stays.
    crl_ensure(str(ca), revocations=[{"serial": serials[1], "reason": "superseded"}],
               now=expiry - day)
    assert int(serials[1], 16) in crl_text(ca / "crl" / "ca.crl")[1]
    assert int(serials[1], 16) in listed(now=expiry + 2 * day, drop_expired=True)


@pytest.mark.parametrize("damage", ["removed", "emptied", "first line cut"])
def test_no_signing_without_the_audit_log(pki, qpki_cli, tree_snapshot, diff_snapshots,
                                          damage):
    work, serials = pki
    log = work / "ca" / "audit.log"
    if damage == "removed":
        log.unlink()
    elif damage == "emptied":
        log.write_bytes(b"")
    else:
        log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[1:]))
    damaged = log.read_bytes() if log.exists() else None
    # A certificate on hold, to try releasing it.
    _edit_index(work / "ca", serials[1],
                lambda f: "\t".join(["R", f[1], f[1] + ",certificateHold"] + f[3:]))
    before = tree_snapshot(work / "ca")
    commands = [
        ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", "new.csr"],
        ["cert", "revoke", serials[2], "--ca-dir", "ca", "--reason", "superseded"],
        ["cert", "unhold", serials[1], "--ca-dir", "ca"],
        ["crl", "gen", "--ca-dir", "ca"],
        ["credential", "enroll", "c1", "--ca-dir", "ca", "--cred-dir", "creds", "--profile",
         "ec/tls-server", "--var", "cn=c1.example.com"],
    ]
    for argv in commands:
        result = qpki_cli(*argv, cwd=work)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result
        assert "audit.log" in result.stderr and "signs and revokes nothing" in result.stderr
    assert diff_snapshots(before, tree_snapshot(work / "ca")) == []
    assert not list((work / "creds").rglob("*"))  # no credential file was written
    # Not repairable: the log is evidence, restored from a backup or not at all.
    check = qpki_cli("ca", "check", "--ca-dir", "ca", "--repair", cwd=work)
    assert check.returncode == 1 and "audit" in check.stdout, check
    assert (log.read_bytes() if log.exists() else None) == damaged


def _legacy_copy(tmp_path: Path) -> Path:
    """data/ca-0.1.0 as a live directory: modes and empty directories back."""
    work = tmp_path / "legacy"
    shutil.copytree(LEGACY, work)
    for ca in ("root", "issuing", "installed", "installed-unused"):
        for sub in ("certs", "crl"):
            (work / ca / sub).mkdir(exist_ok=True)
        os.chmod(work / ca / "private", 0o700)
        for key in (work / ca / "private").iterdir():
            os.chmod(key, 0o600)
    (work / "new.csr").write_bytes(make_csr("after.example.com"))
    return work


def test_ca_directories_made_by_0_1_0_keep_working(tmp_path, qpki_cli):
    work = _legacy_copy(tmp_path)
    index = (work / "issuing" / "index.txt").read_text().splitlines()
    held = next(line.split("\t")[3] for line in index if ",certificateHold" in line)
    compromised = next(line.split("\t")[3] for line in index if ",keyCompromise" in line)
    for argv in (["ca", "check", "--ca-dir", "issuing"],
                 ["audit", "verify", "--ca-dir", "issuing"],
                 ["cert", "issue", "--ca-dir", "issuing", "--profile", "ec/tls-server", "--csr",
                  "new.csr"],
                 ["cert", "unhold", held, "--ca-dir", "issuing"],
                 ["crl", "gen", "--ca-dir", "issuing"],
                 ["cert", "issue", "--ca-dir", "root", "--profile", "ec/issuing-ca", "--var",
                  "cn=Another", "--csr", "new.csr"],
                 ["audit", "verify", "--ca-dir", "issuing"],
                 ["ca", "check", "--ca-dir", "issuing"]):
        result = qpki_cli(*argv, cwd=work)
        assert result.returncode == 0, result
    listed = crl_text(work / "issuing" / "crl" / "ca.crl")[1]
    assert list(listed) == [int(compromised, 16)]


@pytest.mark.parametrize("ca", ["installed", "installed-unused"])
def test_ca_installed_from_a_csr_by_0_1_0_is_adopted(tmp_path, qpki_cli, ca):
    work = _legacy_copy(tmp_path)
    issue_argv = ["cert", "issue", "--ca-dir", ca, "--profile", "ec/tls-server", "--csr",
                  "new.csr"]
    refused = qpki_cli(*issue_argv, cwd=work)
    assert refused.returncode == 1 and "audit.log" in refused.stderr
    assert qpki_cli("ca", "check", "--ca-dir", ca, cwd=work).returncode == 1
    qpki_cli("ca", "check", "--ca-dir", ca, "--repair", cwd=work, check=True)
    qpki_cli(*issue_argv, cwd=work, check=True)
    qpki_cli("crl", "gen", "--ca-dir", ca, cwd=work, check=True)
    assert qpki_cli("audit", "verify", "--ca-dir", ca, cwd=work).returncode == 0
    assert qpki_cli("ca", "check", "--ca-dir", ca, cwd=work).returncode == 0
