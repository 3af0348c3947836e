"""Independent reference checks for what qpki signs (test helper, not a test).

Nothing here imports qpki. The catalyst pre-images are rebuilt with pyasn1
from ASN.1 transcribed from ITU-T X.509 (10/2019) §9.8; the composite M'
from draft-ietf-lamps-pq-composite-sigs-13 §3.2 / §4.3 / §7. ML-DSA
signatures are checked with dilithium-py (pure Python, a second ML-DSA),
SLH-DSA ones with the slh-dsa package, classical ones with cryptography
called directly. ``signature_ok`` picks the check by signature OID.
"""

import hashlib

import slhdsa

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import namedtype, tag, univ
from pyasn1_modules import rfc2986, rfc5280

ID_CE_SUBJECT_ALT_PUBLIC_KEY_INFO = "2.5.29.72"
ID_CE_ALT_SIGNATURE_ALGORITHM = "2.5.29.73"
ID_CE_ALT_SIGNATURE_VALUE = "2.5.29.74"

# FIPS 204 / RFC 9881 OIDs -> dilithium-py parameter sets.
ML_DSA = {"2.16.840.1.101.3.4.3.17": ML_DSA_44, "2.16.840.1.101.3.4.3.18": ML_DSA_65,
          "2.16.840.1.101.3.4.3.19": ML_DSA_87}

# FIPS 205 OIDs (NIST CSOR sigAlgs .20-.31) -> slh-dsa parameter sets.
SLH_DSA = dict(zip(
    ("2.16.840.1.101.3.4.3.%d" % n for n in range(20, 32)),
    (getattr(slhdsa, "%s_%s%s" % (family, bits, speed))
     for family in ("sha2", "shake") for bits in (128, 192, 256) for speed in ("s", "f")), strict=False))

# ECDSA signature OIDs (RFC 5758) -> hash.
ECDSA_HASH = {"1.2.840.10045.4.3.2": hashes.SHA256, "1.2.840.10045.4.3.3": hashes.SHA384,
              "1.2.840.10045.4.3.4": hashes.SHA512}


def _context(number):
    return tag.Tag(tag.tagClassContext, tag.tagFormatSimple, number)


class PreTBSCertificate(univ.Sequence):
    """X.509 (10/2019) §9.8, transcribed:

    PreTBSCertificate ::= SEQUENCE {
      version                 [0]  Version DEFAULT v1,
      serialNumber                 CertificateSerialNumber,
      issuer                       Name,
      validity                     Validity,
      subject                      Name,
      subjectPublicKeyInfo         SubjectPublicKeyInfo,
      issuerUniqueIdentifier  [1]  IMPLICIT UniqueIdentifier OPTIONAL,
      subjectUniqueIdentifier [2]  IMPLICIT UniqueIdentifier OPTIONAL,
      extensions              [3]  Extensions OPTIONAL }
    """

    componentType = namedtype.NamedTypes(
        namedtype.DefaultedNamedType(
            "version", rfc5280.Version().subtype(explicitTag=_context(0)).subtype(value="v1")),
        namedtype.NamedType("serialNumber", rfc5280.CertificateSerialNumber()),
        namedtype.NamedType("issuer", rfc5280.Name()),
        namedtype.NamedType("validity", rfc5280.Validity()),
        namedtype.NamedType("subject", rfc5280.Name()),
        namedtype.NamedType("subjectPublicKeyInfo", rfc5280.SubjectPublicKeyInfo()),
        namedtype.OptionalNamedType(
            "issuerUniqueID", rfc5280.UniqueIdentifier().subtype(implicitTag=_context(1))),
        namedtype.OptionalNamedType(
            "subjectUniqueID", rfc5280.UniqueIdentifier().subtype(implicitTag=_context(2))),
        namedtype.OptionalNamedType(
            "extensions", rfc5280.Extensions().subtype(explicitTag=_context(3))),
    )


def _revoked_type():
    types = rfc5280.TBSCertList.componentType
    return types.getTypeByPosition(types.getPositionByName("revokedCertificates")).clone()


class PreTBSCertList(univ.Sequence):
    """X.509 (10/2019) §9.8, transcribed:

    PreTBSCertList ::= SEQUENCE {
      version              Version OPTIONAL,
      issuer               Name,
      thisUpdate           Time,
      nextUpdate           Time OPTIONAL,
      revokedCertificates  SEQUENCE OF SEQUENCE { ... } OPTIONAL,
      crlExtensions   [0]  Extensions OPTIONAL }
    """

    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("version", rfc5280.Version()),
        namedtype.NamedType("issuer", rfc5280.Name()),
        namedtype.NamedType("thisUpdate", rfc5280.Time()),
        namedtype.OptionalNamedType("nextUpdate", rfc5280.Time()),
        namedtype.OptionalNamedType("revokedCertificates", _revoked_type()),
        namedtype.OptionalNamedType(
            "crlExtensions", rfc5280.Extensions().subtype(explicitTag=_context(0))),
    )


def _copy_into(target, source, names, extensions_field):
    for name in names:
        if source[name].isValue:
            target[name] = source[name]
    kept = [e for e in source[extensions_field]
            if str(e["extnID"]) != ID_CE_ALT_SIGNATURE_VALUE] \
        if source[extensions_field].isValue else []
    for position, ext in enumerate(kept):
        target[extensions_field].setComponentByPosition(position, ext)
    return encoder.encode(target)


def pre_tbs_certificate(tbs):
    """DER PreTBSCertificate from a pyasn1 TBSCertificate."""
    names = ["version", "serialNumber", "issuer", "validity", "subject",
             "subjectPublicKeyInfo", "issuerUniqueID", "subjectUniqueID"]
    return _copy_into(PreTBSCertificate(), tbs, names, "extensions")


def pre_tbs_certlist(tbs):
    names = ["version", "issuer", "thisUpdate", "nextUpdate", "revokedCertificates"]
    return _copy_into(PreTBSCertList(), tbs, names, "crlExtensions")


def decode_certificate(der):
    cert, rest = decoder.decode(der, asn1Spec=rfc5280.Certificate())
    assert not rest
    return cert


def decode_crl(der):
    crl, rest = decoder.decode(der, asn1Spec=rfc5280.CertificateList())
    assert not rest
    return crl


def extensions_of(tbs, field="extensions"):
    """{oid: extnValue bytes}."""
    if not tbs[field].isValue:
        return {}
    return {str(e["extnID"]): bytes(e["extnValue"]) for e in tbs[field]}


def alt_public_key(cert_der):
    """(OID, raw key) of a certificate's subjectAltPublicKeyInfo, or None."""
    value = extensions_of(decode_certificate(cert_der)["tbsCertificate"]).get(
        ID_CE_SUBJECT_ALT_PUBLIC_KEY_INFO)
    if value is None:
        return None
    info, dummy = decoder.decode(value, asn1Spec=rfc5280.SubjectPublicKeyInfo())
    return str(info["algorithm"]["algorithm"]), info["subjectPublicKey"].asOctets()


def _alt_signature(extensions):
    algorithm, dummy = decoder.decode(extensions[ID_CE_ALT_SIGNATURE_ALGORITHM],
                                      asn1Spec=rfc5280.AlgorithmIdentifier())
    assert not algorithm["parameters"].isValue
    value, dummy = decoder.decode(extensions[ID_CE_ALT_SIGNATURE_VALUE], asn1Spec=univ.BitString())
    return str(algorithm["algorithm"]), value.asOctets()


def _dilithium_verify(key, oid, message, signature, ctx=b""):
    key_oid, raw = key
    assert key_oid == oid, "alternative key %s vs algorithm %s" % (key_oid, oid)
    return ML_DSA[oid].verify(raw, message, signature, ctx=ctx)


def catalyst_alt_ok(cert_der, issuer_der):
    """dilithium-py over the rebuilt PreTBSCertificate with the issuer's alt key."""
    tbs = decode_certificate(cert_der)["tbsCertificate"]
    oid, signature = _alt_signature(extensions_of(tbs))
    return _dilithium_verify(alt_public_key(issuer_der), oid, pre_tbs_certificate(tbs), signature)


def catalyst_crl_alt_ok(crl_der, issuer_der):
    tbs = decode_crl(crl_der)["tbsCertList"]
    oid, signature = _alt_signature(extensions_of(tbs, "crlExtensions"))
    return _dilithium_verify(alt_public_key(issuer_der), oid, pre_tbs_certlist(tbs), signature)


def _issuer_classical_key(issuer_der):
    tbs = decode_certificate(issuer_der)["tbsCertificate"]
    return serialization.load_der_public_key(encoder.encode(tbs["subjectPublicKeyInfo"]))


def _ecdsa_ok(public_key, signature, message, hash_cls):
    try:
        public_key.verify(signature, message, ec.ECDSA(hash_cls()))
    except InvalidSignature:
        return False
    return True


def classical_ok(signed_der, issuer_der, crl=False):
    """cryptography's ECDSA verify over the TBS bytes of a cert or CRL."""
    outer = decode_crl(signed_der) if crl else decode_certificate(signed_der)
    tbs = outer["tbsCertList" if crl else "tbsCertificate"]
    oid = str(outer["signatureAlgorithm"]["algorithm"])
    return _ecdsa_ok(_issuer_classical_key(issuer_der), outer["signature"].asOctets(),
                     encoder.encode(tbs), ECDSA_HASH[oid])


def mldsa_ok(cert_der, issuer_der):
    """A plain ML-DSA certificate signature, checked with dilithium-py."""
    outer = decode_certificate(cert_der)
    issuer_spki = decode_certificate(issuer_der)["tbsCertificate"]["subjectPublicKeyInfo"]
    key = (str(issuer_spki["algorithm"]["algorithm"]), issuer_spki["subjectPublicKey"].asOctets())
    return _dilithium_verify(key, str(outer["signatureAlgorithm"]["algorithm"]),
                             encoder.encode(outer["tbsCertificate"]),
                             outer["signature"].asOctets())


def catalyst_csr_alt_ok(csr_der):
    """The alternative proof of possession of a catalyst CSR (BouncyCastle's
    convention): over the CertificationRequestInfo without the 2.5.29.74
    attribute, with the key of its 2.5.29.72 attribute."""
    request, dummy = decoder.decode(csr_der, asn1Spec=rfc2986.CertificationRequest())
    info = request["certificationRequestInfo"]
    values = {str(a["type"]): bytes(a["values"][0]) for a in info["attributes"]}
    without = rfc2986.CertificationRequestInfo()
    for name in ("version", "subject", "subjectPKInfo"):
        without[name] = info[name]
    kept = [a for a in info["attributes"] if str(a["type"]) != ID_CE_ALT_SIGNATURE_VALUE]
    for position, attribute in enumerate(kept):
        without["attributes"].setComponentByPosition(position, attribute)
    spki, dummy = decoder.decode(values[ID_CE_SUBJECT_ALT_PUBLIC_KEY_INFO],
                                 asn1Spec=rfc5280.SubjectPublicKeyInfo())
    key = (str(spki["algorithm"]["algorithm"]), spki["subjectPublicKey"].asOctets())
    oid, signature = _alt_signature(values)
    return _dilithium_verify(key, oid, encoder.encode(without), signature)


# --------------------------------------------------------------------------
# Composite, draft-13 (transcribed from §3.2 and §7)
# --------------------------------------------------------------------------

PREFIX = b"CompositeAlgorithmSignatures2025"
# OID -> (Label, ML-DSA set, ML-DSA public key size, ML-DSA signature size,
#         curve, ECDSA hash); PH is SHA-512 for all of these.
COMPOSITE_EC = {
    "1.3.6.1.5.5.7.6.45": (b"COMPSIG-MLDSA65-P256-SHA512", ML_DSA_65, 1952, 3309,
                           ec.SECP256R1, hashes.SHA256),
    "1.3.6.1.5.5.7.6.46": (b"COMPSIG-MLDSA65-P384-SHA512", ML_DSA_65, 1952, 3309,
                           ec.SECP384R1, hashes.SHA384),
    "1.3.6.1.5.5.7.6.49": (b"COMPSIG-MLDSA87-P384-SHA512", ML_DSA_87, 2592, 4627,
                           ec.SECP384R1, hashes.SHA384),
    "1.3.6.1.5.5.7.6.54": (b"COMPSIG-MLDSA87-P521-SHA512", ML_DSA_87, 2592, 4627,
                           ec.SECP521R1, hashes.SHA512),
}


def composite_m_prime(label, message, ctx=b""):
    """M' = Prefix || Label || len(ctx) || ctx || PH(M) (draft-13 §3.2, §4.2)."""
    return PREFIX + label + bytes([len(ctx)]) + ctx + hashlib.sha512(message).digest()


def composite_components_ok(oid, raw_public_key, signature, message):
    """(ML-DSA ok, ECDSA ok) for a draft-13 composite signature over ``message``."""
    label, mldsa, pk_size, sig_size, curve, ecdsa_hash = COMPOSITE_EC[oid]
    m_prime = composite_m_prime(label, message)
    # Keys and signatures are raw concatenations, ML-DSA first (draft-13 §5).
    mldsa_ok = mldsa.verify(raw_public_key[:pk_size], m_prime, signature[:sig_size], ctx=label)
    point = ec.EllipticCurvePublicKey.from_encoded_point(curve(), raw_public_key[pk_size:])
    return mldsa_ok, _ecdsa_ok(point, signature[sig_size:], m_prime, ecdsa_hash)


def composite_signed_ok(signed_der, issuer_der, crl=False):
    outer = decode_crl(signed_der) if crl else decode_certificate(signed_der)
    tbs = outer["tbsCertList" if crl else "tbsCertificate"]
    oid = str(outer["signatureAlgorithm"]["algorithm"])
    assert not outer["signatureAlgorithm"]["parameters"].isValue
    spki = decode_certificate(issuer_der)["tbsCertificate"]["subjectPublicKeyInfo"]
    assert str(spki["algorithm"]["algorithm"]) == oid
    return composite_components_ok(oid, spki["subjectPublicKey"].asOctets(),
                                   outer["signature"].asOctets(), encoder.encode(tbs))


def _issuer_spki(issuer_der):
    spki = decode_certificate(issuer_der)["tbsCertificate"]["subjectPublicKeyInfo"]
    return str(spki["algorithm"]["algorithm"]), spki["subjectPublicKey"].asOctets()


def signature_ok(signed_der, issuer_der, crl=False):
    """The signature of a certificate or CRL, checked by code we did not
    write according to its algorithm: ECDSA (cryptography), ML-DSA
    (dilithium-py), SLH-DSA (slh-dsa), composite (both components)."""
    outer = decode_crl(signed_der) if crl else decode_certificate(signed_der)
    oid = str(outer["signatureAlgorithm"]["algorithm"])
    message = encoder.encode(outer["tbsCertList" if crl else "tbsCertificate"])
    signature = outer["signature"].asOctets()
    if oid in ECDSA_HASH:
        return classical_ok(signed_der, issuer_der, crl)
    if oid in COMPOSITE_EC:
        return all(composite_signed_ok(signed_der, issuer_der, crl))
    key_oid, key = _issuer_spki(issuer_der)
    assert key_oid == oid, "issuer key %s vs signature %s" % (key_oid, oid)
    if oid in ML_DSA:
        return ML_DSA[oid].verify(key, message, signature)
    if oid in SLH_DSA:
        return slhdsa.PublicKey.from_digest(key, SLH_DSA[oid]).verify_pure(message, signature)
    raise AssertionError("no independent check for signature algorithm %s" % oid)


# --------------------------------------------------------------------------
# Tampering
# --------------------------------------------------------------------------

def flip_byte(der, needle, offset=0):
    """``der`` with one byte flipped inside the first occurrence of ``needle``."""
    at = bytes(der).index(needle) + offset
    out = bytearray(der)
    out[at] ^= 0x01
    return bytes(out)
