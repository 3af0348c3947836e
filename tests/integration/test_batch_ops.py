"""Batch issuance at the ops level (what the Ansible module calls):
``ops.cert.batch.cert_issue_batch`` and ``batch_sign.issue_many``, and the store helpers the
batch relies on (``index.append_entries``, ``atomic.write_files``)."""

import pytest
from cryptography import x509

from qpki.errors import InputError, StoreError
from qpki.ops.cert import batch
from qpki.ops.cert import batch_sign
from qpki.ops.ca.check import ca_check
from qpki.store.atomic import write_files
from qpki.store.index import append_entries, entry_for_certificate, read_index

from batch_support import csr, make_issuing


@pytest.fixture
def issuing(tmp_path):
    return make_issuing(tmp_path)


def test_per_item_outputs_profiles_and_values(issuing, tmp_path):
    (tmp_path / "out").mkdir()
    items = [
        batch.CsrInput(csr("a.example.com", ["a.example.com"]), "a", out=str(tmp_path / "a.pem")),
        batch.CsrInput(csr("b.example.com"), "b", out=str(tmp_path / "out/b.crt"),
                       profile="ec/tls-client"),
        ("c.csr", csr("c.example.com", ["c.example.com"])),
    ]
    result = batch.cert_issue_batch(str(issuing), "ec/tls-server", items,
                                    out_dir=str(tmp_path / "out"))
    assert result.count == 3
    by_csr = {entry.csr: entry for entry in result.certificates}
    a = x509.load_pem_x509_certificate((tmp_path / "a.pem").read_bytes())
    b = x509.load_pem_x509_certificate((tmp_path / "out/b.crt").read_bytes())
    c = x509.load_pem_x509_certificate((tmp_path / "out/c.crt").read_bytes())
    eku = x509.ExtendedKeyUsage
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in a.extensions.get_extension_for_class(eku).value
    assert x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH in b.extensions.get_extension_for_class(eku).value
    assert by_csr["c.csr"].serial == "%X" % c.serial_number
    assert [e.serial for e in read_index(issuing / "index.txt")] == [
        a.serial_number, b.serial_number, c.serial_number]
    assert (issuing / "serial").read_text().strip() == "%040X" % c.serial_number
    assert ca_check(str(issuing)).to_dict()["valid"] is True


def test_a_variable_from_one_csr_breaking_the_profile_names_that_csr(issuing, tmp_path):
    items = [("good.csr", csr("good.example.com", ["good.example.com"])),
             ("bad.csr", csr("not a dns name!", []))]
    with pytest.raises(InputError, match="bad.csr"):
        batch.cert_issue_batch(str(issuing), "ec/tls-server", items)
    assert (issuing / "index.txt").read_text() == ""


def test_nothing_is_written_when_signing_fails_midway(issuing, monkeypatch, tree_snapshot):
    before = tree_snapshot(issuing, exclude=[".lock"])
    real, calls = batch_sign.sign_new, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise StoreError("token went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(batch_sign, "sign_new", flaky)
    items = [("%d.csr" % n, csr("h%d.example.com" % n, ["h%d.example.com" % n]))
             for n in range(5)]
    with pytest.raises(StoreError, match="token went away"):
        batch.cert_issue_batch(str(issuing), "ec/tls-server", items)
    assert tree_snapshot(issuing, exclude=[".lock"]) == before


def test_issue_many_with_an_open_authority(issuing):
    from qpki.ops.ca.authority import Authority
    from qpki.profiles.loader import load_profile
    from qpki.store.lock import ca_lock

    profile = load_profile("ec/tls-server")
    prepared = [batch_sign.prepare(profile, csr("m%d.example.com" % n,
                                                ["m%d.example.com" % n]), "m%d" % n)
                for n in range(4)]
    with Authority(str(issuing)) as authority, ca_lock(authority.dir.path):
        certs = batch_sign.issue_many(authority, prepared)
    assert len({c.serial_number for c in certs}) == 4
    for cert in certs:
        assert (issuing / "certs" / ("%040X.crt" % cert.serial_number)).is_file()
    lines = (issuing / "audit.log").read_text().splitlines()
    assert [line.count('"op":"cert.issue"') for line in lines[-4:]] == [1, 1, 1, 1]


def test_append_entries_keeps_lines_and_refuses_duplicates(issuing, tmp_path):
    index = issuing / "index.txt"
    foreign = ("V\t300506070809Z\t\t0A\tunknown\t/CN=written by openssl\n"
               "R\t300506070809Z\t250101000000Z,keyCompromise\t0B\tunknown\t/CN=r\n")
    index.write_text(foreign.rstrip("\n"))  # no final newline: one is added
    cert = x509.load_pem_x509_certificate(
        next((issuing.parent / "root" / "certs").iterdir()).read_bytes())
    entry = entry_for_certificate(cert)
    append_entries(index, [entry])
    text = index.read_text()
    assert text.startswith(foreign) and text.count("\n") == 3
    with pytest.raises(StoreError, match="already in"):
        append_entries(index, [entry])
    other = entry.__class__(**{**entry.__dict__, "serial": 0x0C})
    with pytest.raises(StoreError, match="appears twice"):
        append_entries(index, [other, other])
    assert index.read_text() == text
    index.write_text(text + "V\tbad\n")
    with pytest.raises(StoreError, match="invalid line 4"):
        append_entries(index, [other])


def test_write_files_is_all_or_nothing_before_the_renames(tmp_path):
    (tmp_path / "keep").write_bytes(b"old")
    write_files([(tmp_path / "keep", b"new"), (tmp_path / "other", b"x")])
    assert (tmp_path / "keep").read_bytes() == b"new"
    with pytest.raises(StoreError, match="missing"):
        write_files([(tmp_path / "keep", b"newer"), (tmp_path / "missing" / "f", b"y")])
    assert (tmp_path / "keep").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep", "other"]


def _temporary_files(*folders):
    return [p for folder in folders for p in folder.rglob(".*") if ".tmp-" in p.name]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_batch_leaves_its_files_and_no_temporary_one(issuing, tmp_path, jobs):
    """With workers the CA's copies are staged while signing and put in
    place after the commit: each is the output copy, none stays behind
    under a temporary name."""
    items = [("%d.csr" % n, csr("s%d.example.com" % n)) for n in range(4)]
    result = batch.cert_issue_batch(str(issuing), "ec/tls-server", items,
                                    out_dir=str(tmp_path / "out"), jobs=jobs)
    assert result.workers == jobs
    for n, entry in enumerate(result.certificates):
        copy = issuing / "certs" / ("%040X.crt" % int(entry.serial, 16))
        assert copy.read_bytes() == (tmp_path / "out" / ("%d.crt" % n)).read_bytes()
    assert _temporary_files(issuing, tmp_path / "out") == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failed_commit_leaves_the_ca_as_it_was(issuing, tmp_path, monkeypatch, tree_snapshot,
                                                 jobs):
    """The database refusing the rows (a fault that cannot be provoked on
    demand): the batch fails with that error, and neither the CA's copies
    staged by the workers nor any output are left."""
    from qpki.store.cert_db import CertDatabase

    before = tree_snapshot(issuing, exclude=[".lock"])

    def refuse(self, rows):
        raise StoreError("the database refused the rows")

    monkeypatch.setattr(CertDatabase, "insert", refuse)
    items = [("%d.csr" % n, csr("f%d.example.com" % n)) for n in range(4)]
    with pytest.raises(StoreError, match="the database refused the rows"):
        batch.cert_issue_batch(str(issuing), "ec/tls-server", items,
                               out_dir=str(tmp_path / "out"), jobs=jobs)
    assert tree_snapshot(issuing, exclude=[".lock"]) == before
    assert _temporary_files(issuing, tmp_path) == []
    assert not any((tmp_path / "out").glob("*.crt"))
