"""``qpki ca check [--repair]``: each crash leftover is reported (exit 1),
repaired without signing, and the CA then passes check, audit verify and the
strict invariants; what must not be repaired is left alone."""

import json
import os
import shutil

import pytest
from cryptography import x509

from reliability_support import check_invariants, make_csr


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    from qpki.ops.ca.commands import ca_init
    from qpki.ops.cert.commands import cert_issue
    from qpki.ops.cert.revoke import cert_revoke
    from qpki.ops.crl.commands import crl_gen

    base = tmp_path_factory.mktemp("check")
    ca = str(base / "ca")
    ca_init(ca, "ec/issuing-ca", {"cn": "Check CA"})
    for number in range(3):
        cert_issue(ca, "ec/tls-server", make_csr("h%d.example.com" % number))
    first = sorted(os.listdir(base / "ca" / "certs"))[0].split(".")[0]
    cert_revoke(ca, first, "superseded")
    crl_gen(ca)
    ca_init(str(base / "other"), "ec/issuing-ca", {"cn": "Other CA"})
    return base


@pytest.fixture
def work(pristine, tmp_path):
    shutil.copytree(pristine, tmp_path / "w", symlinks=True)
    return tmp_path / "w"


def _check(qpki_cli, work, *extra):
    result = qpki_cli("ca", "check", "--ca-dir", "ca", "--json", *extra, cwd=work)
    return result.returncode, result.json()


def _crash_after_certificate_file(work):
    """The state a process killed right after writing certs/<SERIAL>.crt
    leaves: no index line, the old serial file, no audit record."""
    from qpki.ops.cert.commands import cert_issue

    ca = work / "ca"
    saved = {name: (ca / name).read_bytes() for name in ("index.txt", "serial", "audit.log")}
    issued = cert_issue(str(ca), "ec/tls-server", make_csr("lost.example.com"))
    for name, data in saved.items():
        (ca / name).write_bytes(data)
    return issued.serial


def _assert_clean(qpki_cli, work):
    code, data = _check(qpki_cli, work)
    assert code == 0 and data["valid"] and not data["problems"], data
    facts = check_invariants(work / "ca")
    assert not facts["unrecorded"] and not facts["gaps"] and not facts["temps"], facts
    assert qpki_cli("audit", "verify", "--ca-dir", "ca", cwd=work).returncode == 0
    (work / "next.csr").write_bytes(make_csr("next.example.com"))
    assert qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr",
                    "next.csr", cwd=work).returncode == 0


def test_clean_ca(work, qpki_cli):
    code, data = _check(qpki_cli, work)
    assert code == 0 and data["valid"] and data["reason"] == "ok" and "changed" not in data
    human = qpki_cli("ca", "check", "--ca-dir", "ca", cwd=work)
    assert human.stdout.strip() == "OK"


def test_issued_but_unrecorded_certificate(work, qpki_cli):
    serial = _crash_after_certificate_file(work)
    code, data = _check(qpki_cli, work)
    assert code == 1 and not data["valid"]
    assert any("issued but unrecorded" in p and serial.lstrip("0") in p for p in data["problems"])
    human = qpki_cli("ca", "check", "--ca-dir", "ca", cwd=work)
    assert human.returncode == 1 and "issued but unrecorded" in human.stdout
    code, data = _check(qpki_cli, work, "--repair")
    assert code == 0 and data["valid"] and data["changed"], data
    assert len(data["repaired"]) == 2, data  # the row (index line and serial file), audit record
    index = (work / "ca" / "index.txt").read_text()
    assert serial.lstrip("0") in index.upper()
    last = json.loads((work / "ca" / "audit.log").read_text().splitlines()[-1])
    assert last["op"] == "audit.recover" and last["recovered"] == "cert.issue"
    assert last["serial"].lstrip("0") == serial.lstrip("0")
    # The row made again from the certificate file says what the file says.
    from qpki.store.ca_dir import CaDir
    from qpki.store.cert_store import write_store

    with write_store(CaDir(work / "ca")) as store:
        row = store.row(int(serial, 16))
    assert row is not None and row.entry.subject == "/CN=lost.example.com"
    assert row.sans == ("DNS:lost.example.com",)
    _assert_clean(qpki_cli, work)


def test_orphan_temporary_files(work, qpki_cli):
    temps = [work / "ca" / ".index.txt.tmp-0123456789ab",
             work / "ca" / "certs" / ".AB.crt.tmp-00112233aabb",
             work / "ca" / "crl" / ".ca.crl.tmp-ffeeddccbbaa"]
    for temp in temps:
        temp.write_bytes(b"half a write")
    code, data = _check(qpki_cli, work)
    assert code == 1 and len(data["problems"]) == 3
    code, data = _check(qpki_cli, work, "--repair")
    assert code == 0 and not any(t.exists() for t in temps)
    _assert_clean(qpki_cli, work)


def test_crl_pair_out_of_step(work, qpki_cli):
    from qpki.ops.crl.commands import crl_gen

    old_pem = (work / "ca" / "crl" / "ca.crl").read_bytes()
    crl_gen(str(work / "ca"))
    (work / "ca" / "crl" / "ca.crl").write_bytes(old_pem)  # killed between DER and PEM
    code, data = _check(qpki_cli, work)
    assert code == 1 and "differ" in data["reason"]
    code, data = _check(qpki_cli, work, "--repair")
    assert code == 0
    pem = x509.load_pem_x509_crl((work / "ca" / "crl" / "ca.crl").read_bytes())
    der = x509.load_der_x509_crl((work / "ca" / "crl" / "ca.crl.der").read_bytes())
    assert pem == der and pem.extensions.get_extension_for_class(
        x509.CRLNumber).value.crl_number == 2
    _assert_clean(qpki_cli, work)


def test_crl_written_but_not_audited_and_counter_behind(work, qpki_cli):
    log = work / "ca" / "audit.log"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:-1]))  # the crl.gen record never made it
    (work / "ca" / "crlnumber").write_text("01\n")  # and the counter went back
    code, data = _check(qpki_cli, work)
    assert code == 1 and len(data["problems"]) == 2, data
    code, data = _check(qpki_cli, work, "--repair")
    assert code == 0 and (work / "ca" / "crlnumber").read_text().strip() == "02"
    _assert_clean(qpki_cli, work)


def test_torn_audit_tail(work, qpki_cli):
    log = work / "ca" / "audit.log"
    whole = log.read_bytes()
    log.write_bytes(whole + b'{"seq":9,"time":"2026-')
    code, data = _check(qpki_cli, work, "--repair")
    assert code == 0 and data["repaired"], data
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert log.read_bytes().startswith(whole) and records[-1]["op"] == "audit.repair"
    assert records[-1]["dropped_bytes"] == len(b'{"seq":9,"time":"2026-')
    _assert_clean(qpki_cli, work)


def test_tampered_audit_log_is_not_repaired(work, qpki_cli):
    log = work / "ca" / "audit.log"
    log.write_text(log.read_text().replace("superseded", "unspecified"))
    before = log.read_bytes()
    code, data = _check(qpki_cli, work, "--repair")
    assert code == 1 and "not repaired" in data["reason"] and log.read_bytes() == before


def test_foreign_and_corrupt_files_in_certs(work, qpki_cli):
    from qpki.ops.cert.commands import cert_issue

    other = cert_issue(str(work / "other"), "ec/tls-server", make_csr("x.example.com"))
    foreign = other.paths[0]
    shutil.copy(foreign, work / "ca" / "certs")
    (work / "ca" / "certs" / "0A0B.crt").write_bytes(b"")
    code, data = _check(qpki_cli, work)
    assert code == 1 and len(data["problems"]) == 2, data
    assert any("not a certificate of this CA" in p for p in data["problems"])
    code, data = _check(qpki_cli, work, "--repair")
    assert code == 0, data
    names = os.listdir(work / "ca" / "certs")
    assert "0A0B.crt.corrupt" in names and any(n.endswith(".crt.rejected") for n in names)
    _assert_clean(qpki_cli, work)


def test_garbage_serial_file(work, qpki_cli):
    (work / "ca" / "serial").write_text("not hex\n")
    code, data = _check(qpki_cli, work, "--repair")
    assert code == 0 and data["repaired"]
    _assert_clean(qpki_cli, work)


def test_problems_that_are_never_repaired(work, qpki_cli):
    os.chmod(work / "ca" / "private" / "ca.ecdsa-p256.key", 0o644)
    index = work / "ca" / "index.txt"
    first = index.read_text().splitlines()[1].split("\t")[3]
    os.unlink(work / "ca" / "certs" / (first + ".crt"))  # a recorded certificate lost
    code, data = _check(qpki_cli, work, "--repair")
    assert code == 1 and not data["repaired"]
    text = " ".join(data["problems"])
    assert "mode 0644" in text and "consider the key exposed" in text
    assert "has no certificate file" in text
    assert oct(os.stat(work / "ca" / "private" / "ca.ecdsa-p256.key").st_mode)[-3:] == "644"
