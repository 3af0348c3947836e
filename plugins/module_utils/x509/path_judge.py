"""Judging one certification path (RFC 5280 section 6.1) under a VerifyPolicy.

Both engines end here: engine_native judges each path its own search
builds, engine_pyca the path cryptography's verifier returns, so every path
accepted by either engine has held to the same rules. The signatures of the
path are checked by whoever built it; the rest is here:

- each certificate by its role (cert_rules: structure, keys, identifiers,
  CA flags, the issuers' extendedKeyUsage, the leaf's names and purpose);
- validity of every certificate at the verification time, anchor included;
- pathLenConstraint and the policy's max_depth, self-issued intermediates
  not counted (RFC 5280 6.1.4 (l) and (m));
- name constraints of every CA, the anchor's included, over the names of
  every certificate below it but self-issued intermediates;
- certificate policies when a CA requires an explicit one (cert_policies);
- catalyst alternative signatures (unless classical_only);
- revocation on the CRLs given.
"""

from __future__ import annotations

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from .catalyst_verify import add_path_findings
from .cert_policies import policy_failures
from .cert_rules import ANCHOR, CA, LEAF, certificate_failures, label_of
from .chain import MALFORMED, der_of, find_extension, is_self_issued
from .legacy import legacy_findings
from .name_constraints import constrained_names, name_count, name_failure, work
from .revocation import check_revocation
from .verify_policy import VerifyPolicy
from .verify_result import Findings, VerifyResult, stamp
from .verify_rules import Failure


def roles_of(path: list) -> list[str]:
    """Leaf first, anchor last; a trusted leaf (a path of one) is a leaf."""
    if len(path) == 1:
        return [LEAF]
    return [LEAF] + [CA] * (len(path) - 2) + [ANCHOR]


class PathJudge:
    """Applies the policy's rules; remembers per-certificate verdicts, which
    cryptography's path builder may ask for several times."""

    def __init__(self, policy: VerifyPolicy) -> None:
        self.policy = policy
        self._verdicts: dict[tuple[bytes, str], list[Failure]] = {}

    def certificate_failures(self, cert: x509.Certificate, role: str) -> list[Failure]:
        key = (der_of(cert), role)
        if key not in self._verdicts:
            self._verdicts[key] = certificate_failures(cert, role, self.policy)
        return self._verdicts[key]

    def judge(self, path: list, engine: str) -> VerifyResult:
        roles = roles_of(path)
        labels = [label_of(cert, role) for cert, role in zip(path, roles, strict=False)]
        findings = Findings()
        for cert, role in zip(path, roles, strict=False):
            findings.add(self.certificate_failures(cert, role))
        if self.policy.check_time:
            for cert, label in zip(path, labels, strict=False):
                findings.add(time_failure(cert, label, self.policy.at))
        findings.add(self._depth_failures(path, labels))
        findings.add(self.name_constraint_failures(path, labels))
        findings.add(policy_failures(path, labels))
        if not self.policy.classical_only:
            try:
                add_path_findings(path, findings)
            except MALFORMED:
                pass  # undecodable extensions: cert.malformed says so already
        for cert in path:
            findings.legacy.extend(legacy_findings(cert))
        check_revocation(path, self.policy.crls, self.policy.at, self.policy.check_time,
                         findings, self.policy.classical_only, labels)
        return findings.result([cert.subject.rfc4514_string() for cert in path], engine)

    def _depth_failures(self, path: list, labels: list[str]) -> list[Failure]:
        failures = []
        below = 0  # non-self-issued intermediates between the leaf and path[index]
        for index in range(1, len(path)):
            issuer = path[index]
            constraints = find_extension(issuer, x509.BasicConstraints)
            limit = constraints.value.path_length if constraints is not None else None
            if limit is not None and below > limit:
                failures.append(Failure("basic_constraints.path_length",
                                        f"{labels[index]}: pathLenConstraint {limit} exceeded "
                                        f"({below} CA certificate{'' if below == 1 else 's'} "
                                        "below it)"))
            if index < len(path) - 1 and not is_self_issued(issuer):
                below += 1
        if below > self.policy.max_depth:
            failures.append(Failure("chain.max_depth", f"the path has {below} intermediate CA "
                                                       f"certificates, more than the "
                                                       f"{self.policy.max_depth} allowed"))
        return failures

    def name_constraint_failures(self, path: list, labels: list[str]) -> list[Failure]:
        failures = []
        for index in range(1, len(path)):
            extension = find_extension(path[index], x509.NameConstraints)
            if extension is None:
                continue
            constraints = extension.value
            below = [(cert, labels[j]) for j, cert in enumerate(path[:index])
                     if j == 0 or not is_self_issued(cert)]
            if work(constraints, sum(name_count(cert) for cert, _label in below)) > \
                    self.policy.budget.name_checks:
                failures.append(too_complex(labels[index]))
                continue
            for cert, label in below:
                failure = name_failure(constraints, constrained_names(cert), labels[index],
                                       label)
                if failure is not None:
                    failures.append(failure)
        return failures


def time_failure(cert: x509.Certificate, label: str, at) -> Failure | None:
    if at < cert.not_valid_before_utc:
        return Failure("validity.not_yet_valid", f"{label} is not yet valid (notBefore "
                                                 f"{stamp(cert.not_valid_before_utc)})")
    if at > cert.not_valid_after_utc:
        return Failure("validity.expired", f"{label} has expired (notAfter "
                                           f"{stamp(cert.not_valid_after_utc)})")
    return None


def too_complex(ca_label: str) -> Failure:
    return Failure("name_constraints.too_complex", f"{ca_label}: checking its name "
                                                   "constraints against the names below "
                                                   "would take too much work")
