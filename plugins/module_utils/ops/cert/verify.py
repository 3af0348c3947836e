"""Verifying a certificate for a caller: the CLI, the modules, OCSP, lifecycle.

``verify_chain`` takes the certificate, anchors, intermediates and CRLs as
PEM/DER bytes (or objects), what the certificate must be good for (purpose,
host, IP address, e-mail) and returns the typed x509.verify_result.VerifyResult;
``verify_summary`` (qpki_cert_info) and ``cert_verdict`` (cert verify) turn
it into the results the front ends show.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...store.metafile import utc_text
from ...x509.verify_policy import DEFAULT_MAX_DEPTH
from ...x509.verify_result import stamp
from .results import CertVerdict, ChainVerification

if TYPE_CHECKING:
    from ...x509.verify_result import VerifyResult


def verify_chain(cert_data: bytes, ca_data: bytes, untrusted_data: bytes | None = None,
                 crl_data: Iterable[bytes] = (), *,
                 at: datetime.datetime | None = None, purpose: str | None = None,
                 host: str | None = None, ip: str | None = None, email: str | None = None,
                 max_depth: int = DEFAULT_MAX_DEPTH, web_pki: bool = False,
                 engine: str = "auto", classical_only: bool = False,
                 where: str = "certificate") -> VerifyResult:
    """A VerifyResult for the certificate in ``cert_data`` against the
    anchors in ``ca_data`` (one or more certificates, PEM or DER), with the
    intermediates in ``untrusted_data`` and the CRLs in ``crl_data`` (a list
    of PEM/DER CRLs)."""
    from ...x509.parse import load_certificate, load_certificates, load_crl
    from ...x509.verify import verify_certificate

    cert = load_certificate(cert_data, where, extensions=False)
    trusted = load_certificates(ca_data, "--ca", extensions=False)
    untrusted = (load_certificates(untrusted_data, "--untrusted", extensions=False)
                 if untrusted_data else [])
    crls = [load_crl(data, "--crl") for data in crl_data or ()]
    return verify_certificate(cert, trusted, untrusted, crls, at=at,
                              classical_only=classical_only, purpose=purpose, host=host,
                              ip=ip, email=email, max_depth=max_depth, web_pki=web_pki,
                              engine=engine)


def _outcome(result: VerifyResult) -> dict[str, Any]:
    """The fields of ChainVerification and CertVerdict that come from ``result``."""
    return {"valid": result.valid, "reason": result.reason, "rule": result.rule,
            "failures": [failure.as_dict() for failure in result.failures],
            "path": list(result.path), "engine": result.engine, "revoked": result.revoked,
            "details": list(result.details), "revocation_reason": result.revocation_reason,
            "revocation_date": (stamp(result.revocation_date)
                                if result.revocation_date is not None else None)}


def _at_text(at: datetime.datetime | None) -> str:
    return utc_text(at or datetime.datetime.now(datetime.timezone.utc))


def verify_summary(result: VerifyResult, at: datetime.datetime | None = None, *,
                   purpose: str | None = None, host: str | None = None, ip: str | None = None,
                   email: str | None = None) -> ChainVerification:
    """The result as qpki_cert_info reports it, with what was checked
    (purpose, host, ...), leaving out what was not given."""
    return ChainVerification(**_outcome(result), legacy=list(result.legacy), at=_at_text(at),
                             purpose=purpose, host=host, ip=ip, email=email)


def cert_verdict(result: VerifyResult, at: datetime.datetime | None, strict: bool, *,
                 classical_only: bool, web_pki: bool, purpose: str | None = None,
                 host: str | None = None, ip: str | None = None,
                 email: str | None = None) -> CertVerdict:
    """cert verify's result: ``result``, how it was checked and, under
    ``strict``, a failure when the legacy composite form is on the path."""
    from ..describe.legacy import legacy_verdict

    outcome = _outcome(result)
    verdict = legacy_verdict(result.valid, result.reason, result.legacy, strict)
    outcome.update(valid=verdict.valid, reason=verdict.reason)
    return CertVerdict(changed=False, **outcome, at=_at_text(at), classical_only=classical_only,
                       web_pki=web_pki, purpose=purpose, host=host, ip=ip, email=email,
                       legacy_composite=verdict.legacy_composite, strict=strict)
