"""Make the vectors of made/ the way QPKI makes them (test data, never product code).

    .venv/bin/python tests/vectors/qpki-extra/make_vectors.py

Keys are fresh on every run, so the bytes change; the vendored files are one
run's output. Everything is assembled with pyasn1 and signed with
cryptography's primitives, following QPKI's construction as read from its
source (github.com/remiblancher/qpki, internal/ca/issue_composite.go,
internal/ca/crl_composite.go, internal/x509util/csr.go):

legacy composite (pre-draft-13), OIDs of draft-13:
    M   = DER(composite OID) || to-be-signed DER
    sig = SEQUENCE { BIT STRING ML-DSA(M, empty context), BIT STRING ECDSA-SHA-512(M) }
    key = SEQUENCE { BIT STRING ML-DSA public key, BIT STRING uncompressed EC point }

catalyst CSR: a CertificationRequestInfo with only the ordinary attributes is
signed with ML-DSA (empty context); the final request adds attributes
2.16.840.1.101.2.1.2.100 (alternative SubjectPublicKeyInfo), .101
(AlgorithmIdentifier) and .102 (BIT STRING of that signature), written in
that order (not DER-sorted), and is signed with the classical key.
"""

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ, useful
from pyasn1_modules import rfc2986, rfc5280

OUT = Path(__file__).resolve().parent / "made"
START = datetime.datetime(2026, 2, 14, 12, 0, tzinfo=datetime.timezone.utc)
ARC = "1.3.6.1.5.5.7.6."
ML_DSA_65 = "2.16.840.1.101.3.4.3.18"
ML_DSA_87 = "2.16.840.1.101.3.4.3.19"
QPKI_ALT_KEY, QPKI_ALT_ALG, QPKI_ALT_SIG = ("2.16.840.1.101.2.1.2.%d" % n for n in (100, 101, 102))


class LegacyComposite:
    """One of QPKI's composite pairs with fresh keys."""

    def __init__(self, arc, mldsa_class, curve):
        self.oid = ARC + str(arc)
        self.mldsa = mldsa_class.generate()
        self.ec = ec.generate_private_key(curve())

    def public_key_bits(self):
        return pair(self.mldsa.public_key().public_bytes_raw(),
                    self.ec.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))

    def sign(self, tbs):
        message = encoder.encode(univ.ObjectIdentifier(self.oid)) + tbs
        return pair(self.mldsa.sign(message), self.ec.sign(message, ec.ECDSA(hashes.SHA512())))


def pair(first, second):
    seq = univ.SequenceOf(componentType=univ.BitString())
    seq.append(univ.BitString.fromOctetString(first))
    seq.append(univ.BitString.fromOctetString(second))
    return encoder.encode(seq)


def name(cn):
    der = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qpki.pki tests"),
                     x509.NameAttribute(NameOID.COMMON_NAME, cn)]).public_bytes()
    return decoder.decode(der, asn1Spec=rfc5280.Name())[0]


def algorithm(oid):
    identifier = rfc5280.AlgorithmIdentifier()
    identifier["algorithm"] = univ.ObjectIdentifier(oid)
    return identifier


def spki(oid, bits):
    info = rfc5280.SubjectPublicKeyInfo()
    info["algorithm"] = algorithm(oid)
    info["subjectPublicKey"] = univ.BitString.fromOctetString(bits)
    return info


def time(when):
    value = rfc5280.Time()
    value["utcTime"] = useful.UTCTime(when.strftime("%y%m%d%H%M%SZ"))
    return value


def extension(value, critical=False):
    ext = rfc5280.Extension()
    ext["extnID"] = univ.ObjectIdentifier(value.oid.dotted_string)
    ext["critical"] = critical
    ext["extnValue"] = value.public_bytes()
    return ext


def signed(spec, tbs_der, oid, signature):
    outer = univ.Sequence()
    outer.setComponentByPosition(0, univ.Any(tbs_der))
    outer.setComponentByPosition(1, algorithm(oid))
    outer.setComponentByPosition(2, univ.BitString.fromOctetString(signature))
    return encoder.encode(outer)


def certificate(issuer, issuer_name, subject_name, subject_oid, subject_bits, serial, days,
                extensions):
    tbs = rfc5280.TBSCertificate()
    tbs["version"] = "v3"
    tbs["serialNumber"] = serial
    tbs["signature"] = algorithm(issuer.oid)
    tbs["issuer"] = issuer_name
    tbs["validity"]["notBefore"] = time(START)
    tbs["validity"]["notAfter"] = time(START + datetime.timedelta(days=days))
    tbs["subject"] = subject_name
    tbs["subjectPublicKeyInfo"] = spki(subject_oid, subject_bits)
    for position, ext in enumerate(extensions):
        tbs["extensions"].setComponentByPosition(position, ext)
    der = encoder.encode(tbs)
    return signed(rfc5280.Certificate, der, issuer.oid, issuer.sign(der))


def key_id(bits):
    digest = hashes.Hash(hashes.SHA1())
    digest.update(bits)
    return digest.finalize()


def crl(issuer, issuer_name, issuer_key_id, revoked_serial):
    tbs = rfc5280.TBSCertList()
    tbs["version"] = "v2"
    tbs["signature"] = algorithm(issuer.oid)
    tbs["issuer"] = issuer_name
    tbs["thisUpdate"] = time(START + datetime.timedelta(hours=2))
    tbs["nextUpdate"] = time(START + datetime.timedelta(days=7))
    entry = tbs["revokedCertificates"].getComponentByPosition(0)
    entry["userCertificate"] = revoked_serial
    entry["revocationDate"] = time(START + datetime.timedelta(hours=1))
    entry["crlEntryExtensions"].setComponentByPosition(
        0, extension(x509.CRLReason(x509.ReasonFlags.key_compromise)))
    tbs["crlExtensions"].setComponentByPosition(0, extension(x509.CRLNumber(1)))
    tbs["crlExtensions"].setComponentByPosition(
        1, extension(x509.AuthorityKeyIdentifier(issuer_key_id, None, None)))
    der = encoder.encode(tbs)
    return signed(rfc5280.CertificateList, der, issuer.oid, issuer.sign(der))


def request_info(subject_name, spki_value, attributes_der):
    """DER CertificationRequestInfo with the attributes written as given
    (in that order, as QPKI writes them)."""
    parts = [encoder.encode(univ.Integer(0)), encoder.encode(subject_name),
             encoder.encode(spki_value), tlv(0xA0, b"".join(attributes_der))]
    return tlv(0x30, b"".join(parts))


def tlv(tag, content):
    """A DER element (written here: the vectors are made without qpki's code)."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def attribute(oid, value_der):
    attr = rfc2986.Attribute()
    attr["type"] = univ.ObjectIdentifier(oid)
    attr["values"].append(univ.Any(value_der))
    return encoder.encode(attr)


def extension_request(dns_name):
    extensions = rfc5280.Extensions()
    extensions.setComponentByPosition(
        0, extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)])))
    return attribute("1.2.840.113549.1.9.14", encoder.encode(extensions))


def pem(der, label):
    import base64

    text = base64.b64encode(der).decode()
    body = "\n".join(text[i:i + 64] for i in range(0, len(text), 64))
    return ("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, body, label)).encode()


def legacy_composite_set():
    """A ML-DSA-65 + P-384 CA, a ML-DSA-65 + P-256 leaf it issued and then
    revoked, its CRL, and the leaf key's CSR (OIDs .46 and .45)."""
    folder = OUT / "composite-legacy-mldsa65"
    (folder / "certs").mkdir(parents=True, exist_ok=True)
    (folder / "crl").mkdir(exist_ok=True)
    ca = LegacyComposite(46, mldsa.MLDSA65PrivateKey, ec.SECP384R1)
    leaf = LegacyComposite(45, mldsa.MLDSA65PrivateKey, ec.SECP256R1)
    ca_name, leaf_name = name("Legacy Composite Test CA"), name("legacy.test.example")
    ca_bits, leaf_bits = ca.public_key_bits(), leaf.public_key_bits()
    ca_id = key_id(ca_bits)
    ca_cert = certificate(ca, ca_name, ca_name, ca.oid, ca_bits, 1, 3650, [
        extension(x509.BasicConstraints(True, 0), True),
        extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                  True),
        extension(x509.SubjectKeyIdentifier(ca_id))])
    leaf_cert = certificate(ca, ca_name, leaf_name, leaf.oid, leaf_bits, 2, 365, [
        extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                  True),
        extension(x509.AuthorityKeyIdentifier(ca_id, None, None)),
        extension(x509.SubjectAlternativeName([x509.DNSName("legacy.test.example")]))])
    (folder / "ca.crt").write_bytes(pem(ca_cert, "CERTIFICATE"))
    (folder / "certs" / "02.crt").write_bytes(pem(leaf_cert, "CERTIFICATE"))
    crl_der = crl(ca, ca_name, ca_id, 2)
    (folder / "crl" / "ca.crl").write_bytes(pem(crl_der, "X509 CRL"))
    (folder / "crl" / "ca.crl.der").write_bytes(crl_der)
    info = request_info(leaf_name, spki(leaf.oid, leaf_bits),
                        [extension_request("legacy.test.example")])
    (folder / "leaf.csr").write_bytes(pem(signed(rfc2986.CertificationRequest, info, leaf.oid,
                                                 leaf.sign(info)), "CERTIFICATE REQUEST"))


def catalyst_csr():
    """P-384 classical key + ML-DSA-87 alternative key, no SAN."""
    classical = ec.generate_private_key(ec.SECP384R1())
    alternative = mldsa.MLDSA87PrivateKey.generate()
    subject = name("QPKI-style catalyst request")
    classical_spki = decoder.decode(classical.public_key().public_bytes(
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo), asn1Spec=rfc5280.SubjectPublicKeyInfo())[0]
    plain = request_info(subject, classical_spki, [])
    alt_signature = alternative.sign(plain)
    attributes = [
        attribute(QPKI_ALT_KEY, encoder.encode(spki(ML_DSA_87,
                                                    alternative.public_key().public_bytes_raw()))),
        attribute(QPKI_ALT_ALG, encoder.encode(algorithm(ML_DSA_87))),
        attribute(QPKI_ALT_SIG, encoder.encode(univ.BitString.fromOctetString(alt_signature))),
    ]
    info = request_info(subject, classical_spki, attributes)
    signature = classical.sign(info, ec.ECDSA(hashes.SHA384()))
    der = signed(rfc2986.CertificationRequest, info, "1.2.840.10045.4.3.3", signature)
    (OUT / "csr").mkdir(parents=True, exist_ok=True)
    (OUT / "csr" / "catalyst-p384-mldsa87.csr").write_bytes(pem(der, "CERTIFICATE REQUEST"))


if __name__ == "__main__":
    legacy_composite_set()
    catalyst_csr()
