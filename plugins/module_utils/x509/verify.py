"""Certificate path validation and CRL checks, with a result instead of errors.

``verify`` judges a certificate under a VerifyPolicy with one of two
engines that share the policy and the rules (see verify_policy):

- "cryptography": cryptography's verifier builds the path, for the classical
  chains it implements (engine_pyca.unsupported_reason says which);
- "qpki": our own bounded path building and RFC 5280 validation, for
  everything else (PQC, composite, catalyst, Ed25519, self-issued
  intermediates, directoryName/URI constraints, no time check).

"auto" (the default) takes cryptography's whenever it applies. Invalid
signatures, expiry, revocation, missing issuers and every other broken rule
give a VerifyResult with ``valid=False`` and the rule's name; only malformed
input raises (InputError / UsageError).
"""

from __future__ import annotations

import datetime

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ..errors import InputError, UsageError
from .engine_native import verify_native
from .parse import load_certificate, load_crl
from .revocation import crl_failures
from .verify_policy import DEFAULT_MAX_DEPTH, Budget, VerifyPolicy, parse_ip, utc_moment
from .verify_result import Findings, VerifyResult

ENGINES = ("auto", "cryptography", "qpki")


def _as_certificate(obj, where: str) -> x509.Certificate:
    if isinstance(obj, x509.Certificate):
        return obj
    if isinstance(obj, (bytes, bytearray, str)):
        return load_certificate(obj, where, extensions=False)
    raise InputError(f"{where}: not a certificate ({type(obj).__name__})")


def _as_crl(obj, where: str) -> x509.CertificateRevocationList:
    if isinstance(obj, x509.CertificateRevocationList):
        return obj
    if isinstance(obj, (bytes, bytearray, str)):
        return load_crl(obj, where)
    raise InputError(f"{where}: not a CRL ({type(obj).__name__})")


def choose_engine(leaf: x509.Certificate, policy: VerifyPolicy, engine: str = "auto") -> str:
    """The engine that will judge: "cryptography" or "qpki"."""
    if engine not in ENGINES:
        raise UsageError(f"unknown verification engine {engine!r} (use one of "
                         f"{', '.join(ENGINES)})")
    if engine == "qpki":
        return engine
    from .engine_pyca import unsupported_reason

    reason = unsupported_reason(leaf, policy)
    if reason is None:
        return "cryptography"
    if engine == "cryptography":
        raise UsageError(f"cryptography's verifier cannot judge this chain: {reason}")
    return "qpki"


def verify(leaf: x509.Certificate, policy: VerifyPolicy, engine: str = "auto") -> VerifyResult:
    """Judge ``leaf`` under ``policy`` (see choose_engine for ``engine``)."""
    if choose_engine(leaf, policy, engine) == "cryptography":
        from .engine_pyca import verify_pyca

        return verify_pyca(leaf, policy)
    return verify_native(leaf, policy)


def verify_certificate(cert, trusted, untrusted=(), crls=(), at=None, check_time=True,
                       classical_only=False, *, purpose: str | None = None,
                       host: str | None = None, ip=None, email: str | None = None,
                       max_depth: int = DEFAULT_MAX_DEPTH, budget: Budget | None = None,
                       web_pki: bool = False, engine: str = "auto") -> VerifyResult:
    """Validate ``cert`` up to one of ``trusted`` and return a VerifyResult.

    Certificates and CRLs may be objects or PEM/DER bytes. ``untrusted`` are
    intermediate candidates, ``crls`` CRLs to consult, ``at`` the moment to
    judge at (default now; naive means UTC), ``check_time`` false skips
    notBefore/notAfter and CRL nextUpdate, ``classical_only`` skips catalyst
    alternative signatures (a legacy client); ``purpose``, ``host``, ``ip``
    and ``email`` are what the leaf must be good for; ``web_pki`` adds the
    CA/Browser Forum rules.
    """
    leaf = _as_certificate(cert, "certificate")
    policy = VerifyPolicy(
        trusted=tuple(_as_certificate(c, "trusted certificate") for c in trusted),
        intermediates=tuple(_as_certificate(c, "untrusted certificate") for c in untrusted),
        crls=tuple(_as_crl(c, "CRL") for c in crls), at=utc_moment(at),
        check_time=check_time, classical_only=classical_only, purpose=purpose, host=host,
        ip=ip if ip is None or not isinstance(ip, str) else parse_ip(ip), email=email,
        max_depth=max_depth, budget=budget or Budget(), web_pki=web_pki)
    return verify(leaf, policy, engine)


def verify_crl(crl, issuer_cert, at: datetime.datetime | None = None, check_time: bool = True,
               classical_only: bool = False) -> VerifyResult:
    """Check a CRL against its issuer's certificate: name and key identifier,
    cRLSign, signature, CRLNumber, thisUpdate <= at and (with check_time)
    at <= nextUpdate."""
    crl = _as_crl(crl, "CRL")
    issuer_cert = _as_certificate(issuer_cert, "issuer certificate")
    findings = Findings()
    crl_failures(crl, issuer_cert, utc_moment(at), check_time, findings, classical_only)
    return findings.result([issuer_cert.subject.rfc4514_string()], "qpki")
