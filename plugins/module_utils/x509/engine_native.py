"""Our own engine: bounded path building (chain.PathSearch) and RFC 5280
path validation (path_judge.PathJudge). It handles every chain, whatever its
algorithms: ML-DSA, SLH-DSA, composite, both signatures of catalyst
certificates, Ed25519/Ed448, and the cases cryptography's verifier does not
cover (self-issued intermediates, directoryName/URI name constraints,
verification without a time check)."""

from __future__ import annotations

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from .chain import PathSearch, is_self_issued
from .path_judge import PathJudge
from .signature import describe_name
from .verify_policy import VerifyPolicy
from .verify_result import Findings, VerifyResult
from .verify_rules import Failure

ENGINE = "qpki"


def verify_native(leaf: x509.Certificate, policy: VerifyPolicy) -> VerifyResult:
    budget = policy.budget
    search = PathSearch(leaf, policy.trusted, policy.intermediates, at=policy.at,
                        max_depth=policy.max_depth, limits=budget)
    judge = PathJudge(policy)
    first_failure = None
    for tried, path in enumerate(search.paths(), start=1):
        result = judge.judge(path, ENGINE)
        if result.valid:
            return result
        first_failure = first_failure or result
        if tried >= budget.paths:
            break
    return first_failure or _no_path(leaf, policy, search)


def _no_path(leaf: x509.Certificate, policy: VerifyPolicy, search: PathSearch
             ) -> VerifyResult:
    details = list(search.problems)
    if not policy.trusted:
        details.insert(0, "no trusted certificates given")
    for dead_end in search.dead_ends:
        line = (f"self-signed certificate {describe_name(dead_end.subject)} is not trusted"
                if is_self_issued(dead_end) else
                f"no certificate found for issuer {describe_name(dead_end.issuer)} of "
                f"{describe_name(dead_end.subject)}")
        if line not in details:
            details.append(line)
    findings = Findings()
    if search.budget.spent:
        findings.add(Failure("chain.budget", f"path building {search.budget.spent}"))
    elif search.signature_problems:
        findings.add(Failure("signature.invalid", search.signature_problems[0]))
    elif search.key_problems:
        findings.add(Failure("key.unusable", search.key_problems[0]))
    elif search.too_deep:
        findings.add(Failure("chain.max_depth", f"no path to a trusted root within "
                                                f"{policy.max_depth} intermediate CAs"))
    else:
        reason = f" ({details[0]})" if details else ""
        findings.add(Failure("chain.no_path", f"no path to a trusted root{reason}"))
    result = findings.result([leaf.subject.rfc4514_string()], ENGINE)
    result.details = [result.reason] + [line for line in details if line != result.reason]
    return result
