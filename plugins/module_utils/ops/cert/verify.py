"""Verifying a certificate for a caller: the CLI, the modules, OCSP, lifecycle.

``verify_chain`` takes the certificate, anchors, intermediates and CRLs as
PEM/DER bytes (or objects), what the certificate must be good for (purpose,
host, IP address, e-mail) and returns the typed x509.verify_result.VerifyResult;
``verify_summary`` turns it into the plain dict the front ends print.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ...store.metafile import utc_text
from ...x509.verify_policy import DEFAULT_MAX_DEPTH

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


def verify_summary(result: VerifyResult, at: datetime.datetime | None = None, **asked: object) -> dict:
    """The result as front ends show it; ``asked`` echoes what was checked
    (purpose, host, ...), leaving out what was not given."""
    summary = {"changed": False, **result.as_dict()}
    for key in ("revocation_reason", "revocation_date"):
        if summary[key] is None:
            del summary[key]
    summary["at"] = utc_text(at or datetime.datetime.now(datetime.timezone.utc))
    summary.update({key: value for key, value in asked.items() if value is not None})
    return summary
