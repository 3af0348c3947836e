"""index.txt compatibility with the real ``openssl ca`` (both directions)."""

import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID, ObjectIdentifier

from qpki.revocation import RevocationReason
from qpki.store.dn_oneline import SHORT_NAMES, oneline
from qpki.store.index import (
    append_entry,
    entry_for_certificate,
    read_index,
    serial_hex,
    write_index,
)
from qpki.store.index_update import mark_revoked
from qpki.store.serials import new_serial, next_crl_number


UTC = timezone.utc

CONFIG = """
[ ca ]
default_ca = qpki_test
[ qpki_test ]
database = ./index.txt
new_certs_dir = ./newcerts
certificate = ./ca.crt
private_key = ./ca.key
serial = ./serial
crlnumber = ./crlnumber
default_md = sha256
default_days = 30
default_crl_days = 1
policy = loose
unique_subject = no
preserve = yes
[ loose ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
"""


def openssl(cwd, *args, check=True):
    proc = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed:\n{proc.stderr}")
    return proc


@pytest.fixture
def ca(tmp_path):
    (tmp_path / "ca.cnf").write_text(CONFIG)
    (tmp_path / "newcerts").mkdir()
    (tmp_path / "index.txt").write_text("")
    (tmp_path / "serial").write_text("1000\n")
    openssl(
        tmp_path,
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=Index Test CA",
        "-days",
        "30",
    )
    return tmp_path


def load_cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def attr(oid, value, kind=None):
    oid = oid if isinstance(oid, ObjectIdentifier) else ObjectIdentifier(oid)
    if kind is None:
        return x509.NameAttribute(oid, value)
    return x509.NameAttribute(oid, value, _type=kind)


def odd_name():
    """Every attribute type we name, plus the awkward cases."""
    rdns = [
        x509.RelativeDistinguishedName([attr(oid, "FR")])
        for oid in SHORT_NAMES
        if oid != "2.5.4.6"
    ]
    rdns += [
        x509.RelativeDistinguishedName([attr(NameOID.COUNTRY_NAME, "FR")]),
        x509.RelativeDistinguishedName(
            [
                attr(NameOID.ORGANIZATION_NAME, "a+b/c\\d"),
                attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "ou"),
            ]
        ),
        x509.RelativeDistinguishedName(
            [attr(NameOID.COMMON_NAME, "tab\there\nnl\x7f é")]
        ),
        x509.RelativeDistinguishedName(
            [attr(NameOID.LOCALITY_NAME, "bmp é", _ASN1Type.BMPString)]
        ),
        x509.RelativeDistinguishedName(
            [attr(NameOID.STATE_OR_PROVINCE_NAME, "p", _ASN1Type.PrintableString)]
        ),
        x509.RelativeDistinguishedName([attr("1.2.3.4.5", "unknown type")]),
    ]
    return x509.Name(rdns)


def make_cert(ca_dir, subject, serial, not_after):
    ca_key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), None)
    ca_cert = load_cert(ca_dir / "ca.crt")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(min(now, not_after) - timedelta(days=1))
        .not_valid_after(not_after)
        .sign(ca_key, hashes.SHA256())
    )
    return cert


def write_pem(path, cert):
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_we_read_and_rewrite_what_openssl_writes(ca):
    issued = []
    for number, cn in enumerate(["alpha", "beta", "gamma"]):
        openssl(
            ca,
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            f"{cn}.key",
            "-out",
            f"{cn}.csr",
            "-subj",
            f"/C=FR/O=Ex\\/ample/CN={cn}",
        )
        openssl(
            ca,
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-notext",
            "-in",
            f"{cn}.csr",
            "-out",
            f"{cn}.crt",
            *(["-enddate", "20600101000000Z"] if number == 2 else []),
        )
        issued.append(load_cert(ca / f"{cn}.crt"))
    odd = make_cert(ca, odd_name(), 0x8F00, datetime.now(UTC) + timedelta(days=3))
    write_pem(ca / "odd.crt", odd)
    openssl(
        ca,
        "ca",
        "-config",
        "ca.cnf",
        "-revoke",
        "beta.crt",
        "-crl_reason",
        "superseded",
    )
    openssl(
        ca,
        "ca",
        "-config",
        "ca.cnf",
        "-revoke",
        "gamma.crt",
        "-crl_compromise",
        "20260101000000Z",
    )
    openssl(
        ca, "ca", "-config", "ca.cnf", "-revoke", "odd.crt"
    )  # unknown cert: added, revoked

    entries = read_index(ca / "index.txt")
    assert [e.status for e in entries] == ["V", "R", "R", "R"]
    for parsed, cert in zip(entries, issued + [odd], strict=False):
        expected = entry_for_certificate(cert)
        assert (parsed.serial, parsed.expires, parsed.subject) == (
            expected.serial,
            expected.expires,
            expected.subject,
        )
    assert entries[1].reason is RevocationReason.superseded
    assert entries[2].reason is RevocationReason.key_compromise
    assert entries[2].invalidity_date == datetime(2026, 1, 1, tzinfo=UTC)
    assert entries[2].expires.year == 2060
    assert entries[3].reason is None and entries[3].revoked_at is not None
    assert (
        "\\xC3\\xA9" in entries[3].subject
        and "/OU=ou+O=a\\+b\\/c\\d" in entries[3].subject
    )

    original = (ca / "index.txt").read_bytes()
    copy = ca / "copy.txt"
    write_index(copy, entries)
    assert copy.read_bytes() == original


def test_openssl_reads_what_we_write(ca):
    index = ca / "index.txt"
    (ca / "index.txt.attr").unlink(missing_ok=True)
    now = datetime.now(UTC)
    used = set()
    certs = {}
    for name, not_after in [
        ("valid", now + timedelta(days=10)),
        ("revoked", now + timedelta(days=10)),
        ("plain-revoked", now + timedelta(days=10)),
        ("expired", now - timedelta(days=1)),
        ("far", datetime(2060, 6, 1, tzinfo=UTC)),
    ]:
        serial = new_serial(used)
        used.add(serial)
        subject = x509.Name(
            [
                attr(NameOID.ORGANIZATION_NAME, "Ex/am+ple"),
                attr(NameOID.COMMON_NAME, name),
            ]
        )
        certs[name] = make_cert(ca, subject, serial, not_after)
        append_entry(index, entry_for_certificate(certs[name]))
    when = now.replace(microsecond=0) - timedelta(hours=1)
    mark_revoked(index, certs["revoked"].serial_number, when, "keyCompromise")
    mark_revoked(index, certs["plain-revoked"].serial_number, when, None)
    assert (ca / "index.txt.attr").read_text() == "unique_subject = no\n"

    def status(name):
        proc = openssl(
            ca,
            "ca",
            "-config",
            "ca.cnf",
            "-status",
            serial_hex(certs[name].serial_number),
            check=False,
        )
        return proc.stderr

    assert "=Valid (V)" in status("valid")
    assert "=Valid (V)" in status("far")
    assert "=Revoked (R)" in status("revoked")

    ours = index.read_bytes()
    openssl(ca, "ca", "-config", "ca.cnf", "-updatedb")
    after = {e.serial: e for e in read_index(index)}
    assert after[certs["expired"].serial_number].status == "E"
    assert after[certs["valid"].serial_number].status == "V"
    # openssl rewrote the file: apart from the V -> E change it is byte for byte ours.
    expired_hex = serial_hex(certs["expired"].serial_number)
    assert index.read_bytes() == b"".join(
        (
            line.replace(b"V\t", b"E\t", 1)
            if b"\t" + expired_hex.encode() + b"\t" in line
            else line
        )
        for line in ours.splitlines(keepends=True)
    )

    assert next_crl_number(ca) == 1
    assert next_crl_number(ca) == 2
    openssl(ca, "ca", "-config", "ca.cnf", "-gencrl", "-out", "ca.crl")
    crl = x509.load_pem_x509_crl((ca / "ca.crl").read_bytes())
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 3
    revoked = {r.serial_number: r for r in crl}
    assert set(revoked) == {
        certs["revoked"].serial_number,
        certs["plain-revoked"].serial_number,
    }
    entry = revoked[certs["revoked"].serial_number]
    assert entry.revocation_date_utc == when
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.key_compromise
    assert not revoked[certs["plain-revoked"].serial_number].extensions


def test_oneline_matches_openssl_for_every_known_attribute(ca):
    """openssl's own one-line rendering of the odd name equals ours."""
    cert = make_cert(ca, odd_name(), 0x42, datetime.now(UTC) + timedelta(days=2))
    write_pem(ca / "odd.crt", cert)
    openssl(ca, "ca", "-config", "ca.cnf", "-revoke", "odd.crt")
    line = (ca / "index.txt").read_text().splitlines()[0]
    assert line.split("\t", 5)[5] == oneline(cert.subject)
