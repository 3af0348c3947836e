"""The hash-chained audit log (issue 6, item 6)."""

import datetime
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from reliability_support import make_csr

GENESIS = "0" * 64


def _records(ca_dir):
    return [json.loads(line) for line in (ca_dir / "audit.log").read_text().splitlines()]


def _expected_hash(record):
    body = {k: v for k, v in record.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _make_pki(base):
    """root -> issuing; one leaf issued, revoked (with an invalidity date), a
    CRL, a credential. Made by the ops the CLI calls, in this process (so
    that scripts/mutation.sh sees the code that writes the records).
    Returns the leaf's serial, its certificate file and the time window."""
    from qpki.ops.ca.commands import ca_init
    from qpki.ops.cert.commands import cert_issue
    from qpki.ops.cert.revoke import cert_revoke
    from qpki.ops.credential.enroll import credential_enroll
    from qpki.ops.crl.commands import crl_gen

    started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ca_init(str(base / "root"), "ec/root-ca", {"cn": "Audit Root"})
    ca_init(str(base / "iss"), "ec/issuing-ca", {"cn": "Audit Issuing"},
            parent_dir=str(base / "root"))
    (base / "leaf.csr").write_bytes(make_csr("leaf.example.com"))
    leaf = cert_issue(str(base / "iss"), "ec/tls-server", (base / "leaf.csr").read_bytes())
    cert_revoke(str(base / "iss"), leaf.serial, "keyCompromise",
                invalidity_date=started - datetime.timedelta(days=2))
    crl_gen(str(base / "iss"))
    credential_enroll(str(base / "iss"), str(base / "creds"), "ec/tls-server",
                      {"cn": "c1.example.com"}, credential_id="c1")
    ended = datetime.datetime.now(datetime.timezone.utc)
    return leaf.serial, Path(leaf.paths[0]), (started, ended)


@pytest.fixture(scope="module")
def pristine_pki(tmp_path_factory):
    base = tmp_path_factory.mktemp("audit")
    return (base, *_make_pki(base))


@pytest.fixture
def pki(pristine_pki, tmp_path):
    base, serial, _leaf, _window = pristine_pki
    work = tmp_path / "w"
    shutil.copytree(base, work, symlinks=True)
    return work, serial


def test_every_signing_operation_is_recorded_and_chained(pki):
    work, serial = pki
    root, iss = _records(work / "root"), _records(work / "iss")
    assert [r["op"] for r in root] == ["ca.init", "cert.issue"]
    assert root[0]["self_signed"] is True and root[0]["profile"] == "ec/root-ca"
    assert root[1]["profile"] == "ec/issuing-ca" and root[1]["subject"] == "CN=Audit Issuing"
    assert [r["op"] for r in iss] == ["ca.init", "cert.issue", "cert.revoke", "crl.gen",
                                      "cert.issue"]
    assert iss[0]["self_signed"] is False and iss[0]["issuer"] == "CN=Audit Root"
    assert iss[0]["serial"] == root[1]["serial"]  # the parent recorded the child's certificate
    issued = iss[1]
    assert issued["serial"].lstrip("0") == serial.lstrip("0")
    assert issued["profile"] == "ec/tls-server" and issued["subject"] == "CN=leaf.example.com"
    assert issued["keys"] == [{"id": "default", "algorithm": "ecdsa-p256", "storage": "software",
                               "path": "private/ca.ecdsa-p256.key"}]
    assert len(issued["ca_key_id"]) == 40 and len(issued["fingerprint"]) == 64
    assert iss[2]["reason"] == "keyCompromise" and iss[3]["crl_number"] == 1
    assert iss[3]["revoked"] == 1
    for records in (root, iss):
        prev = GENESIS
        for number, record in enumerate(records, 1):
            assert record["seq"] == number and record["prev"] == prev
            assert record["hash"] == _expected_hash(record)
            prev = record["hash"]


def _time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def _sealed(record, *fields):
    assert sorted(record) == sorted(("seq", "time", "op", *fields, "prev", "hash")), record


def test_each_record_holds_what_the_certificate_or_crl_says(tmp_path):
    """Every field of the issuing CA's records, against the certificate or
    CRL it describes as cryptography reads it, and the CA's own files. (Its
    own PKI, not the module's: mutmut runs, for a mutant of the code that
    writes records, the tests during which that code ran.)"""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    base = tmp_path
    _serial, leaf_path, (started, ended) = _make_pki(base)
    iss = base / "iss"
    init, issue, revoke, crl_gen = _records(iss)[:4]
    ca = x509.load_pem_x509_certificate((iss / "ca.crt").read_bytes())
    leaf = x509.load_pem_x509_certificate(leaf_path.read_bytes())
    crl = x509.load_der_x509_crl((iss / "crl" / "ca.crl.der").read_bytes())
    for record in (init, issue, revoke, crl_gen):
        assert started <= _time(record["time"]) <= ended, record

    def described(cert):
        der = cert.public_bytes(Encoding.DER)
        return {"serial": cert.serial_number, "subject": cert.subject.rfc4514_string(),
                "not_after": cert.not_valid_after_utc,
                "fingerprint": hashlib.sha256(der).hexdigest().upper()}

    def recorded(record):
        return {"serial": int(record["serial"], 16), "subject": record["subject"],
                "not_after": _time(record["not_after"]), "fingerprint": record["fingerprint"]}

    ca_key = ca.public_key()
    keys = [{"id": "default", "algorithm": f"ecdsa-p{ca_key.curve.key_size}",
             "storage": "software", "path": f"private/ca.ecdsa-p{ca_key.curve.key_size}.key"}]
    assert (iss / keys[0]["path"]).is_file()
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest

    _sealed(init, "serial", "subject", "not_after", "fingerprint", "issuer", "self_signed",
            "profile", "keys")
    assert recorded(init) == described(ca)
    assert (init["issuer"], init["self_signed"]) == ("CN=Audit Root", False)
    assert (init["profile"], init["keys"]) == ("ec/issuing-ca", keys)

    _sealed(issue, "serial", "subject", "not_after", "fingerprint", "profile", "keys",
            "ca_key_id")
    assert recorded(issue) == described(leaf)
    assert (issue["profile"], issue["keys"]) == ("ec/tls-server", keys)
    assert issue["ca_key_id"] == ski.hex().upper()

    entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
    _sealed(revoke, "serial", "subject", "reason", "revoked_at", "invalidity_date")
    assert int(revoke["serial"], 16) == leaf.serial_number
    # The subject as the index lists it (OpenSSL's one-line form).
    listed = [line.split("\t") for line in (iss / "index.txt").read_text().splitlines()]
    assert [revoke["subject"]] == [fields[5] for fields in listed
                                   if int(fields[3], 16) == leaf.serial_number]
    assert revoke["reason"] == entry.extensions.get_extension_for_class(
        x509.CRLReason).value.reason.value
    assert _time(revoke["revoked_at"]) == entry.revocation_date_utc
    assert _time(revoke["invalidity_date"]) == entry.extensions.get_extension_for_class(
        x509.InvalidityDate).value.invalidity_date_utc

    _sealed(crl_gen, "crl_number", "this_update", "next_update", "revoked", "fingerprint",
            "keys", "ca_key_id")
    assert crl_gen["crl_number"] == crl.extensions.get_extension_for_class(
        x509.CRLNumber).value.crl_number
    assert _time(crl_gen["this_update"]) == crl.last_update_utc
    assert _time(crl_gen["next_update"]) == crl.next_update_utc
    assert crl_gen["revoked"] == len(crl) == 1
    assert crl_gen["fingerprint"] == hashlib.sha256(
        crl.public_bytes(Encoding.DER)).hexdigest().upper()
    assert (crl_gen["keys"], crl_gen["ca_key_id"]) == (keys, ski.hex().upper())


def test_audit_verify_ok(pki, qpki_cli):
    work, dummy = pki
    result = qpki_cli("audit", "verify", "--ca-dir", "iss", "--json", cwd=work)
    assert result.returncode == 0, result
    data = result.json()
    assert data["valid"] and data["records"] == 5 and data["line"] is None
    assert data["problems"] == []
    assert data["path"] == str(Path("iss") / "audit.log")
    assert data["head"]["hash"] == _records(work / "iss")[-1]["hash"]
    text = qpki_cli("audit", "verify", "--ca-dir", "iss", cwd=work)
    assert text.stdout.startswith("OK: 5 records, chain intact")


def _tamper(path, change):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(change(lines)))


def _edit_field(line, key, value):
    record = json.loads(line)
    record[key] = value
    return json.dumps(record, separators=(",", ":")) + "\n"


def _rehash(line, prev=None):
    record = json.loads(line)
    if prev is not None:
        record["prev"] = prev
    record["hash"] = _expected_hash(record)
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"


def _drop_field(line, key):
    record = json.loads(line)
    del record[key]
    return json.dumps(record, separators=(",", ":")) + "\n"


TAMPERING = {
    "edited field": (lambda ls: ls[:2] + [_edit_field(ls[2], "reason", "superseded")] + ls[3:],
                     "line 3: hash mismatch"),
    "edited field, hash recomputed": (lambda ls: ls[:1] + [_rehash(_edit_field(
        ls[1], "subject", "CN=evil.example.com"))] + ls[2:], "line 3: prev does not match"),
    "deleted middle line": (lambda ls: ls[:2] + ls[3:], "line 3: seq is 4, expected 3"),
    "deleted first line": (lambda ls: ls[1:], "line 1: seq is 2, expected 1"),
    "swapped lines": (lambda ls: ls[:1] + [ls[2], ls[1]] + ls[3:], "line 2: seq is 3"),
    "inserted forged line": (lambda ls: ls[:3] + [_rehash(ls[2])] + ls[3:],
                             "line 4: seq is 3, expected 4"),
    "truncated tail (partial line)": (lambda ls: ls[:-1] + [ls[-1][:40]], "line 5: incomplete"),
    "deleted last line": (lambda ls: ls[:-1], "in index.txt has no issuance record"),
    "last two lines deleted": (lambda ls: ls[:-2], "has no issuance record"),
    "reformatted line": (lambda ls: ls[:1] + [json.dumps(json.loads(ls[1]), indent=1).replace(
        "\n", " ") + "\n"] + ls[2:], "line 2: not byte-identical"),
    "emptied log": (lambda ls: [], "the log is empty"),
    "prev dropped, hash recomputed": (lambda ls: ls[:1] + [_rehash(_drop_field(ls[1], "prev"))]
                                      + ls[2:], "line 2: not a sealed record"),
}


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_audit_verify_detects_tampering(name, pki, qpki_cli):
    work, dummy = pki
    change, expected = TAMPERING[name]
    _tamper(work / "iss" / "audit.log", change)
    result = qpki_cli("audit", "verify", "--ca-dir", "iss", "--json", cwd=work)
    assert result.returncode == 1, result
    data = result.json()
    assert not data["valid"] and expected in data["reason"], data["reason"]
    # The line where the chain breaks, when it does (not for what only the
    # comparison with the CA's state shows).
    broken = int(expected.split()[1].rstrip(":")) if expected.startswith("line ") else None
    assert data["line"] == broken, data
    human = qpki_cli("audit", "verify", "--ca-dir", "iss", cwd=work)
    assert human.returncode == 1 and human.stdout.startswith("FAILED: ")
    # A damaged chain is evidence: ca check --repair reports it and leaves it alone,
    # except an incomplete last line, which it cuts (and records that it did).
    before = (work / "iss" / "audit.log").read_bytes()
    qpki_cli("ca", "check", "--ca-dir", "iss", "--repair", cwd=work)
    after = (work / "iss" / "audit.log").read_bytes()
    if "incomplete" in expected:
        assert after.startswith(before[:before.rindex(b"\n") + 1])
        added = [json.loads(line)["op"] for line in after[before.rindex(b"\n") + 1:].splitlines()]
        assert added[0] == "audit.repair", added
    elif "seq" in expected or "hash" in expected or "prev" in expected or "byte" in expected:
        assert after == before


def test_anchor_detects_removed_tail_lines(pki, qpki_cli):
    """Lines removed from the end leave no hole in the chain; the CA state
    catches most such cases, an anchor kept elsewhere catches all."""
    work, dummy = pki
    head = qpki_cli("audit", "verify", "--ca-dir", "iss", "--json", cwd=work).json()["head"]
    anchor = "%d:%s" % (head["seq"], head["hash"])
    assert qpki_cli("audit", "verify", "--ca-dir", "iss", "--anchor", anchor,
                    cwd=work).returncode == 0
    first = "1:%s" % _records(work / "iss")[0]["hash"]  # any line can be the anchor
    assert qpki_cli("audit", "verify", "--ca-dir", "iss", "--anchor", first,
                    cwd=work).returncode == 0
    _tamper(work / "iss" / "audit.log", lambda ls: ls[:-1])
    result = qpki_cli("audit", "verify", "--ca-dir", "iss", "--anchor", anchor, "--json",
                      cwd=work)
    assert result.returncode == 1 and "anchor 5" in result.json()["reason"]
    bad = "%d:%s" % (2, "ab" * 32)
    result = qpki_cli("audit", "verify", "--ca-dir", "iss", "--anchor", bad, "--json", cwd=work)
    assert result.returncode == 1 and "line 2: hash differs" in result.json()["reason"]


def test_ca_crt_swapped_after_init_is_detected(pki, qpki_cli):
    work, dummy = pki
    (work / "iss" / "ca.crt").write_bytes((work / "root" / "ca.crt").read_bytes())
    result = qpki_cli("audit", "verify", "--ca-dir", "iss", "--json", cwd=work)
    assert result.returncode == 1 and "ca.crt" in result.json()["reason"]


def test_failed_commands_do_not_append(pki, qpki_cli):
    work, dummy = pki
    before = (work / "iss" / "audit.log").read_bytes()
    (work / "bad.csr").write_bytes(b"garbage")
    assert qpki_cli("cert", "issue", "--ca-dir", "iss", "--profile", "ec/tls-server", "--csr",
                    "bad.csr", cwd=work).returncode == 1
    assert qpki_cli("cert", "revoke", "0ABC", "--ca-dir", "iss", cwd=work).returncode == 1
    assert qpki_cli("crl", "gen", "--ca-dir", "iss", "--days", "0", cwd=work).returncode == 1
    assert (work / "iss" / "audit.log").read_bytes() == before


def test_a_damaged_log_stops_signing_before_anything_changes(pki, qpki_cli, tree_snapshot,
                                                             diff_snapshots):
    work, dummy = pki
    _tamper(work / "iss" / "audit.log", lambda ls: ls[:-1] + [ls[-1].rstrip("\n")])
    before = tree_snapshot(work / "iss")
    result = qpki_cli("cert", "issue", "--ca-dir", "iss", "--profile", "ec/tls-server",
                      "--csr", "leaf.csr", cwd=work)
    assert result.returncode == 1 and "incomplete line" in result.stderr
    assert diff_snapshots(before, tree_snapshot(work / "iss")) == []
    fixed = qpki_cli("ca", "check", "--ca-dir", "iss", "--repair", "--json", cwd=work)
    assert fixed.returncode == 0 and fixed.json()["repaired"], fixed
    assert qpki_cli("cert", "issue", "--ca-dir", "iss", "--profile", "ec/tls-server",
                    "--csr", "leaf.csr", cwd=work).returncode == 0
    assert qpki_cli("audit", "verify", "--ca-dir", "iss", cwd=work).returncode == 0


def test_hsm_ca_records_the_token_key_and_never_the_pin(softhsm_token, qpki_cli, tmp_path):
    cfg = softhsm_token.write_config(tmp_path / "hsm.yaml")
    softhsm_token.keygen("EC:secp384r1", "root-ca-key", "01")
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=HSM Root", "--ca-dir", "ca",
             "--hsm-config", cfg, "--key-label", "root-ca-key", "--key-id", "01", check=True)
    qpki_cli("crl", "gen", "--ca-dir", "ca", check=True)
    records = _records(tmp_path / "ca")
    assert [r["op"] for r in records] == ["ca.init", "crl.gen"]
    assert records[1]["keys"] == [{"id": "default", "algorithm": "ecdsa-p384",
                                   "storage": "pkcs11", "label": "root-ca-key", "key_id": "01"}]
    assert softhsm_token.pin not in (tmp_path / "ca" / "audit.log").read_text()
    assert qpki_cli("audit", "verify", "--ca-dir", "ca").returncode == 0


@pytest.mark.parametrize("key, value, problem", [
    ("prev", "1" * 64, "line 1 is not the first record of a chain"),
    ("seq", 2, "line 1 is not the first record of a chain"),
    ("op", "cert.issue", "the log does not record the CA's creation")])
def test_a_first_line_resealed_out_of_chain_stops_signing(key, value, problem, pki, qpki_cli,
                                                          tree_snapshot, diff_snapshots):
    """Line 1 with another prev, seq or op and a hash recomputed to match:
    it no longer starts this CA's chain (no record of its creation is left),
    and qpki signs nothing until that is fixed."""
    work, dummy = pki

    _tamper(work / "iss" / "audit.log",
            lambda ls: [_rehash(_edit_field(ls[0], key, value))] + ls[1:])
    before = tree_snapshot(work / "iss")
    result = qpki_cli("cert", "issue", "--ca-dir", "iss", "--profile", "ec/tls-server",
                      "--csr", "leaf.csr", cwd=work)
    assert result.returncode == 1 and problem in result.stderr, result
    assert diff_snapshots(before, tree_snapshot(work / "iss")) == []


def test_a_renewed_ca_certificate_is_recorded_and_becomes_the_one_checked(tmp_path):
    """A CA made through a CSR gets a renewed certificate (same key and
    subject, new serial and validity): the ``ca.install`` record describes
    the new certificate, and from then on audit verify holds ca.crt to it
    (the first certificate back in place is reported)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from qpki.ops.audit.trail import audit_verify
    from qpki.ops.ca.commands import ca_init
    from qpki.ops.ca.state import ca_install, ca_request
    from qpki.ops.cert.commands import cert_issue

    root = str(tmp_path / "root")
    ca_init(root, "ec/root-ca", {"cn": "Root"})
    sub = tmp_path / "sub"
    csr = ca_request(str(sub), "ec/issuing-ca", {"cn": "Renewed Sub"},
                     csr_out=str(tmp_path / "sub.csr")).to_dict()["csr"].encode()
    first, renewed = (cert_issue(root, "ec/issuing-ca", csr, values={"cn": "Renewed Sub"})
                      for dummy in range(2))
    root_pem = (Path(root) / "ca.crt").read_bytes()
    first_pem = Path(first.paths[0]).read_bytes()
    ca_install(str(sub), first_pem, root_pem)
    started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    assert ca_install(str(sub), Path(renewed.paths[0]).read_bytes(), root_pem).changed
    ended = datetime.datetime.now(datetime.timezone.utc)

    cert = x509.load_pem_x509_certificate((sub / "ca.crt").read_bytes())
    assert cert.serial_number == int(renewed.serial, 16) != int(first.serial, 16)
    records = _records(sub)
    assert [r["op"] for r in records] == ["ca.init", "ca.install"]
    install = records[1]
    _sealed(install, "serial", "subject", "not_after", "fingerprint", "issuer")
    assert started <= _time(install["time"]) <= ended
    assert (int(install["serial"], 16), install["subject"], install["issuer"]) == (
        cert.serial_number, "CN=Renewed Sub", "CN=Root")
    assert _time(install["not_after"]) == cert.not_valid_after_utc
    assert install["fingerprint"] == hashlib.sha256(
        cert.public_bytes(Encoding.DER)).hexdigest().upper()
    assert records[0]["serial"] != install["serial"]
    verdict = audit_verify(str(sub))
    assert verdict.valid and verdict.records == 2, verdict.reason

    (sub / "ca.crt").write_bytes(first_pem)
    verdict = audit_verify(str(sub))
    assert not verdict.valid
    assert "ca.crt is not the certificate recorded by line 2 (ca.install)" in verdict.reason


def test_a_release_from_hold_records_the_hold_it_ends(tmp_path):
    """cert unhold records the serial, the subject as the index lists it,
    and since when the certificate was on hold (the hold's revocation
    time); audit verify accepts the log and the index together."""
    from qpki.ops.audit.trail import audit_verify
    from qpki.ops.cert.revoke import cert_revoke, cert_unhold

    serial, dummy, dummy = _make_pki(tmp_path)
    iss = tmp_path / "iss"
    other = [r for r in _records(iss) if r["op"] == "cert.issue"][-1]["serial"]
    held_at = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    cert_revoke(str(iss), other, "certificateHold", when=held_at)
    started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    cert_unhold(str(iss), other)
    ended = datetime.datetime.now(datetime.timezone.utc)

    hold, release = _records(iss)[-2:]
    assert (hold["op"], hold["reason"]) == ("cert.revoke", "certificateHold")
    _sealed(release, "serial", "subject", "held_since")
    assert release["op"] == "cert.unhold"
    assert started <= _time(release["time"]) <= ended
    assert int(release["serial"], 16) == int(other, 16) != int(serial, 16)
    assert _time(release["held_since"]) == held_at == _time(hold["revoked_at"])
    listed = [line.split("\t") for line in (iss / "index.txt").read_text().splitlines()]
    row = [fields for fields in listed if int(fields[3], 16) == int(other, 16)]
    assert [(fields[0], fields[5]) for fields in row] == [("V", release["subject"])]
    assert release["subject"] == hold["subject"]
    verdict = audit_verify(str(iss))
    assert verdict.valid, verdict.reason


@pytest.mark.parametrize("on_disk", ["both", "der", "pem", "der, damaged pem", "pem, damaged der"])
def test_a_crl_whose_record_was_removed_is_found_in_either_form(tmp_path, on_disk):
    """The record of the last CRL removed from the end of the log (the
    chain still intact): audit verify finds the CRL number on disk without
    a record, whether crl/ holds the DER, the PEM or both, one damaged."""
    from qpki.ops.audit.trail import audit_verify
    from qpki.ops.crl.commands import crl_gen

    _make_pki(tmp_path)
    iss = tmp_path / "iss"
    crl_gen(str(iss))
    assert _records(iss)[-1]["crl_number"] == 2
    assert audit_verify(str(iss)).valid
    _tamper(iss / "audit.log", lambda ls: ls[:-1])
    der, pem = iss / "crl" / "ca.crl.der", iss / "crl" / "ca.crl"
    for path in (der, pem):
        name = "der" if path is der else "pem"
        if f"damaged {name}" in on_disk:
            path.write_bytes(path.read_bytes()[:40])
        elif on_disk != "both" and name not in on_disk:
            path.unlink()
    verdict = audit_verify(str(iss))
    assert not verdict.valid and verdict.problems == ["CRL number 2 in crl/ has no record"], \
        verdict.problems
    assert verdict.reason == verdict.problems[0]  # the only problem: no "and N more"


def test_every_problem_is_listed_and_the_reason_counts_the_others(pki):
    """The last two lines removed (a certificate's issuance and the CRL's
    record): both gaps listed, the one-line reason names the first and
    how many more there are."""
    from qpki.ops.audit.trail import audit_verify

    work, dummy = pki
    iss = work / "iss"
    issued = _records(iss)[-1]["serial"]
    _tamper(iss / "audit.log", lambda ls: ls[:3])
    verdict = audit_verify(str(iss))
    assert verdict.problems == [f"serial {issued} in index.txt has no issuance record",
                                "CRL number 1 in crl/ has no record"]
    assert verdict.reason == verdict.problems[0] + " (and 1 more)"
    assert (verdict.valid, verdict.line, verdict.records) == (False, None, 3)


def test_an_index_that_cannot_be_read_is_a_problem_of_its_own(pki):
    """index.txt edited into something that does not parse: audit verify
    cannot compare the log with it and says so, naming the file and line."""
    from qpki.ops.audit.trail import audit_verify

    work, dummy = pki
    index = work / "iss" / "index.txt"
    index.write_text(index.read_text() + "not an index line\n")
    verdict = audit_verify(str(work / "iss"))
    assert not verdict.valid and len(verdict.problems) == 1, verdict.problems
    assert verdict.reason.startswith("cannot compare with the CA state: ")
    assert "index.txt" in verdict.reason and "line 3" in verdict.reason, verdict.reason
