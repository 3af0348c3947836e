"""ops.describe.objects.describe_crl_entry on the entries a CRL can hold.

The CRL is made here with cryptography: entries with a reason, an
invalidity date, a certificate issuer, an extension qpki does not name,
and one whose reason is not valid DER (cryptography parses entry
extensions only when they are read).
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import CRLEntryExtensionOID, NameOID

from qpki.ops.describe.objects import describe_crl

WHEN = datetime.datetime(2026, 3, 1, 12, 30, 5, tzinfo=datetime.timezone.utc)
ISSUER = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Entries CA")])


def _entry(serial: int, *extensions: x509.ExtensionType) -> x509.RevokedCertificate:
    builder = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(WHEN)
    for value in extensions:
        builder = builder.add_extension(value, critical=False)
    return builder.build()


def _crl(*entries: x509.RevokedCertificate) -> x509.CertificateRevocationList:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ISSUER)
               .last_update(WHEN).next_update(WHEN + datetime.timedelta(days=7)))
    for entry in entries:
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(key, hashes.SHA256())


def test_each_entry_shows_its_reason_dates_issuer_and_other_extensions():
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5"), b"\x05\x00")
    crl = _crl(
        _entry(0xA1, x509.CRLReason(x509.ReasonFlags.key_compromise),
               x509.InvalidityDate(datetime.datetime(2026, 2, 27, 8, 0, 0))),
        _entry(0xB2, x509.CertificateIssuer([x509.DNSName("issuer.example")]), unknown),
        _entry(0xC3))
    entries = {entry["serial"]: entry for entry in describe_crl(crl, entries=True)["entries"]}
    assert entries["A1"] == {"serial": "A1", "revocation_date": "2026-03-01T12:30:05Z",
                             "reason": "keyCompromise",
                             "invalidity_date": "2026-02-27T08:00:00Z"}
    assert entries["B2"]["certificate_issuer"] == ["DNS:issuer.example"]
    assert entries["B2"]["extensions"] == [{"name": "1.2.3.4.5", "oid": "1.2.3.4.5",
                                            "critical": False, "value": {"der": "0500"}}]
    assert entries["C3"] == {"serial": "C3", "revocation_date": "2026-03-01T12:30:05Z"}


def test_an_entry_whose_extension_does_not_parse_is_reported_not_raised():
    broken = x509.UnrecognizedExtension(CRLEntryExtensionOID.CRL_REASON, b"\x04\x01")
    crl = _crl(_entry(0xD4, x509.InvalidityDate(datetime.datetime(2026, 2, 1)), broken))
    (entry,) = describe_crl(crl, entries=True)["entries"]
    assert entry["serial"] == "D4" and entry["revocation_date"] == "2026-03-01T12:30:05Z"
    assert entry["malformed_extensions"]
    assert "reason" not in entry and "invalidity_date" not in entry
