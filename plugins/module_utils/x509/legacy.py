"""Finding the legacy (pre-draft-13) composite form in certificates, CRLs and CSRs.

qpki reads QPKI's pre-draft-13 composite construction (see
algorithms/composite_legacy.py) and never writes it. Whatever reads such an
object says so: ``legacy_findings`` gives one line per object naming the
parts (public key, signature) in that form, for ``info`` output and for the
notes of a verification (ops/describe/legacy.py turns them into a strict failure).
"""

from ..errors import QpkiError
from .parse import certificate_spki_der, composite_module, csr_spki_der
from .signature import describe_name

# Every composite OID (draft-13 section 7) lies under this arc: other OIDs are
# ruled out without loading the composite tables.
_COMPOSITE_ARC = "1.3.6.1.5.5.7.6."
LEGACY_NOTE = "not a standard encoding: qpki reads it and never writes it"
LEGACY, DRAFT13 = "legacy", "draft-13"  # values of ``composite_form``


def _params(oid):
    oid = getattr(oid, "dotted_string", oid)
    if not str(oid).startswith(_COMPOSITE_ARC):
        return None
    composite = composite_module()
    return composite.params_by_oid(str(oid)) if composite is not None else None


def _spki_of(obj):
    """The SubjectPublicKeyInfo of a certificate or request (also a
    ReencodedCsr, which is no cryptography class)."""
    if hasattr(obj, "tbs_certrequest_bytes"):
        return csr_spki_der(obj)
    return certificate_spki_der(obj)


def _composite_parts(obj):
    """{part: legacy?} for the composite parts ("public key", "signature")
    of a certificate, CRL or CSR. Nothing is loaded for other objects."""
    parts = {}
    key_oid = getattr(obj, "public_key_algorithm_oid", None)
    params = _params(key_oid) if key_oid is not None else None
    if params is not None:
        from ..algorithms.composite_legacy import is_legacy_encoding
        from ..algorithms.spki import split_spki

        try:
            _oid, raw = split_spki(_spki_of(obj))
        except QpkiError:
            raw = b""
        parts["public key"] = is_legacy_encoding(raw, params, "public key")
    params = _params(obj.signature_algorithm_oid)
    if params is not None:
        from ..algorithms.composite_legacy import is_legacy_encoding

        parts["signature"] = is_legacy_encoding(obj.signature, params, "signature")
    return parts


def legacy_parts(obj):
    """The parts of a certificate, CRL or CSR in the legacy composite form:
    a list drawn from ``"public key"`` and ``"signature"``."""
    return [part for part, legacy in _composite_parts(obj).items() if legacy]


def composite_form(obj):
    """``"legacy"`` when a composite part of ``obj`` is in the pre-draft-13
    form, ``"draft-13"`` when its composite parts are all draft-13, None
    when it has no composite key or signature."""
    parts = _composite_parts(obj)
    if not parts:
        return None
    return LEGACY if any(parts.values()) else DRAFT13


def describe(obj):
    """"certificate CN=x", "CRL of CN=x" or "certificate request CN=x"."""
    from cryptography import x509

    if isinstance(obj, x509.CertificateRevocationList):
        return "CRL of %s" % describe_name(obj.issuer)
    if isinstance(obj, x509.Certificate):
        return "certificate %s" % describe_name(obj.subject)
    return "certificate request %s" % describe_name(obj.subject)


def legacy_findings(obj):
    """One line per legacy object (here: 0 or 1), e.g. "certificate CN=CA:
    public key and signature in QPKI's pre-draft-13 composite form (...)"."""
    parts = legacy_parts(obj)
    if not parts:
        return []
    from ..algorithms.composite_legacy import legacy_construction

    oid = obj.signature_algorithm_oid if "signature" in parts else obj.public_key_algorithm_oid
    construction = legacy_construction(_params(oid))
    producer = "%s's " % construction.producer if construction is not None else ""
    return ["%s: %s in %spre-draft-13 composite form (%s)"
            % (describe(obj), " and ".join(parts), producer, LEGACY_NOTE)]
