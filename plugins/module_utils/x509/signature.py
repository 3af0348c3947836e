"""Checking the signature of a certificate, CRL or CSR with a public key.

``verify_signature`` dispatches on the signature AlgorithmIdentifier OID:
ECDSA and RSA (PKCS#1 v1.5, RSASSA-PSS) with SHA-2, Ed25519/Ed448, ML-DSA
(FIPS 204, pure, empty context), SLH-DSA (FIPS 205, pure, empty context) and
composite ML-DSA (draft-13) when algorithms/composite.py is available. It
first checks that the key is of the kind the OID names, so a signature is
never checked with a key of another algorithm. Every failure is a one-line
VerificationError.
"""

from dataclasses import dataclass

from ..dependencies import imported_later, missing

try:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
    from cryptography.x509.oid import NameOID
except ImportError:
    InvalidSignature = UnsupportedAlgorithm = hashes = serialization = ec = ed448 = missing()
    ed25519 = padding = rsa = NameOID = missing()

from ..algorithms.base import describe_key
from ..algorithms.registry import get_algorithm
from ..errors import InputError, QpkiError, VerificationError
from .parse import composite_module, public_key_of_csr

# pyasn1 reads the AlgorithmIdentifiers and RSASSA-PSS parameters; imported
# where they are read, not at start-up.
imported_later("pyasn1", "pyasn1_modules")


class SignatureInvalid(VerificationError):
    """The key fits the algorithm but the signature value does not verify.

    ``algorithm`` is the signature algorithm's display name; ``detail`` what
    to show in brackets (the algorithm, or a composite's component report).
    """

    def __init__(self, algorithm, detail=None):
        self.algorithm = algorithm
        self.detail = detail or algorithm
        super().__init__(detail or "%s signature does not verify" % algorithm)


@dataclass(frozen=True)
class Scheme:
    """How to check one signature OID."""

    label: str  # display name, e.g. "ecdsa-with-SHA384", "ML-DSA-87"
    kind: str  # ecdsa | rsa | rsa-pss | ed25519 | ed448 | ml-dsa | slh-dsa | composite
    hash: "type | None" = None  # hash class for ECDSA / PKCS#1 v1.5
    algorithm: "str | None" = None  # registry name for ML-DSA / SLH-DSA
    composite: object = None  # CompositeParams


def _table():
    table = {}
    for bits, cls in ((256, hashes.SHA256), (384, hashes.SHA384), (512, hashes.SHA512)):
        n = {256: 2, 384: 3, 512: 4}[bits]
        table["1.2.840.10045.4.3.%d" % n] = Scheme("ecdsa-with-SHA%d" % bits, "ecdsa", cls)
        n = {256: 11, 384: 12, 512: 13}[bits]
        table["1.2.840.113549.1.1.%d" % n] = Scheme(
            "sha%dWithRSAEncryption" % bits, "rsa", cls)
    table["1.2.840.113549.1.1.10"] = Scheme("RSASSA-PSS", "rsa-pss")
    table["1.3.101.112"] = Scheme("Ed25519", "ed25519")
    table["1.3.101.113"] = Scheme("Ed448", "ed448")
    for n, level in ((17, 44), (18, 65), (19, 87)):
        table["2.16.840.1.101.3.4.3.%d" % n] = Scheme(
            "ML-DSA-%d" % level, "ml-dsa", algorithm="ml-dsa-%d" % level)
    slh = ["sha2-128s", "sha2-128f", "sha2-192s", "sha2-192f", "sha2-256s", "sha2-256f",
           "shake-128s", "shake-128f", "shake-192s", "shake-192f", "shake-256s", "shake-256f"]
    for n, name in enumerate(slh, start=20):
        family, size = name.split("-")
        table["2.16.840.1.101.3.4.3.%d" % n] = Scheme(
            "SLH-DSA-%s-%s" % (family.upper(), size), "slh-dsa",
            algorithm="slh-dsa-" + name)
    return table


_SCHEMES = _table()

# rfc4055.id_sha224, id_sha256, id_sha384, id_sha512, id_sha1 and id_mgf1,
# written out so that loading this file does not load pyasn1_modules.
_PSS_HASHES = {
    "2.16.840.1.101.3.4.2.4": hashes.SHA224,
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}
_SHA1 = "1.3.14.3.2.26"
_MGF1 = "1.2.840.113549.1.1.8"


def scheme_for_oid(oid):
    """The Scheme for a dotted signature OID, or None when unsupported."""
    oid = str(getattr(oid, "dotted_string", oid))
    scheme = _SCHEMES.get(oid)
    if scheme is not None:
        return scheme
    composite = composite_module()
    params = composite.params_by_oid(oid) if composite is not None else None
    if params is not None:
        return Scheme(params.name, "composite", composite=params)
    return None


def signature_algorithm_name(oid):
    """Display name of a signature OID (the dotted OID when unknown)."""
    oid = str(getattr(oid, "dotted_string", oid))
    scheme = scheme_for_oid(oid)
    return scheme.label if scheme is not None else oid


def describe_public_key(public_key):
    """Short text naming a key type and size: "RSA-4096 key", "ML-DSA-87 key"."""
    return describe_key(public_key)


def describe_name(name):
    """A Name for messages: "CN=<common name>" when it has one, else RFC 4514."""
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if cns:
        return "CN=%s" % cns[-1].value
    text = name.rfc4514_string()
    return text or "(empty name)"


# --------------------------------------------------------------------------
# Key / algorithm agreement
# --------------------------------------------------------------------------

_KEY_CLASSES = {
    "ecdsa": ec.EllipticCurvePublicKey,
    "rsa": rsa.RSAPublicKey,
    "rsa-pss": rsa.RSAPublicKey,
    "ed25519": ed25519.Ed25519PublicKey,
    "ed448": ed448.Ed448PublicKey,
}


def _key_fits(scheme, public_key):
    if scheme.kind in _KEY_CLASSES:
        return isinstance(public_key, _KEY_CLASSES[scheme.kind])
    if scheme.kind in ("ml-dsa", "slh-dsa"):
        return get_algorithm(scheme.algorithm).matches_public_key(public_key)
    if scheme.kind == "composite":
        params = getattr(public_key, "params", None)
        return getattr(params, "oid", None) == scheme.composite.oid
    return False


# --------------------------------------------------------------------------
# RSASSA-PSS parameters (RFC 4055)
# --------------------------------------------------------------------------

def _pss_hash(algorithm_identifier, what):
    oid = str(algorithm_identifier["algorithm"])
    if oid == _SHA1:
        raise VerificationError("RSASSA-PSS with SHA-1 (%s) is not accepted" % what)
    try:
        return _PSS_HASHES[oid]()
    except KeyError:
        raise VerificationError("RSASSA-PSS %s %s is not supported" % (what, oid)) from None


def _pss_from_der(params_der):
    """(padding.PSS, hash) from the DER RSASSA-PSS-params."""
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error
    from pyasn1_modules import rfc4055, rfc5280

    try:
        params, rest = decoder.decode(params_der, asn1Spec=rfc4055.RSASSA_PSS_params())
    except PyAsn1Error:
        rest, params = b"?", None
    if rest or params is None:
        raise VerificationError("RSASSA-PSS parameters are malformed")
    if not params["hashAlgorithm"].isValue:
        raise VerificationError("RSASSA-PSS with SHA-1 (default hash) is not accepted")
    digest = _pss_hash(params["hashAlgorithm"], "hash")
    mgf = params["maskGenAlgorithm"]
    if not mgf.isValue:
        raise VerificationError("RSASSA-PSS with MGF1-SHA-1 (default mask) is not accepted")
    if str(mgf["algorithm"]) != _MGF1:
        raise VerificationError("RSASSA-PSS mask generation %s is not supported" % mgf["algorithm"])
    try:
        mgf_hash_id, dummy = decoder.decode(mgf["parameters"], asn1Spec=rfc5280.AlgorithmIdentifier())
    except PyAsn1Error:
        raise VerificationError("RSASSA-PSS MGF1 parameters are malformed") from None
    mgf_hash = _pss_hash(mgf_hash_id, "MGF1 hash")
    salt = int(params["saltLength"]) if params["saltLength"].isValue else 20
    if params["trailerField"].isValue and int(params["trailerField"]) != 1:
        raise VerificationError("RSASSA-PSS trailerField must be 1")
    return padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=salt), digest


def _pss_padding(params, hash_algorithm):
    if isinstance(params, padding.PSS):
        if hash_algorithm is None:
            hash_algorithm = getattr(params.mgf, "_algorithm", None)
        if hash_algorithm is None:
            raise VerificationError("RSASSA-PSS signature: hash algorithm unknown")
        return params, hash_algorithm
    if isinstance(params, (bytes, bytearray)) and params:
        return _pss_from_der(bytes(params))
    raise VerificationError("RSASSA-PSS signature without parameters")


def _has_params_der(params):
    """True when DER parameters are given and not empty."""
    return isinstance(params, (bytes, bytearray)) and len(params) > 0


# --------------------------------------------------------------------------
# The dispatcher
# --------------------------------------------------------------------------

def verify_signature(public_key, signature_algorithm_oid, signature_algorithm_params,
                     signature, tbs, *, hash_algorithm=None, key_role="issuer"):
    """Check ``signature`` over ``tbs`` made with ``signature_algorithm_oid``.

    ``signature_algorithm_params`` is the AlgorithmIdentifier's parameters,
    either as their DER bytes (b"" / None when absent) or as the object
    cryptography exposes (``signature_algorithm_parameters``: padding.PSS,
    PKCS1v15, ECDSA or None). For RSASSA-PSS with a padding.PSS object pass
    ``hash_algorithm`` (cryptography's ``signature_hash_algorithm``).

    Raises VerificationError: "unsupported signature algorithm ...",
    "signature algorithm X does not match issuer key (Y)", or SignatureInvalid.
    """
    oid = str(getattr(signature_algorithm_oid, "dotted_string", signature_algorithm_oid))
    scheme = scheme_for_oid(oid)
    if scheme is None:
        raise VerificationError("unsupported signature algorithm %s" % oid)
    if not _key_fits(scheme, public_key):
        raise VerificationError("signature algorithm %s does not match %s key (%s)"
                                % (scheme.label, key_role, describe_public_key(public_key)))
    if scheme.kind not in ("ecdsa", "rsa", "rsa-pss") and _has_params_der(
            signature_algorithm_params):
        # RFC 8410, RFC 9881, RFC 9909 and draft-13: parameters MUST be absent.
        raise VerificationError("signature algorithm %s: parameters must be absent"
                                % scheme.label)
    signature, tbs = bytes(signature), bytes(tbs)
    try:
        _dispatch(scheme, public_key, signature_algorithm_params, signature, tbs, hash_algorithm)
    except (InvalidSignature, ValueError):
        raise SignatureInvalid(scheme.label) from None


def _dispatch(scheme, public_key, params, signature, tbs, hash_algorithm):
    kind = scheme.kind
    if kind == "ecdsa":
        public_key.verify(signature, tbs, ec.ECDSA(scheme.hash()))
    elif kind == "rsa":
        public_key.verify(signature, tbs, padding.PKCS1v15(), scheme.hash())
    elif kind == "rsa-pss":
        pad, digest = _pss_padding(params, hash_algorithm)
        public_key.verify(signature, tbs, pad, digest)
    elif kind in ("ed25519", "ed448"):
        public_key.verify(signature, tbs)
    elif kind in ("ml-dsa", "slh-dsa"):
        # Pure mode, empty context (RFC 9881 / RFC 9909 for X.509).
        try:
            get_algorithm(scheme.algorithm).verify(public_key, signature, tbs)
        except VerificationError:
            raise InvalidSignature() from None
    elif kind == "composite":
        try:
            public_key.verify(signature, tbs, ctx=b"")
        except VerificationError as exc:
            raise SignatureInvalid(scheme.label, str(exc)) from None
    else:  # pragma: no cover - every Scheme kind is handled above
        raise VerificationError("unsupported signature algorithm %s" % scheme.label)


# --------------------------------------------------------------------------
# Certificates, CRLs, CSRs
# --------------------------------------------------------------------------

_SPECS = {}


def _specs():
    """The two pyasn1 spec classes of the functions below, made on first use
    (pyasn1 is not loaded at start-up): ``signed`` reads a Certificate,
    CertificateList or CertificationRequest with the body left opaque,
    ``fields`` a SEQUENCE as its raw component TLVs, none decoded further."""
    if not _SPECS:
        from pyasn1.type import namedtype, univ
        from pyasn1_modules import rfc5280

        class _Signed(univ.Sequence):
            componentType = namedtype.NamedTypes(
                namedtype.NamedType("tbs", univ.Any()),
                namedtype.NamedType("signatureAlgorithm", rfc5280.AlgorithmIdentifier()),
                namedtype.NamedType("signature", univ.BitString()),
            )

        class _Fields(univ.SequenceOf):
            componentType = univ.Any()

        _SPECS.update(signed=_Signed, fields=_Fields)
    return _SPECS


def signed_spec():
    """A pyasn1 spec for any signed object (certificate, CRL, request): its
    signed body as raw bytes, its signatureAlgorithm and its signature."""
    return _specs()["signed"]()


def _outer_algorithm(der, what):
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error

    try:
        signed, rest = decoder.decode(der, asn1Spec=signed_spec())
    except PyAsn1Error:
        raise InputError("malformed %s" % what) from None
    if rest:
        raise InputError("malformed %s: trailing data" % what)
    return signed["signatureAlgorithm"]


def _inner_algorithm(tbs, what):
    """The AlgorithmIdentifier inside a TBSCertificate or TBSCertList.

    It is the first SEQUENCE among the body's fields: in a certificate it
    follows the [0] version and the serial INTEGER, in a CRL the optional
    version INTEGER. Only that field is decoded, so large CRLs stay cheap.
    """
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error
    from pyasn1_modules import rfc5280

    try:
        fields, dummy = decoder.decode(tbs, asn1Spec=_specs()["fields"]())
        for field in fields:
            raw = bytes(field)
            if raw[:1] == b"\x30":
                algorithm, rest = decoder.decode(raw, asn1Spec=rfc5280.AlgorithmIdentifier())
                if not rest:
                    return algorithm
                break
    except PyAsn1Error:
        pass
    raise InputError("malformed %s" % what)


def _params_der(algorithm_identifier):
    params = algorithm_identifier["parameters"]
    return bytes(params) if params.isValue else b""


def _signature_inputs(obj, der, tbs, has_inner, what):
    """(oid, params, hash) for ``obj`` after checking that the outer
    signatureAlgorithm equals the one inside the signed body."""
    from pyasn1.codec.der import encoder

    outer = _outer_algorithm(der, what)
    if has_inner:
        inner = _inner_algorithm(tbs, what)
        if encoder.encode(inner) != encoder.encode(outer):
            raise VerificationError(
                "%s: signatureAlgorithm %s differs from the signature field %s of the signed part"
                % (what, signature_algorithm_name(str(outer["algorithm"])),
                   signature_algorithm_name(str(inner["algorithm"]))))
    oid = str(outer["algorithm"])
    params = _params_der(outer)
    digest = None
    try:
        native = obj.signature_algorithm_parameters
        digest = obj.signature_hash_algorithm
        if isinstance(native, padding.PSS):
            params = native
    except (UnsupportedAlgorithm, ValueError):
        pass
    return oid, params, digest


def _check(obj, der, tbs, has_inner, what, public_key, key_role, on_invalid):
    oid, params, digest = _signature_inputs(obj, der, tbs, has_inner, what)
    try:
        verify_signature(public_key, oid, params, obj.signature, tbs,
                         hash_algorithm=digest, key_role=key_role)
    except SignatureInvalid as exc:
        raise VerificationError(on_invalid(exc.detail)) from None
    except VerificationError as exc:
        raise VerificationError("%s: %s" % (what, exc)) from None


def _der(obj):
    return obj.public_bytes(serialization.Encoding.DER)


def verify_certificate_signature(cert, issuer_public_key, issuer_name=None):
    """Check ``cert``'s signature with its issuer's public key.

    ``issuer_name`` (a Name) is only used in messages; default cert.issuer.
    """
    what = "certificate %s" % describe_name(cert.subject)
    issuer = describe_name(issuer_name if issuer_name is not None else cert.issuer)
    _check(cert, _der(cert), cert.tbs_certificate_bytes, True, what,
           issuer_public_key, "issuer",
           lambda detail: "%s: signature does not verify with issuer %s (%s)"
           % (what, issuer, detail))


def verify_crl_signature(crl, issuer_public_key):
    """Check a CRL's signature with its issuer's public key."""
    what = "CRL of %s" % describe_name(crl.issuer)
    _check(crl, _der(crl), crl.tbs_certlist_bytes, True, what,
           issuer_public_key, "issuer",
           lambda detail: "%s: signature does not verify (%s)" % (what, detail))


def verify_csr_signature(csr):
    """Check a PKCS#10 request's self-signature with its own public key."""
    what = "certificate request %s" % describe_name(csr.subject)
    try:
        public_key = public_key_of_csr(csr)
    except QpkiError as exc:
        raise VerificationError("%s: %s" % (what, exc)) from None
    _check(csr, _der(csr), csr.tbs_certrequest_bytes, False, what, public_key, "subject",
           lambda detail: "%s: signature does not verify (%s)" % (what, detail))
