"""Certificates cryptography cannot sign, assembled here with pyasn1.

SLH-DSA (FIPS 205) and composite ML-DSA certificates are built by hand: a
TBSCertificate with the algorithm's SPKI and signature AlgorithmIdentifier
(parameters absent), signed by pqcrypto (SLH-DSA) or our composite key.
Our verifier must accept them, including as issuers in a chain (their keys
come from the SPKI, not from cryptography), and the pure-Python ``slhdsa``
package, which we did not write, must agree on every SLH-DSA verdict.
"""

import datetime
import importlib

import pytest
import slhdsa
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ, useful
from pyasn1_modules import rfc5280

from qpki.algorithms.slhdsa import SlhDsaPublicKey
from qpki.algorithms.spki import raw_spki
from qpki.errors import VerificationError
from qpki.x509.parse import public_key_of_certificate
from qpki.x509.signature import verify_certificate_signature
from qpki.x509.verify import verify_certificate

UTC = datetime.timezone.utc
START = datetime.datetime(2026, 1, 1, tzinfo=UTC)
AT = datetime.datetime(2026, 6, 1, tzinfo=UTC)

# variant -> (OID, the name our messages use)
SLH = {
    "sha2-128s": ("2.16.840.1.101.3.4.3.20", "SLH-DSA-SHA2-128s"),
    "sha2-128f": ("2.16.840.1.101.3.4.3.21", "SLH-DSA-SHA2-128f"),
    "sha2-192f": ("2.16.840.1.101.3.4.3.23", "SLH-DSA-SHA2-192f"),
    "shake-128f": ("2.16.840.1.101.3.4.3.27", "SLH-DSA-SHAKE-128f"),
    "shake-256f": ("2.16.840.1.101.3.4.3.31", "SLH-DSA-SHAKE-256f"),
}


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _asn1(der, spec):
    value, rest = decoder.decode(der, asn1Spec=spec)
    assert not rest
    return value


def _time(moment):
    value = rfc5280.Time()
    value["utcTime"] = useful.UTCTime(moment.strftime("%y%m%d%H%M%SZ"))
    return value


def _algorithm(oid):
    alg = rfc5280.AlgorithmIdentifier()
    alg["algorithm"] = univ.ObjectIdentifier(oid)  # parameters absent
    return alg


def build_certificate(*, issuer, subject, spki_der, signature_oid, sign, serial=1,
                      not_before=START, days=365, ca=False, issuer_key_id=None):
    """A DER certificate signed by ``sign(tbs_der) -> signature``."""
    ski = _ski_of(spki_der)
    extensions = [
        (x509.BasicConstraints(ca=ca, path_length=None), True),
        (x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                       key_cert_sign=ca, crl_sign=ca, encipher_only=False,
                       decipher_only=False), True),
        (x509.SubjectKeyIdentifier(ski), False),
        (x509.AuthorityKeyIdentifier(issuer_key_id or ski, None, None), False),
    ]
    tbs = rfc5280.TBSCertificate()
    tbs["version"] = "v3"
    tbs["serialNumber"] = serial
    tbs["signature"] = _algorithm(signature_oid)
    tbs["issuer"] = _asn1(issuer.public_bytes(), rfc5280.Name())
    tbs["validity"]["notBefore"] = _time(not_before)
    tbs["validity"]["notAfter"] = _time(not_before + datetime.timedelta(days=days))
    tbs["subject"] = _asn1(subject.public_bytes(), rfc5280.Name())
    tbs["subjectPublicKeyInfo"] = _asn1(spki_der, rfc5280.SubjectPublicKeyInfo())
    for value, critical in extensions:
        ext = rfc5280.Extension()
        ext["extnID"] = univ.ObjectIdentifier(value.oid.dotted_string)
        ext["critical"] = critical
        ext["extnValue"] = value.public_bytes()
        tbs["extensions"].append(ext)
    tbs_der = encoder.encode(tbs)
    cert = rfc5280.Certificate()
    cert["tbsCertificate"] = tbs
    cert["signatureAlgorithm"] = _algorithm(signature_oid)
    cert["signature"] = univ.BitString.fromOctetString(sign(tbs_der))
    return encoder.encode(cert)


def _ski_of(spki_der):
    import hashlib

    spki = _asn1(spki_der, rfc5280.SubjectPublicKeyInfo())
    return hashlib.sha1(spki["subjectPublicKey"].asOctets()).digest()


def _ec_spki(key):
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _flip(der):
    damaged = bytearray(der)
    damaged[-8] ^= 0x01
    return bytes(damaged)


# --------------------------------------------------------------------------
# SLH-DSA
# --------------------------------------------------------------------------

class SlhCa:
    """An SLH-DSA key pair (pqcrypto) with a self-signed CA certificate."""

    def __init__(self, variant, cn="SLH-DSA Root"):
        self.variant = variant
        self.oid, self.label = SLH[variant]
        self.backend = importlib.import_module(
            "pqcrypto.sign.slh_dsa_" + variant.replace("-", "_"))
        self.public, self.secret = self.backend.keygen()
        self.name = _name(cn)
        self.spki = raw_spki(self.oid, self.public)
        self.key_id = _ski_of(self.spki)
        self.der = build_certificate(issuer=self.name, subject=self.name, spki_der=self.spki,
                                     signature_oid=self.oid, sign=self.sign, ca=True,
                                     days=3650)
        self.cert = x509.load_der_x509_certificate(self.der)

    def sign(self, data):
        return self.backend.sign(self.secret, data)

    def issue_ec_leaf(self, cn="leaf.example"):
        key = ec.generate_private_key(ec.SECP256R1())
        der = build_certificate(issuer=self.name, subject=_name(cn), spki_der=_ec_spki(key),
                                signature_oid=self.oid, sign=self.sign, serial=2,
                                issuer_key_id=self.key_id)
        return der

    def independent_verify(self, message, signature):
        """The pure-Python ``slhdsa`` package's verdict (pure mode, empty context)."""
        params = getattr(slhdsa, self.variant.replace("-", "_"))
        return slhdsa.PublicKey.from_digest(self.public, params).verify_pure(message, signature)


@pytest.fixture(scope="module", params=sorted(SLH))
def slh_ca(request):
    return SlhCa(request.param)


def test_slh_dsa_key_comes_from_the_spki(slh_ca):
    key = public_key_of_certificate(slh_ca.cert)
    assert isinstance(key, SlhDsaPublicKey)
    assert key.algorithm_name == "slh-dsa-" + slh_ca.variant
    assert key.public_bytes_raw() == slh_ca.public


def test_slh_dsa_self_signed_certificate_verifies(slh_ca):
    cert = slh_ca.cert
    verify_certificate_signature(cert, public_key_of_certificate(cert))
    assert slh_ca.independent_verify(cert.tbs_certificate_bytes, cert.signature) is True
    result = verify_certificate(cert, [cert], at=AT)
    assert result.valid, result.reason


def test_slh_dsa_flipped_signature_rejected_by_both(slh_ca):
    damaged = x509.load_der_x509_certificate(_flip(slh_ca.der))
    with pytest.raises(VerificationError) as info:
        verify_certificate_signature(damaged, public_key_of_certificate(slh_ca.cert))
    assert str(info.value) == ("certificate CN=SLH-DSA Root: signature does not verify with "
                               "issuer CN=SLH-DSA Root (%s)" % slh_ca.label)
    assert slh_ca.independent_verify(damaged.tbs_certificate_bytes, damaged.signature) is False


def test_slh_dsa_root_issues_ec_leaf(slh_ca):
    leaf_der = slh_ca.issue_ec_leaf()
    leaf = x509.load_der_x509_certificate(leaf_der)
    result = verify_certificate(leaf, [slh_ca.cert], at=AT)
    assert result.valid, result.reason
    assert result.path == ["CN=leaf.example", "CN=SLH-DSA Root"]
    assert slh_ca.independent_verify(leaf.tbs_certificate_bytes, leaf.signature) is True

    damaged = x509.load_der_x509_certificate(_flip(leaf_der))
    bad = verify_certificate(damaged, [slh_ca.cert], at=AT)
    assert not bad.valid and bad.rule == "signature.invalid"
    assert slh_ca.independent_verify(damaged.tbs_certificate_bytes, damaged.signature) is False


def test_slh_dsa_signature_with_another_variants_key_is_a_mismatch():
    one, other = SlhCa("sha2-128f"), SlhCa("shake-128f", cn="Other")
    with pytest.raises(VerificationError, match=r"signature algorithm SLH-DSA-SHA2-128f does not "
                                                r"match issuer key \(slh-dsa-shake-128f key\)"):
        verify_certificate_signature(one.cert, public_key_of_certificate(other.cert))


def test_slh_dsa_signature_parameters_must_be_absent():
    from qpki.x509.signature import verify_signature

    ca = SlhCa("sha2-128f")
    key = public_key_of_certificate(ca.cert)
    with pytest.raises(VerificationError, match="parameters must be absent"):
        verify_signature(key, ca.oid, b"\x05\x00", ca.cert.signature, ca.cert.tbs_certificate_bytes)
    verify_signature(key, ca.oid, b"", ca.cert.signature, ca.cert.tbs_certificate_bytes)


# --------------------------------------------------------------------------
# Composite ML-DSA (draft-13) chain
# --------------------------------------------------------------------------

def _composite():
    return importlib.import_module("qpki.algorithms.composite")


@pytest.mark.parametrize("name", ["composite-mldsa65-ecdsa-p256", "composite-mldsa87-ecdsa-p384",
                                  "composite-mldsa44-ed25519"])
def test_composite_root_issues_ec_leaf(name):
    composite = _composite()
    params = composite.params_by_name(name)
    key = composite.CompositePrivateKey.generate(params)
    spki = key.public_key().spki_der()
    root_name = _name("Composite Root")
    root_der = build_certificate(issuer=root_name, subject=root_name, spki_der=spki,
                                 signature_oid=params.oid, sign=key.sign, ca=True)
    root = x509.load_der_x509_certificate(root_der)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_der = build_certificate(issuer=root_name, subject=_name("leaf"),
                                 spki_der=_ec_spki(leaf_key), signature_oid=params.oid,
                                 sign=key.sign, serial=7, issuer_key_id=_ski_of(spki))
    leaf = x509.load_der_x509_certificate(leaf_der)

    verify_certificate_signature(root, public_key_of_certificate(root))
    result = verify_certificate(leaf, [root], at=AT)
    assert result.valid, result.reason

    damaged = x509.load_der_x509_certificate(_flip(leaf_der))
    bad = verify_certificate(damaged, [root], at=AT)
    assert not bad.valid and bad.rule == "signature.invalid"
    assert "signature does not verify with issuer CN=Composite Root" in bad.reason
    assert "component does not verify" in bad.reason
