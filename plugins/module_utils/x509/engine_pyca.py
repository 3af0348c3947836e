"""cryptography's verifier (``cryptography.x509.verification``) as an engine.

It builds and checks classical chains (ECDSA on P-256/384/521 and RSA
PKCS#1 v1.5 with SHA-2, the set it implements): signatures, basicConstraints
and pathLenConstraint, validity, dNSName/iPAddress/rfc822Name constraints,
depth, with its own limits on work. Our rules ride along: every certificate
it considers is judged by cert_rules from inside its path builder (extension
validator callbacks, so a candidate that breaks a rule is dropped and
another tried), and the path it returns is judged again as a whole by
path_judge (revocation, every name-constraint form, ...) exactly as our own
engine judges its paths. Its extension policies start from "permit all":
what cryptography would refuse on Web PKI grounds alone is left to our
rules.

``unsupported_reason`` says when a chain must go to engine_native instead.
"""

from __future__ import annotations

import re

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509 import verification
except ImportError:
    x509 = ec = verification = missing()

from ..errors import InputError
from .catalyst_verify import has_alt_signature
from .cert_policies import policy_mappings
from .cert_rules import ANCHOR, CA, LEAF, label_of
from .chain import MALFORMED, der_of, find_extension, is_self_issued
from .name_constraints import name_count, work
from .path_judge import PathJudge, time_failure, too_complex
from .verify_policy import VerifyPolicy
from .verify_result import Findings, VerifyResult
from .verify_rules import Failure, RuleViolation, most_telling

ENGINE = "cryptography"

_SIGNATURES = {"1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4",
               "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13"}
_RSA_KEY = "1.2.840.113549.1.1.1"
_CURVES = {"secp256r1", "secp384r1", "secp521r1"}
_CONSTRAINT_FORMS = (x509.DNSName, x509.IPAddress, x509.RFC822Name)
# cryptography's own refusals, by the words of its messages.
_MESSAGES = [
    ("signature does not match", "signature.invalid"),
    ("issuer has malformed public key", "key.unusable"),
    ("RSA key is too weak", "key.weak"),
    ("Forbidden", "key.weak"),
    ("path length constraint", "basic_constraints.path_length"),
    ("basicConstraints", "basic_constraints.not_ca"),
    ("maximum depth", "chain.max_depth"),
    ("name constraint check limit", "name_constraints.too_complex"),
    ("signature check limit", "chain.budget"),
    ("no permitted name constraints matched", "name_constraints.permitted"),
    ("excluded name constraint", "name_constraints.excluded"),
    ("name constraint", "name_constraints.malformed"),
    ("unaccounted-for critical extensions", "cert.unknown_critical_extension"),
    ("incorrect criticality", "cert.extension_criticality"),
    ("X509v3", "cert.version"),
    ("serial", "cert.serial"),
    ("non-empty Issuer", "cert.issuer_empty"),
    ("mismatch between signatureAlgorithm", "signature.invalid"),
    ("candidates exhausted", "chain.no_path"),
]
_OURS = re.compile(r"RuleViolation: ([a-z_]+\.[a-z_]+): (.*?)(?: \(encountered processing|$)")


def unsupported_reason(leaf: x509.Certificate, policy: VerifyPolicy) -> str | None:
    """Why cryptography's verifier cannot judge this input as we would, or
    None when it can."""
    if not policy.check_time:
        return "verification without a time check"
    if not policy.trusted:
        return "no trust anchor"
    signed = [leaf, *policy.intermediates]
    issuers = [*policy.intermediates, *policy.trusted]
    for cert in signed:
        if cert.signature_algorithm_oid.dotted_string not in _SIGNATURES:
            return f"signature algorithm {cert.signature_algorithm_oid.dotted_string}"
    for cert in issuers:
        if not _key_supported(cert):
            return f"public key algorithm of {cert.subject.rfc4514_string()}"
        constraints = find_extension(cert, x509.NameConstraints)
        if constraints is not None and any(
                not isinstance(subtree, _CONSTRAINT_FORMS)
                for subtree in (constraints.value.permitted_subtrees or [])
                + (constraints.value.excluded_subtrees or [])):
            return "name constraints on directoryName, URI or other forms"
    if any(policy_mappings(cert) for cert in issuers):
        return "policy mappings"
    if any(is_self_issued(cert) for cert in policy.intermediates):
        return "self-issued intermediates (pathLenConstraint does not count them)"
    if not policy.classical_only and any(_may_be_catalyst(c) for c in signed):
        return "catalyst alternative signatures"
    return None


def _may_be_catalyst(cert: x509.Certificate) -> bool:
    try:
        return has_alt_signature(cert)
    except (*MALFORMED, InputError):
        return True  # cannot tell: our engine reads it and reports what is wrong


def _key_supported(cert: x509.Certificate) -> bool:
    oid = cert.public_key_algorithm_oid.dotted_string
    if oid == _RSA_KEY:
        return True
    try:
        key = cert.public_key()
    except Exception:  # noqa: BLE001 - a key cryptography cannot read
        return False
    return isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVES


class _Validators:
    """The callbacks cryptography calls for each certificate it considers."""

    def __init__(self, leaf: x509.Certificate, policy: VerifyPolicy, judge: PathJudge) -> None:
        self.judge = judge
        self.policy = policy
        self.anchors = {der_of(cert) for cert in policy.trusted}
        self.leaf_names = name_count(leaf)
        self.bug: BaseException | None = None

    def _check(self, cert: x509.Certificate, role: str) -> None:
        try:
            constraints = find_extension(cert, x509.NameConstraints) if role != LEAF else None
            if constraints is not None and work(constraints.value, self.leaf_names) > \
                    self.policy.budget.name_checks:
                raise RuleViolation(too_complex(label_of(cert, role)))
            failures = self.judge.certificate_failures(cert, role)
        except RuleViolation:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must not pass as a refusal
            self.bug = self.bug or exc
            raise
        if failures:
            raise RuleViolation(most_telling(failures))

    def ca(self, _policy, cert: x509.Certificate, _value) -> None:
        self._check(cert, ANCHOR if der_of(cert) in self.anchors else CA)

    def ee(self, _policy, cert: x509.Certificate, _value) -> None:
        self._check(cert, LEAF)


def _extension_policy(base, validators: _Validators, ca: bool):
    agnostic = verification.Criticality.AGNOSTIC
    if ca:
        policy = base.require_present(x509.BasicConstraints, agnostic, validators.ca)
    else:
        policy = base.may_be_present(x509.BasicConstraints, agnostic, validators.ee)
    # processed by our rules (criticality included): not "unaccounted for"
    for ext_class in (x509.PolicyConstraints, x509.CertificatePolicies, x509.InhibitAnyPolicy):
        policy = policy.may_be_present(ext_class, agnostic, None)
    return policy


def verify_pyca(leaf: x509.Certificate, policy: VerifyPolicy) -> VerifyResult:
    judge = PathJudge(policy)
    validators = _Validators(leaf, policy, judge)
    permit = verification.ExtensionPolicy.permit_all()
    builder = (verification.PolicyBuilder()
               .store(verification.Store(list(policy.trusted)))
               .time(policy.at)
               .max_chain_depth(policy.max_depth)
               .extension_policies(ca_policy=_extension_policy(permit, validators, True),
                                   ee_policy=_extension_policy(permit, validators, False)))
    try:
        chain = builder.build_client_verifier().verify(leaf, list(policy.intermediates)).chain
    except verification.VerificationError as exc:
        if validators.bug is not None:
            raise validators.bug from exc
        return _refusal(leaf, policy, str(exc))
    return judge.judge(chain, ENGINE)


def _refusal(leaf: x509.Certificate, policy: VerifyPolicy, message: str) -> VerifyResult:
    """cryptography refused: our engine explains why with its rules when it
    refuses too; when it would accept, the result says what cryptography
    refused (a rule only it applies)."""
    from .engine_native import verify_native

    explained = verify_native(leaf, policy)
    if explained.valid:
        findings = Findings()
        findings.add(_failure_of(leaf, policy, message))
        explained = findings.result([leaf.subject.rfc4514_string()], ENGINE)
    explained.engine = ENGINE
    explained.details.append(f"cryptography's verifier: {message}")
    return explained


def _failure_of(leaf: x509.Certificate, policy: VerifyPolicy, message: str) -> Failure:
    ours = _OURS.search(message)
    if ours is not None:
        return Failure(ours.group(1), ours.group(2))
    if "not valid at validation time" in message:
        for cert, role in [(leaf, LEAF)] + [(c, CA) for c in policy.intermediates] + \
                [(c, ANCHOR) for c in policy.trusted]:
            failure = time_failure(cert, label_of(cert, role), policy.at)
            if failure is not None:
                return failure
    rule = next((rule for words, rule in _MESSAGES if words in message), "chain.rejected")
    return Failure(rule, f"cryptography's verifier: {message}")
