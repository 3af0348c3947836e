"""Catalyst (alternative-signature) structures of ITU-T X.509 (10/2019) §9.8.

A catalyst certificate is an ordinary certificate (classical key, classical
signature) carrying three non-critical extensions:

* subjectAltPublicKeyInfo (2.5.29.72): the subject's alternative (post-
  quantum) public key, a SEQUENCE { algorithm, subjectAltPublicKey BIT
  STRING } shaped like SubjectPublicKeyInfo;
* altSignatureAlgorithm (2.5.29.73): the AlgorithmIdentifier of the
  issuer's alternative signature;
* altSignatureValue (2.5.29.74): that signature, a BIT STRING, computed over
  the DER of the PreTBSCertificate: the TBSCertificate without its
  ``signature`` AlgorithmIdentifier and without the altSignatureValue
  extension, every other field and extension unchanged and in order.

CRLs carry 73 and 74 among their crlExtensions, the alternative signature
covering the PreTBSCertList built the same way. Catalyst CSRs carry the
three as attributes of the CertificationRequestInfo (the convention of
BouncyCastle); there the alternative signature covers the request info
with the 72 and 73 attributes in it and without the 74 attribute. That is
the only form we write.

QPKI (the Go tool) writes catalyst CSRs its own way, read here too: the
same three values under non-standard attribute OIDs 2.16.840.1.101.2.1.2.100
(public key), .101 (algorithm) and .102 (signature), its attributes not in
DER order, and the alternative signature covering the request info WITHOUT
any of the three (the DER of the info with only the other attributes).

Everything is built and parsed with pyasn1; nothing here signs or verifies.
pyasn1 is imported by the functions that use it: an ordinary certificate or
request (no catalyst OID in it) is recognised without loading it.
"""

from dataclasses import dataclass

from ..dependencies import imported_later, missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ..algorithms.spki import spki_der
from ..errors import InputError

imported_later("pyasn1", "pyasn1_modules")

SUBJECT_ALT_PUBLIC_KEY_INFO = "2.5.29.72"
ALT_SIGNATURE_ALGORITHM = "2.5.29.73"
ALT_SIGNATURE_VALUE = "2.5.29.74"

NAMES = {
    SUBJECT_ALT_PUBLIC_KEY_INFO: "subjectAltPublicKeyInfo",
    ALT_SIGNATURE_ALGORITHM: "altSignatureAlgorithm",
    ALT_SIGNATURE_VALUE: "altSignatureValue",
}


@dataclass(frozen=True)
class CsrConvention:
    """Where a catalyst CSR keeps its three values and what its alternative
    signature covers: the request info without the attributes of
    ``signed_without``."""

    name: str
    standard: bool
    oids: "dict[str, str]"  # attribute OID -> the X.509 OID of the value it carries
    signed_without: "tuple[str, ...]"


STANDARD_CSR = CsrConvention(
    "the X.509 OIDs 2.5.29.72-74 (BouncyCastle's attribute convention)", True,
    {oid: oid for oid in NAMES}, (ALT_SIGNATURE_VALUE,))
QPKI_CSR = CsrConvention(
    "QPKI's non-standard OIDs 2.16.840.1.101.2.1.2.100-102", False,
    {"2.16.840.1.101.2.1.2.100": SUBJECT_ALT_PUBLIC_KEY_INFO,
     "2.16.840.1.101.2.1.2.101": ALT_SIGNATURE_ALGORITHM,
     "2.16.840.1.101.2.1.2.102": ALT_SIGNATURE_VALUE},
    ("2.16.840.1.101.2.1.2.100", "2.16.840.1.101.2.1.2.101", "2.16.840.1.101.2.1.2.102"))
CSR_CONVENTIONS = (STANDARD_CSR, QPKI_CSR)


@dataclass(frozen=True)
class CsrCatalyst:
    """The catalyst attributes of a request: their convention and values
    (``values`` keyed by the X.509 OIDs 72/73/74, whatever the convention)."""

    convention: CsrConvention
    values: "dict[str, bytes]"


def _without(structure, field):
    """The components of ``structure`` minus ``field``, tags and order kept."""
    from pyasn1.type import namedtype

    return namedtype.NamedTypes(*[t for t in structure.componentType.namedTypes
                                  if t.name != field])


_PRE_TBS = {}


def _pre_tbs_classes():
    """{name: class} of the two PreTBS structures, made on first use."""
    if not _PRE_TBS:
        from pyasn1.type import univ
        from pyasn1_modules import rfc5280

        class PreTBSCertificate(univ.Sequence):
            """X.509 (10/2019) §9.8: PreTBSCertificate is TBSCertificate less its
            ``signature`` component (version, serialNumber, issuer, validity,
            subject, subjectPublicKeyInfo, issuer/subjectUniqueIdentifier,
            extensions)."""

            componentType = _without(rfc5280.TBSCertificate, "signature")

        class PreTBSCertList(univ.Sequence):
            """X.509 (10/2019) §9.8: PreTBSCertList is TBSCertList less its
            ``signature`` component."""

            componentType = _without(rfc5280.TBSCertList, "signature")

        _PRE_TBS.update(PreTBSCertificate=PreTBSCertificate, PreTBSCertList=PreTBSCertList)
    return _PRE_TBS


def __getattr__(name):
    """``catalyst.PreTBSCertificate`` and ``catalyst.PreTBSCertList``, made
    when first asked for (PEP 562)."""
    if name in ("PreTBSCertificate", "PreTBSCertList"):
        return _pre_tbs_classes()[name]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


# --------------------------------------------------------------------------
# Extension and attribute values (the extnValue contents)
# --------------------------------------------------------------------------

def alt_public_key_value(public_key):
    """DER SubjectAltPublicKeyInfo: same structure as SubjectPublicKeyInfo
    (X.509 §9.8, subjectAltPublicKeyInfo)."""
    return spki_der(public_key)


def alt_signature_algorithm_value(signature_oid):
    """DER AltSignatureAlgorithm ::= AlgorithmIdentifier; parameters absent,
    as RFC 9881 (ML-DSA) and RFC 9909 (SLH-DSA) require."""
    from pyasn1.codec.der import encoder
    from pyasn1.type import univ
    from pyasn1_modules import rfc5280

    identifier = rfc5280.AlgorithmIdentifier()
    identifier["algorithm"] = univ.ObjectIdentifier(signature_oid)
    return encoder.encode(identifier)


def alt_signature_value(signature):
    """DER AltSignatureValue ::= BIT STRING (X.509 §9.8)."""
    from pyasn1.codec.der import encoder
    from pyasn1.type import univ

    return encoder.encode(univ.BitString.fromOctetString(bytes(signature)))


def extension(oid, value):
    """A non-critical cryptography Extension carrying ``value`` as extnValue."""
    identifier = x509.ObjectIdentifier(oid)
    return x509.Extension(identifier, False, x509.UnrecognizedExtension(identifier, value))


def alt_public_key_extension(public_key):
    return extension(SUBJECT_ALT_PUBLIC_KEY_INFO, alt_public_key_value(public_key))


def alt_signature_algorithm_extension(signature_oid):
    return extension(ALT_SIGNATURE_ALGORITHM, alt_signature_algorithm_value(signature_oid))


def alt_signature_extension(signature):
    return extension(ALT_SIGNATURE_VALUE, alt_signature_value(signature))


def csr_attribute(oid, value):
    """A PKCS#10 Attribute { type, values SET { value } } (RFC 2986 §4.1)."""
    from pyasn1.type import univ
    from pyasn1_modules import rfc2986

    attribute = rfc2986.Attribute()
    attribute["type"] = univ.ObjectIdentifier(oid)
    attribute["values"].append(univ.Any(value))
    return attribute


# --------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------

def _decode(der, spec, what):
    """Decode ``der`` as ``spec``, whole (pyasn1's decoder also takes some
    non-canonical forms, such as a SET OF out of order)."""
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error

    try:
        value, rest = decoder.decode(bytes(der), asn1Spec=spec)
    except (PyAsn1Error, OverflowError):  # pyasn1 overflows on >= 2**63 lengths
        raise InputError("malformed %s" % what) from None
    if rest:
        raise InputError("malformed %s: trailing data" % what)
    return value


def _require_der(value, der, what):
    from pyasn1.codec.der import encoder

    if encoder.encode(value) != bytes(der):
        raise InputError("%s is not DER: its catalyst pre-image cannot be rebuilt" % what)


def _decode_der(der, spec, what):
    """Decode ``der`` and insist it is canonical DER, so that re-encoding
    the parts kept in a PreTBS gives back exactly the signed bytes."""
    value = _decode(der, spec, what)
    _require_der(value, der, what)
    return value


def decode_alt_public_key(value):
    """(algorithm OID, DER SubjectPublicKeyInfo) of a subjectAltPublicKeyInfo value."""
    from pyasn1.codec.der import encoder
    from pyasn1_modules import rfc5280

    info = _decode_der(value, rfc5280.SubjectPublicKeyInfo(), "subjectAltPublicKeyInfo")
    return str(info["algorithm"]["algorithm"]), encoder.encode(info)


def decode_alt_signature_algorithm(value):
    """(OID, DER parameters or b"") of an altSignatureAlgorithm value."""
    from pyasn1_modules import rfc5280

    identifier = _decode_der(value, rfc5280.AlgorithmIdentifier(), "altSignatureAlgorithm")
    params = identifier["parameters"]
    return str(identifier["algorithm"]), (bytes(params) if params.isValue else b"")


def decode_alt_signature(value):
    """The signature bytes of an altSignatureValue value."""
    from pyasn1.type import univ

    bits = _decode_der(value, univ.BitString(), "altSignatureValue")
    if len(bits) % 8:
        raise InputError("altSignatureValue has unused bits")
    return bits.asOctets()


# --------------------------------------------------------------------------
# Pre-images of the alternative signature
# --------------------------------------------------------------------------

def _pre_tbs(tbs_der, tbs_spec, pre_spec, extensions_field, what):
    from pyasn1.codec.der import encoder

    tbs = _decode_der(tbs_der, tbs_spec, what)
    pre = pre_spec
    for named in pre.componentType.namedTypes:
        name = named.name
        if name != extensions_field and tbs[name].isValue:
            pre[name] = tbs[name]
    if tbs[extensions_field].isValue:
        # Every extension but altSignatureValue, in the original order.
        kept = [ext for ext in tbs[extensions_field]
                if str(ext["extnID"]) != ALT_SIGNATURE_VALUE]
        if kept:
            target = pre[extensions_field]
            for position, ext in enumerate(kept):
                target.setComponentByPosition(position, ext)
    return encoder.encode(pre)


def pre_tbs_certificate(tbs_der):
    """DER PreTBSCertificate of a DER TBSCertificate (X.509 (10/2019) §9.8)."""
    from pyasn1_modules import rfc5280

    return _pre_tbs(tbs_der, rfc5280.TBSCertificate(),
                    _pre_tbs_classes()["PreTBSCertificate"](), "extensions", "TBSCertificate")


def pre_tbs_certlist(tbs_der):
    """DER PreTBSCertList of a DER TBSCertList (X.509 (10/2019) §9.8)."""
    from pyasn1_modules import rfc5280

    return _pre_tbs(tbs_der, rfc5280.TBSCertList(),
                    _pre_tbs_classes()["PreTBSCertList"](), "crlExtensions", "TBSCertList")


def _decode_info(info_der, convention):
    """A CertificationRequestInfo. The standard convention's pre-image is
    the info itself less one attribute, so it must be DER; QPKI's is
    re-encoded from parts, so its attribute order does not matter."""
    from pyasn1_modules import rfc2986

    info = _decode(info_der, rfc2986.CertificationRequestInfo(), "CertificationRequestInfo")
    if convention.standard:
        _require_der(info, info_der, "CertificationRequestInfo")
    return info


def csr_info_without_alt_signature(info_der, convention=STANDARD_CSR):
    """DER CertificationRequestInfo less the attributes the alternative
    signature does not cover: what that signature of a catalyst CSR signs."""
    from pyasn1.codec.der import encoder
    from pyasn1_modules import rfc2986

    info = _decode_info(info_der, convention)
    kept = [a for a in info["attributes"] if str(a["type"]) not in convention.signed_without]
    out = rfc2986.CertificationRequestInfo()
    for name in ("version", "subject", "subjectPKInfo"):
        out[name] = info[name]
    target = out["attributes"]
    for position, attribute in enumerate(kept):
        target.setComponentByPosition(position, attribute)
    return encoder.encode(out)


# DER of the attribute OIDs of every convention (06 03 55 1D 48..4A, 06 09
# 60 86 48 01 65 02 01 02 64..66), written out so that recognising an
# ordinary request does not load pyasn1.
_OID_MARKERS = (b"\x06\x03\x55\x1d\x48", b"\x06\x03\x55\x1d\x49",
                b"\x06\x03\x55\x1d\x4a", b"\x06\x09\x60\x86\x48\x01\x65\x02\x01\x02\x64",
                b"\x06\x09\x60\x86\x48\x01\x65\x02\x01\x02\x65",
                b"\x06\x09\x60\x86\x48\x01\x65\x02\x01\x02\x66")


def _may_hold_catalyst_oids(der):
    """False when none of the catalyst OIDs' encodings occurs in ``der`` (an
    ordinary request: no need to decode it); True means "decode and see"."""
    return any(marker in der for marker in _OID_MARKERS)


def _convention_of(oid):
    for convention in CSR_CONVENTIONS:
        if oid in convention.oids:
            return convention
    return None


def csr_catalyst(info_der):
    """The CsrCatalyst of a request's info, or None for an ordinary request.
    Attributes of two conventions in one request are refused."""
    if not _may_hold_catalyst_oids(bytes(info_der)):
        return None
    from pyasn1_modules import rfc2986

    info = _decode(info_der, rfc2986.CertificationRequestInfo(), "CertificationRequestInfo")
    found, convention = {}, None
    for attribute in info["attributes"]:
        oid = str(attribute["type"])
        this = _convention_of(oid)
        if this is None:
            continue
        if convention is not None and this is not convention:
            raise InputError("certificate request mixes catalyst attributes of %s and of %s"
                             % (convention.name, this.name))
        convention = this
        role = this.oids[oid]
        if role in found or len(attribute["values"]) != 1:
            raise InputError("certificate request: %s (%s) must appear once with one value"
                             % (NAMES[role], oid))
        found[role] = bytes(attribute["values"][0])
    if convention is None:
        return None
    if convention.standard:
        _require_der(info, info_der, "CertificationRequestInfo")  # its pre-image needs DER
    return CsrCatalyst(convention, found)


def csr_attributes(info_der):
    """``{oid: single value DER}`` of the catalyst attributes of a request,
    keyed by the X.509 OIDs (72, 73, 74) whatever the convention."""
    found = csr_catalyst(info_der)
    return found.values if found is not None else {}


def extension_values(obj):
    """``{oid: extnValue}`` of the catalyst extensions of a certificate or CRL."""
    found = {}
    for ext in obj.extensions:
        oid = ext.oid.dotted_string
        if oid in NAMES:
            if ext.critical:
                raise InputError("%s must not be critical" % NAMES[oid])
            found[oid] = ext.value.value
    return found
