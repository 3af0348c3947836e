"""The byte constructions of catalyst artifacts, pinned against X.509
(10/2019) §9.8 and BouncyCastle's CSR convention.

The PreTBSCertificate is rebuilt here by removing, with pyasn1, the
``signature`` field and the altSignatureValue extension from a built
certificate's TBS; the alternative signature must verify over exactly those
bytes (and not over the TBS with its signature field)."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from dilithium_py.ml_dsa import ML_DSA_65
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ
from pyasn1_modules import rfc2986, rfc5280

import hybrid_reference as ref
from qpki.algorithms.registry import get_algorithm
from qpki.errors import InputError
from qpki.signer.software import SoftwareSigner
from qpki.x509 import catalyst
from qpki.x509.certificate import certificate_builder, sign_certificate
from qpki.revocation import RevocationReason, RevokedEntry
from qpki.x509.crl import build_crl
from qpki.x509.csr import build_csr

ML_DSA_65_OID = "2.16.840.1.101.3.4.3.18"
NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "catalyst")])


def _signer(algorithm):
    return SoftwareSigner(get_algorithm(algorithm).generate(), algorithm)


@pytest.fixture(scope="module")
def keys():
    return _signer("ecdsa-p256"), _signer("ml-dsa-65")


@pytest.fixture(scope="module")
def cert(keys):
    classical, pqc = keys
    builder = certificate_builder(
        subject=NAME, issuer=NAME, serial=0x1234567890ABCDEF, not_before=NOW,
        not_after=NOW + datetime.timedelta(days=30),
        extensions=[x509.Extension(x509.oid.ExtensionOID.BASIC_CONSTRAINTS, True,
                                   x509.BasicConstraints(ca=True, path_length=0)),
                    catalyst.alt_public_key_extension(pqc.public_key())],
        subject_public_key=classical.public_key(), issuer_key_id=None)
    return sign_certificate(builder, classical, classical.public_key(), alt_signer=pqc)


def _tbs(cert):
    return ref.decode_certificate(cert.public_bytes(Encoding.DER))["tbsCertificate"]


def _ext(cert, oid):
    return cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid))


def test_extension_values_are_the_standard_types(cert, keys):
    _classical, pqc = keys
    spki, rest = decoder.decode(_ext(cert, "2.5.29.72").value.value,
                                asn1Spec=rfc5280.SubjectPublicKeyInfo())
    assert not rest
    assert str(spki["algorithm"]["algorithm"]) == ML_DSA_65_OID
    assert not spki["algorithm"]["parameters"].isValue
    assert spki["subjectPublicKey"].asOctets() == pqc.public_key().public_bytes_raw()
    # AlgorithmIdentifier { id-ml-dsa-65 }, parameters absent (RFC 9881).
    assert _ext(cert, "2.5.29.73").value.value == bytes.fromhex(
        "300b0609608648016503040312")
    bits, rest = decoder.decode(_ext(cert, "2.5.29.74").value.value, asn1Spec=univ.BitString())
    assert not rest and len(bits) == 8 * 3309  # ML-DSA-65 signature, no unused bits
    for oid in ("2.5.29.72", "2.5.29.73", "2.5.29.74"):
        assert _ext(cert, oid).critical is False
    order = [e.oid.dotted_string for e in cert.extensions]
    assert order[-2:] == ["2.5.29.73", "2.5.29.74"]


def test_pre_tbs_certificate_pinned(cert, keys):
    _classical, pqc = keys
    tbs = _tbs(cert)
    # Remove `signature` and extension 74 with pyasn1, keep the rest as is.
    pre = ref.PreTBSCertificate()
    for name in ("version", "serialNumber", "issuer", "validity", "subject",
                 "subjectPublicKeyInfo"):
        pre[name] = tbs[name]
    kept = [e for e in tbs["extensions"] if str(e["extnID"]) != "2.5.29.74"]
    for position, ext in enumerate(kept):
        pre["extensions"].setComponentByPosition(position, ext)
    pre_der = encoder.encode(pre)

    # Byte-level sanity: exactly the AlgorithmIdentifier and the 74 extension went away.
    tbs_der = cert.tbs_certificate_bytes
    removed = (len(encoder.encode(tbs["signature"]))
               + len(encoder.encode([e for e in tbs["extensions"]
                                     if str(e["extnID"]) == "2.5.29.74"][0])))
    assert len(tbs_der) - len(pre_der) >= removed
    assert [str(e["extnID"]) for e in kept] == [e.oid.dotted_string for e in cert.extensions][:-1]
    for ext in kept:  # every kept extension byte-identical
        assert encoder.encode(ext) in tbs_der

    signature = bytes(decoder.decode(_ext(cert, "2.5.29.74").value.value,
                                     asn1Spec=univ.BitString())[0].asOctets())
    raw = pqc.public_key().public_bytes_raw()
    assert ML_DSA_65.verify(raw, pre_der, signature)
    assert not ML_DSA_65.verify(raw, tbs_der, signature)  # not over the TBS itself
    # Our builder computes exactly the same pre-image.
    assert catalyst.pre_tbs_certificate(tbs_der) == pre_der


def test_pre_tbs_refuses_non_der():
    with pytest.raises(InputError):
        catalyst.pre_tbs_certificate(b"\x30\x80\x00\x00")


def test_crl_alternative_signature(keys):
    classical, pqc = keys
    crl = build_crl(signer=classical, issuer=NAME, issuer_key_id=b"\x01" * 20, crl_number=7,
                    this_update=NOW, next_update=NOW + datetime.timedelta(days=7),
                    revoked=[RevokedEntry(42, NOW, RevocationReason.key_compromise)],
                    alt_signer=pqc)
    order = [e.oid.dotted_string for e in crl.extensions]
    assert order[-2:] == ["2.5.29.73", "2.5.29.74"]
    tbs = ref.decode_crl(crl.public_bytes(Encoding.DER))["tbsCertList"]
    pre_der = ref.pre_tbs_certlist(tbs)
    assert catalyst.pre_tbs_certlist(crl.tbs_certlist_bytes) == pre_der
    bits = decoder.decode(_ext(crl, "2.5.29.74").value.value, asn1Spec=univ.BitString())[0]
    assert ML_DSA_65.verify(pqc.public_key().public_bytes_raw(), pre_der, bits.asOctets())


def test_csr_attributes_and_what_the_alt_signature_covers(keys):
    classical, pqc = keys
    csr = build_csr(classical, NAME, alt_signer=pqc)
    request, dummy = decoder.decode(csr.public_bytes(Encoding.DER),
                                    asn1Spec=rfc2986.CertificationRequest())
    info = request["certificationRequestInfo"]
    attributes = {str(a["type"]): a for a in info["attributes"]}
    assert set(attributes) == {"2.5.29.72", "2.5.29.73", "2.5.29.74"}
    assert all(len(a["values"]) == 1 for a in attributes.values())
    assert bytes(attributes["2.5.29.73"]["values"][0]) == bytes.fromhex(
        "300b0609608648016503040312")
    signature = decoder.decode(bytes(attributes["2.5.29.74"]["values"][0]),
                               asn1Spec=univ.BitString())[0].asOctets()

    def info_with(oids):
        out = rfc2986.CertificationRequestInfo()
        for name in ("version", "subject", "subjectPKInfo"):
            out[name] = info[name]
        kept = [a for a in info["attributes"] if str(a["type"]) in oids]
        for position, attribute in enumerate(kept):
            out["attributes"].setComponentByPosition(position, attribute)
        return encoder.encode(out)

    raw = pqc.public_key().public_bytes_raw()
    # Covers the alt key and algorithm (so neither can be swapped), not 74.
    assert ML_DSA_65.verify(raw, info_with({"2.5.29.72", "2.5.29.73"}), signature)
    assert not ML_DSA_65.verify(raw, info_with(set()), signature)
    assert catalyst.csr_info_without_alt_signature(csr.tbs_certrequest_bytes) == info_with(
        {"2.5.29.72", "2.5.29.73"})
