"""csr info and csr verify: reading a certificate request, whoever made it.

Both read every request the CA reads (classical, ML-DSA, SLH-DSA, catalyst
in either attribute convention, composite draft-13 or QPKI's legacy form,
BER that is not DER). ``csr info`` describes without judging; ``csr verify``
checks the self-signature and, for a catalyst request, the alternative
proof of possession, and names everything that is not standard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import QpkiError, VerificationError
from ...x509.parse import load_csr, public_key_of_csr
from .results import CsrInfo, CsrVerdict

if TYPE_CHECKING:
    from cryptography import x509

_ATTRIBUTE_NAMES = {
    "1.2.840.113549.1.9.14": "extensionRequest",
    "1.2.840.113549.1.9.7": "challengePassword",
    "1.2.840.113549.1.9.2": "unstructuredName",
}


def _attribute_name(oid: str) -> str:
    from ...x509 import catalyst

    if oid in catalyst.NAMES:
        return catalyst.NAMES[oid]
    role = catalyst.QPKI_CSR.oids.get(oid)
    if role is not None:
        return "%s (QPKI, non-standard OID)" % catalyst.NAMES[role]
    return _ATTRIBUTE_NAMES.get(oid, oid)


def _catalyst_fields(csr: x509.CertificateSigningRequest) -> dict[str, Any]:
    """Convention and attribute OIDs of a catalyst request (not verified),
    by the names of CsrInfo's fields."""
    from ...x509 import catalyst
    from ...x509.signature import signature_algorithm_name

    try:
        found = catalyst.csr_catalyst(csr.tbs_certrequest_bytes)
    except QpkiError as exc:
        return {"hybrid": "catalyst", "catalyst_problem": str(exc)}
    if found is None:
        return {}
    out: dict[str, Any] = {
        "hybrid": "catalyst", "catalyst_convention": found.convention.name,
        "catalyst_standard": found.convention.standard,
        "catalyst_attribute_oids": [oid for oid in found.convention.oids
                                    if found.convention.oids[oid] in found.values]}
    try:
        algorithm = found.values.get(catalyst.ALT_SIGNATURE_ALGORITHM)
        if algorithm is not None:
            out["alt_signature_algorithm"] = signature_algorithm_name(
                catalyst.decode_alt_signature_algorithm(algorithm)[0])
        key = found.values.get(catalyst.SUBJECT_ALT_PUBLIC_KEY_INFO)
        if key is not None:
            out["alt_public_key_algorithm"] = signature_algorithm_name(
                catalyst.decode_alt_public_key(key)[0])
    except QpkiError as exc:
        out["catalyst_problem"] = str(exc)
    return out


def _non_standard(csr: x509.CertificateSigningRequest,
                  catalyst_fields: dict[str, Any]) -> list[str]:
    """What in ``csr`` is not standard, apart from the legacy composite form."""
    from ...x509.csr_reencoded import NOT_DER_NOTE
    from ...x509.legacy import describe

    found = []
    if getattr(csr, "reencoded", False):
        found.append("%s: %s" % (describe(csr), NOT_DER_NOTE))
    if catalyst_fields.get("catalyst_standard") is False:
        found.append("%s: catalyst attributes under %s"
                     % (describe(csr), catalyst_fields["catalyst_convention"]))
    return found


def describe_csr(csr: x509.CertificateSigningRequest) -> CsrInfo:
    from ...x509.legacy import composite_form, legacy_findings
    from ...x509.signature import signature_algorithm_name
    from ..describe.objects import _public_key_name
    from ..describe.extensions import describe_extensions

    try:
        extensions = describe_extensions(csr.extensions)
    except ValueError as exc:
        extensions = [{"name": "malformed", "oid": None, "critical": False, "value": str(exc)}]
    catalyst_fields = _catalyst_fields(csr)
    result = CsrInfo(
        changed=False,
        subject=csr.subject.rfc4514_string(),
        public_key_algorithm=_public_key_name(csr, public_key_of_csr),
        signature_algorithm=signature_algorithm_name(csr.signature_algorithm_oid.dotted_string),
        extensions=extensions,
        attributes=[{"oid": a.oid.dotted_string, "name": _attribute_name(a.oid.dotted_string)}
                    for a in csr.attributes],
        encoding="BER (not DER)" if getattr(csr, "reencoded", False) else "DER",
        **catalyst_fields,
        non_standard=_non_standard(csr, catalyst_fields))
    result.composite_form = composite_form(csr)
    if result.composite_form is not None:
        result.hybrid = result.hybrid or "composite"
        result.legacy_composite = legacy_findings(csr)
    return result


def csr_info(csr_data: bytes, where: str) -> CsrInfo:
    """What a request holds (no signature is checked)."""
    return describe_csr(load_csr(csr_data, where))


def csr_verify(csr_data: bytes, where: str, strict: bool = False) -> CsrVerdict:
    """Check a request's self-signature and, for a catalyst request, its
    alternative proof of possession. ``strict`` refuses what is not
    standard: the legacy composite form, QPKI's catalyst attributes, BER."""
    from ...x509.catalyst_verify import check_catalyst_csr
    from ...x509.legacy import legacy_findings
    from ...x509.signature import signature_algorithm_name, verify_csr_signature
    from ..describe.legacy import legacy_verdict

    csr = load_csr(csr_data, where)
    failures: list[str] = []
    details: list[str] = []
    try:
        verify_csr_signature(csr)
        details.append("self-signature (%s) verified"
                       % signature_algorithm_name(csr.signature_algorithm_oid.dotted_string))
    except VerificationError as exc:
        failures.append(str(exc))
    try:  # checked even when the self-signature fails, so both verdicts are shown
        found = check_catalyst_csr(csr)
        if found is not None:
            details.append("alternative signature (%s) verified with the requested "
                           "alternative key; attributes: %s"
                           % (found.alt_signature_algorithm, found.convention.name))
    except VerificationError as exc:
        failures.append(str(exc))
    non_standard = _non_standard(csr, _catalyst_fields(csr))
    verdict = legacy_verdict(not failures, failures[0] if failures else "ok",
                             legacy_findings(csr), strict, non_standard)
    return CsrVerdict(changed=False, valid=verdict.valid, reason=verdict.reason,
                      subject=csr.subject.rfc4514_string(), details=failures + details,
                      legacy_composite=verdict.legacy_composite, strict=strict,
                      non_standard=non_standard)
