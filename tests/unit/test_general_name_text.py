"""One text per GeneralName, whatever shows it.

A certificate whose subjectAltName and nameConstraints hold one name of
every kind: `cert info`'s fields (ops.cert.details), the extension
description (ops.describe) and what the CA database records of an issued
certificate (ops.cert.issued.Issued) must give the same texts, with the
prefixes of OpenSSL's configuration syntax.
"""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qpki.ops.cert.details import certificate_details
from qpki.ops.cert.issued import Issued
from qpki.ops.describe.objects import describe_certificate

UPN = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
NAMES = [
    x509.DNSName("www.example.com"),
    x509.IPAddress(ipaddress.ip_address("192.0.2.7")),
    x509.RFC822Name("ops@example.com"),
    x509.UniformResourceIdentifier("https://example.com/a"),
    x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
                                  x509.NameAttribute(NameOID.COMMON_NAME, "Dir")])),
    x509.RegisteredID(x509.ObjectIdentifier("1.2.3.4")),
    x509.OtherName(UPN, b"\x0c\x05hello"),  # UTF8String "hello"
]
TEXTS = [
    "DNS:www.example.com",
    "IP:192.0.2.7",
    "email:ops@example.com",
    "URI:https://example.com/a",
    "dirName:CN=Dir,O=Example",
    "RID:1.2.3.4",
    "otherName:1.3.6.1.4.1.311.20.2.3:0c0568656c6c6f",
]


def _certificate() -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "names")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(NAMES), critical=False)
            .add_extension(x509.NameConstraints(permitted_subtrees=NAMES[:1],
                                                excluded_subtrees=NAMES[4:5]), critical=True)
            .sign(key, hashes.SHA256()))


def test_every_output_gives_a_name_the_same_text(tmp_path):
    cert = _certificate()
    fields = certificate_details(cert.public_bytes(serialization.Encoding.PEM), "names").extension_fields
    assert fields.subject_alt_name == TEXTS
    assert fields.name_constraints == {
        "permitted": TEXTS[:1], "excluded": TEXTS[4:5], "critical": True}

    described = {ext["name"]: ext["value"] for ext in describe_certificate(cert)["extensions"]}
    assert described["subjectAltName"] == TEXTS
    assert described["nameConstraints"] == {"permitted": TEXTS[:1], "excluded": TEXTS[4:5]}

    assert list(Issued(cert, tmp_path).sans) == TEXTS
    assert list(Issued(cert, tmp_path, sans=NAMES).sans) == TEXTS
