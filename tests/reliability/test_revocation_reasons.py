"""Revocation reasons (issue 13, item 1): one type from the command line to
the CRL. Every RFC 5280 reason, in the spellings people type, goes through
``qpki cert revoke`` -> index.txt (as ``openssl ca`` spells it) -> ``qpki
crl gen`` -> ``openssl crl -text``; index lines written by the real
``openssl ca`` are read the same way; ``ca check`` names a reason nobody can
map. ``grep`` finds one definition of the reason list."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from cryptography import x509

from revocation_support import OPENSSL_LABELS, crl_text, issue, make_ca, openssl, reason_label


ROOT = Path(__file__).resolve().parents[2]

# (what the operator types, how index.txt must spell it, RFC 5280 name)
SPELLINGS = [
    ("unspecified", "unspecified", "unspecified"),
    ("keyCompromise", "keyCompromise", "keyCompromise"),
    ("cACompromise", "CACompromise", "cACompromise"),
    ("CACompromise", "CACompromise", "cACompromise"),
    ("affiliation_changed", "affiliationChanged", "affiliationChanged"),
    ("SUPERSEDED", "superseded", "superseded"),
    ("cessationOfOperation", "cessationOfOperation", "cessationOfOperation"),
    ("certificateHold", "certificateHold", "certificateHold"),
    ("privilegeWithdrawn", "privilegeWithdrawn", "privilegeWithdrawn"),
    ("aACompromise", "AACompromise", "aACompromise"),
    ("aa-compromise", "AACompromise", "aACompromise"),
]


@pytest.fixture
def ca(tmp_path):
    return make_ca(tmp_path / "ca")


def _index_column(ca: Path, serial: str) -> str:
    for line in (ca / "index.txt").read_text().splitlines():
        fields = line.split("\t")
        if int(fields[3], 16) == int(serial, 16):
            return fields[2]
    raise AssertionError(f"serial {serial} not in index.txt")


def test_every_reason_round_trips_to_openssl(ca, qpki_cli):
    serials = issue(ca, len(SPELLINGS))
    for serial, (typed, indexed, dummy) in zip(serials, SPELLINGS, strict=False):
        qpki_cli("cert", "revoke", serial, "--ca-dir", ca, "--reason", typed, check=True)
        assert _index_column(ca, serial).split(",")[1:] == [indexed], typed
    qpki_cli("crl", "gen", "--ca-dir", ca, check=True)
    head, entries = crl_text(ca / "crl" / "ca.crl")
    crl = x509.load_der_x509_crl((ca / "crl" / "ca.crl.der").read_bytes())
    for serial, (typed, dummy, rfc_name) in zip(serials, SPELLINGS, strict=False):
        text = entries[int(serial, 16)]
        parsed = crl.get_revoked_certificate_by_serial_number(int(serial, 16))
        if rfc_name == "unspecified":  # RFC 5280 §5.3.1: absent rather than unspecified
            assert reason_label(text) is None and not parsed.extensions, text
        else:
            assert reason_label(text) == OPENSSL_LABELS[rfc_name], (typed, text)
            assert parsed.extensions.get_extension_for_class(
                x509.CRLReason).value.reason.value == rfc_name
    checked = openssl("crl", "-in", ca / "crl" / "ca.crl", "-noout", "-CAfile", ca / "ca.crt")
    assert "verify OK" in checked.stdout + checked.stderr


def _openssl_config(ca: Path, key: Path | None = None) -> Path:
    """An ``openssl ca`` configuration working on the CA directory ``ca``
    (qpki's own by default: its index, certificate and key file)."""
    key = key or next((ca / "private").glob("ca.*.key"))
    config = ca.parent / f"{ca.name}-openssl.cnf"
    config.write_text(f"""
[ ca ]
default_ca = qpki
[ qpki ]
database = {ca}/index.txt
new_certs_dir = {ca}/certs
certificate = {ca}/ca.crt
private_key = {key}
serial = {ca.parent}/{ca.name}-serial
crlnumber = {ca.parent}/{ca.name}-crlnumber
default_md = sha256
default_days = 30
default_crl_days = 1
policy = loose
unique_subject = no
[ loose ]
commonName = supplied
""")
    (ca.parent / f"{ca.name}-serial").write_text("1000\n")
    (ca.parent / f"{ca.name}-crlnumber").write_text("01\n")
    return config


# The revocations ``openssl ca`` can make, and what the CRL entry must say.
OPENSSL_REVOCATIONS = [
    (["-crl_reason", "unspecified"], None, None),
    (["-crl_reason", "keyCompromise"], "Key Compromise", None),
    (["-crl_reason", "CACompromise"], "CA Compromise", None),
    (["-crl_reason", "affiliationChanged"], "Affiliation Changed", None),
    (["-crl_reason", "superseded"], "Superseded", None),
    (["-crl_reason", "cessationOfOperation"], "Cessation Of Operation", None),
    (["-crl_reason", "certificateHold"], "Certificate Hold", None),
    (["-crl_hold", "holdInstructionCallIssuer"], "Certificate Hold", None),
    (["-crl_compromise", "20260101120000Z"], "Key Compromise", "Jan  1 12:00:00 2026 GMT"),
    (["-crl_CA_compromise", "20260102130000Z"], "CA Compromise", "Jan  2 13:00:00 2026 GMT"),
    ([], None, None),
]


def test_index_lines_written_by_openssl_ca(ca, qpki_cli):
    """``openssl ca -revoke`` on qpki's CA directory; qpki then builds the
    CRL from those lines, and ``ca check --repair`` records the revocations
    it did not make."""
    config = _openssl_config(ca)
    serials = issue(ca, len(OPENSSL_REVOCATIONS) + 1)
    for serial, (args, dummy, dummy) in zip(serials, OPENSSL_REVOCATIONS, strict=False):
        proc = openssl("ca", "-config", config, "-revoke", ca / "certs" / f"{serial}.crt", *args)
        assert proc.returncode == 0, proc.stderr
    qpki_cli("crl", "gen", "--ca-dir", ca, check=True)
    dummy, entries = crl_text(ca / "crl" / "ca.crl.der")
    for serial, (args, label, invalid) in zip(serials, OPENSSL_REVOCATIONS, strict=False):
        text = entries[int(serial, 16)]
        assert reason_label(text) == label, (args, text)
        if invalid:
            assert f"Invalidity Date: \n                {invalid}" in text, (args, text)
        else:
            assert "Invalidity Date" not in text, (args, text)
    assert int(serials[-1], 16) not in entries  # never revoked
    # The revocations openssl made have no audit record: ca check says so,
    # --repair records them, after which both checks are clean.
    seen = qpki_cli("ca", "check", "--ca-dir", ca, "--json").json()
    assert not seen["valid"]
    assert sum("has no record" in p for p in seen["problems"]) == len(OPENSSL_REVOCATIONS)
    assert qpki_cli("ca", "check", "--ca-dir", ca, "--repair").returncode == 0
    assert qpki_cli("ca", "check", "--ca-dir", ca).returncode == 0
    assert qpki_cli("audit", "verify", "--ca-dir", ca).returncode == 0


def test_an_openssl_ca_index_reads_as_openssl_reads_it(tmp_path):
    """A CA made and run by ``openssl ca`` alone: every revocation it writes
    in its index reads in qpki as the entry ``openssl ca -gencrl`` makes of
    it (reason, revocation date, invalidity date)."""
    from qpki.store.index import read_revoked

    ca = tmp_path / "openssl-ca"
    (ca / "certs").mkdir(parents=True)
    (ca / "index.txt").write_text("")
    assert openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                   "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=OpenSSL CA",
                   "-days", "30", cwd=ca).returncode == 0
    config = _openssl_config(ca, ca / "ca.key")
    for number, (args, dummy, dummy) in enumerate(OPENSSL_REVOCATIONS):
        assert openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                       "-keyout", f"{number}.key", "-out", f"{number}.csr", "-subj",
                       f"/CN=c{number}", cwd=ca).returncode == 0
        assert openssl("ca", "-batch", "-config", config, "-in", f"{number}.csr", "-out",
                       f"{number}.crt", cwd=ca).returncode == 0
        assert openssl("ca", "-config", config, "-revoke", f"{number}.crt", *args,
                       cwd=ca).returncode == 0
    assert openssl("ca", "-config", config, "-gencrl", "-out", "ca.crl", cwd=ca).returncode == 0
    theirs = {entry.serial_number: entry
              for entry in x509.load_pem_x509_crl((ca / "ca.crl").read_bytes())}
    ours = read_revoked(ca / "index.txt")
    assert sorted(entry.serial for entry in ours) == sorted(theirs)
    for entry in ours:
        other = theirs[entry.serial]
        assert entry.revoked_at == other.revocation_date_utc
        extensions = {ext.oid: ext.value for ext in other.extensions}
        reason = extensions.get(x509.CRLReason.oid)
        assert (entry.reason.value if entry.reason else None) == (
            reason.reason.value if reason else None)
        invalid = extensions.get(x509.InvalidityDate.oid)
        assert entry.invalidity_date == (invalid.invalidity_date_utc if invalid else None)


def test_remove_from_crl_written_by_openssl_is_named_and_released(ca, qpki_cli):
    """``openssl ca -crl_reason removeFromCRL`` writes what a full CRL cannot
    carry: ca check and crl gen name the line, cert unhold releases it."""
    config = _openssl_config(ca)
    serial = issue(ca, 1)[0]
    proc = openssl("ca", "-config", config, "-revoke", ca / "certs" / f"{serial}.crt",
                   "-crl_reason", "removeFromCRL")
    assert proc.returncode == 0, proc.stderr
    check = qpki_cli("ca", "check", "--ca-dir", ca, "--json").json()
    assert any("removeFromCRL" in p and serial.lstrip("0") in p for p in check["problems"])
    gen = qpki_cli("crl", "gen", "--ca-dir", ca)
    assert gen.returncode == 1 and "removeFromCRL" in gen.stderr
    assert gen.stderr.count("\n") == 1 and not (ca / "crl" / "ca.crl").exists()
    qpki_cli("cert", "unhold", serial, "--ca-dir", ca, check=True)
    qpki_cli("crl", "gen", "--ca-dir", ca, check=True)
    assert int(serial, 16) not in crl_text(ca / "crl" / "ca.crl")[1]


def test_ca_check_names_a_reason_it_cannot_map(ca, qpki_cli, tree_snapshot, diff_snapshots):
    serial = issue(ca, 1)[0]
    qpki_cli("cert", "revoke", serial, "--ca-dir", ca, "--reason", "superseded", check=True)
    index = ca / "index.txt"
    index.write_text(index.read_text().replace(",superseded", ",outOfBudget"))
    check = qpki_cli("ca", "check", "--ca-dir", ca, "--json")
    assert check.returncode == 1
    assert "line 1" in check.json()["reason"] and "'outOfBudget'" in check.json()["reason"]
    before = tree_snapshot(ca)
    gen = qpki_cli("crl", "gen", "--ca-dir", ca)
    assert gen.returncode == 1 and gen.stderr.count("\n") == 1
    assert "line 1" in gen.stderr and "outOfBudget" in gen.stderr
    assert diff_snapshots(before, tree_snapshot(ca)) == []


def test_unknown_reason_is_refused_in_one_line(ca, qpki_cli, tree_snapshot, diff_snapshots):
    serial = issue(ca, 1)[0]
    before = tree_snapshot(ca)
    result = qpki_cli("cert", "revoke", serial, "--ca-dir", ca, "--reason", "bored")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "unknown revocation reason 'bored'" in result.stderr
    assert diff_snapshots(before, tree_snapshot(ca)) == []


def _reason_literals(path: Path) -> list[int]:
    """Line numbers of list, tuple, set or dict displays in ``path`` naming
    three or more RFC 5280 reasons."""
    from qpki.revocation import REASON_NAMES

    names = {name.lower() for name in REASON_NAMES}
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            items = node.keys if isinstance(node, ast.Dict) else node.elts
            words = {item.value.lower() for item in items
                     if isinstance(item, ast.Constant) and isinstance(item.value, str)}
            if len(words & names) >= 3:
                found.append(node.lineno)
    return found


def test_one_definition_of_the_reason_list():
    """The reasons are an enum in qpki/revocation.py; no other list of them
    exists in the collection (core, modules, plugins)."""
    definitions = {}
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        lines = _reason_literals(path)
        if lines:
            definitions[str(path.relative_to(ROOT))] = lines
    assert definitions == {}, definitions
    from qpki.revocation import RevocationReason

    assert [reason.code for reason in RevocationReason] == [0, 1, 2, 3, 4, 5, 6, 8, 9, 10]
