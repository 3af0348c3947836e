"""QPKI's vectors in the repository and small pyasn1 helpers to take them apart.

tests/vectors/qpki is a copy of QPKI's cross-validation fixtures (see its
README); tests/vectors/qpki-extra adds QPKI's own crossval
files and ones made the way QPKI makes them (see its README). Nothing here
imports qpki.
"""

import base64
import datetime
from pathlib import Path

from pyasn1.codec.der import decoder, encoder
from pyasn1.type import namedtype, univ
from pyasn1_modules import rfc2986, rfc5280

VECTORS = Path(__file__).resolve().parent / "vectors"
QPKI = VECTORS / "qpki"
EXTRA = VECTORS / "qpki-extra"
CROSSVAL = EXTRA / "crossval"
MADE = EXTRA / "made"
# Inside every window of these vectors (CRLs: 2026-02-14 .. 2026-02-21).
AT = datetime.datetime(2026, 2, 16, 12, 0, tzinfo=datetime.timezone.utc)
QPKI_CATALYST_OIDS = ["2.16.840.1.101.2.1.2.100", "2.16.840.1.101.2.1.2.101",
                      "2.16.840.1.101.2.1.2.102"]


def der_of(path):
    """The DER (or, for QPKI's catalyst CSRs, BER) bytes of a PEM or DER file."""
    data = Path(path).read_bytes()
    if b"-----BEGIN" not in data:
        return data
    return base64.b64decode(b"".join(line for line in data.splitlines()
                                     if not line.startswith(b"-----")))


class Signed(univ.Sequence):
    """Certificate, CertificateList or CertificationRequest with its signed
    body kept as the raw bytes that were signed."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("tbs", univ.Any()),
        namedtype.NamedType("signatureAlgorithm", rfc5280.AlgorithmIdentifier()),
        namedtype.NamedType("signature", univ.BitString()))


def _signed(der):
    signed, rest = decoder.decode(der, asn1Spec=Signed())
    assert not rest
    return signed


def signed_parts(der):
    """(raw TBS bytes as signed, signature OID, signature octets)."""
    signed = _signed(der)
    return (bytes(signed["tbs"]), str(signed["signatureAlgorithm"]["algorithm"]),
            signed["signature"].asOctets())


def with_signature(der, signature):
    """``der`` (certificate, CRL or request) with another signature value."""
    signed = _signed(der)
    signed["signature"] = univ.BitString.fromOctetString(signature)
    return encoder.encode(signed)


def spki_of(der):
    """(OID, BIT STRING octets) of the key of a DER certificate or request."""
    tbs = bytes(_signed(der)["tbs"])
    for spec, field in ((rfc5280.TBSCertificate(), "subjectPublicKeyInfo"),
                        (rfc2986.CertificationRequestInfo(), "subjectPKInfo")):
        try:
            body, rest = decoder.decode(tbs, asn1Spec=spec)
        except Exception:  # noqa: BLE001 - pyasn1 error: the other kind
            continue
        if not rest:
            spki = body[field]
            return str(spki["algorithm"]["algorithm"]), spki["subjectPublicKey"].asOctets()
    raise AssertionError("neither a certificate nor a request")


def csr_attribute_values(der):
    """{attribute OID: its single value's DER} of a request."""
    request, dummy = decoder.decode(der, asn1Spec=rfc2986.CertificationRequest())
    return {str(a["type"]): bytes(a["values"][0])
            for a in request["certificationRequestInfo"]["attributes"]}


def qpki_alt_public_key(der):
    """The raw alternative public key in QPKI's 2.16.840.1.101.2.1.2.100 attribute."""
    value = csr_attribute_values(der)[QPKI_CATALYST_OIDS[0]]
    spki, dummy = decoder.decode(value, asn1Spec=rfc5280.SubjectPublicKeyInfo())
    return spki["subjectPublicKey"].asOctets()


def legacy_pair(first, second):
    """SEQUENCE { BIT STRING first, BIT STRING second } (the legacy composite wrapper)."""
    seq = univ.SequenceOf(componentType=univ.BitString())
    seq.append(univ.BitString.fromOctetString(first))
    seq.append(univ.BitString.fromOctetString(second))
    return encoder.encode(seq)
