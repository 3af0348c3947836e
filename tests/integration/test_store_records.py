"""What the CA database records and hands back to the CRL and listing code:
CRL numbers, revoked entries (times, reason, invalidity date, expiry) and
certificate rows, compared with the certificates and CRLs themselves as
cryptography reads them (survivors of the index mutation group,
docs/DEVELOPMENT.md)."""

from __future__ import annotations

import datetime
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qpki.ops.ca.commands import ca_init
from qpki.ops.cert.commands import cert_issue
from qpki.ops.crl.commands import crl_gen
from qpki.ops.cert.revoke import cert_revoke
from qpki.revocation import RevocationReason
from qpki.store.ca_dir import CaDir
from qpki.store.cert_store import read_store, write_store

UTC = datetime.timezone.utc


def make_csr(cn: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def new_ca(tmp_path) -> CaDir:
    ca_init(str(tmp_path / "ca"), "ec/issuing-ca", {"cn": "Store Records CA"})
    return CaDir(str(tmp_path / "ca"))


def issue(ca: CaDir, cn: str) -> x509.Certificate:
    result = cert_issue(str(ca.path), "ec/tls-server", make_csr(cn), values={"cn": cn, "dns_names": cn})
    return x509.load_pem_x509_certificate(ca.cert_path(int(result.serial, 16)).read_bytes())


def crl_number(path) -> int:
    crl = x509.load_der_x509_crl(path.read_bytes())
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_crl_numbers_count_up_in_hex_past_sixteen(tmp_path):
    ca = new_ca(tmp_path)
    with read_store(ca) as store:
        assert store.crl_number() is None
    with write_store(ca) as store:
        taken = [store.take_crl_number() for dummy in range(20)]
        assert store.crl_number() == 20
    assert taken == list(range(1, 21))
    assert ca.crlnumber.read_text().strip() == "15"  # the next one, 21, in hex
    crl_gen(str(ca.path))
    assert crl_number(ca.crl_path(der=True)) == 21
    with read_store(ca) as store:
        assert store.crl_number() == 21


def test_the_first_crl_number_is_one(tmp_path):
    ca = new_ca(tmp_path)
    crl_gen(str(ca.path))
    assert crl_number(ca.crl_path(der=True)) == 1
    with read_store(ca) as store:
        assert store.crl_number() == 1


def test_revoked_entries_carry_what_the_crl_lists(tmp_path):
    ca = new_ca(tmp_path)
    cert = issue(ca, "revoked.example.com")
    issue(ca, "valid.example.com")
    when = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    compromised = datetime.datetime(2026, 2, 1, 0, 0, 0, tzinfo=UTC)
    cert_revoke(str(ca.path), cert.serial_number, "keyCompromise", when=when,
                invalidity_date=compromised)
    with read_store(ca) as store:
        naive, = store.revoked_entries(naive=True, with_expiry=True)
        aware, = store.revoked_entries()
    assert naive == (cert.serial_number, when.replace(tzinfo=None), RevocationReason.key_compromise,
                     compromised.replace(tzinfo=None), cert.not_valid_after_utc.replace(tzinfo=None))
    assert aware == (cert.serial_number, when, RevocationReason.key_compromise, compromised, None)
    crl_gen(str(ca.path))
    entry, = x509.load_der_x509_crl(ca.crl_path(der=True).read_bytes())
    assert (entry.serial_number, entry.revocation_date_utc) == (cert.serial_number, when)
    assert entry.extensions.get_extension_for_class(x509.InvalidityDate).value.invalidity_date_utc \
        == compromised
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason \
        == x509.ReasonFlags.key_compromise


def test_a_row_holds_the_certificate_and_its_index_line(tmp_path):
    ca = new_ca(tmp_path)
    certs = [issue(ca, f"row{n}.example.com") for n in range(3)]
    index = ca.index.read_bytes()
    with read_store(ca) as store:
        for number, cert in enumerate(certs):
            row = store.row(cert.serial_number)
            der = cert.public_bytes(serialization.Encoding.DER)
            assert row.not_before == cert.not_valid_before_utc
            assert row.entry.expires == cert.not_valid_after_utc
            assert row.der == der and row.fingerprint == hashlib.sha256(der).hexdigest().upper()
            assert row.profile == "ec/tls-server"
            assert row.sans == (f"DNS:row{number}.example.com",)
            assert (row.entry.status, row.entry.subject) == ("V", f"/CN=row{number}.example.com")
            line = index[row.index_offset:row.index_offset + row.index_width]
            assert line.endswith(b"\n") and f"{cert.serial_number:X}".encode() in line.upper()
        assert len(list(store.rows(limit=2))) == 2
        assert [row.serial for row in store.rows()] == [cert.serial_number for cert in certs]


def test_a_revocation_longer_than_its_line_rewrites_the_index(tmp_path):
    """An index.txt written without room for a revocation (as openssl and
    older versions write it) and no database: the database is made from it,
    and a revocation whose line no longer fits rewrites the file instead of
    running over the next line."""
    ca = new_ca(tmp_path)
    first, second = issue(ca, "first.example.com"), issue(ca, "second.example.com")
    tight = ["\t".join(field.rstrip(" ") for field in line.split("\t"))
             for line in ca.index.read_text().splitlines()]
    ca.index.write_text("\n".join(tight) + "\n")
    (ca.path / "ca.db").unlink()
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    cert_revoke(str(ca.path), "%X" % first.serial_number, "keyCompromise",
                invalidity_date=when)
    lines = [line.split("\t") for line in ca.index.read_text().splitlines()]
    assert [len(fields) for fields in lines] == [6, 6]
    assert [(fields[0], int(fields[3], 16), fields[5].rstrip(" ")) for fields in lines] == [
        ("R", first.serial_number, "/CN=first.example.com"),
        ("V", second.serial_number, "/CN=second.example.com")]
    # OpenSSL's form of keyCompromise with a compromise time.
    assert lines[0][2].split(",")[1:] == ["keyTime", "20260102030405Z"]
