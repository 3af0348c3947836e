"""Certificate policies along a path (RFC 5280 6.1.3 (d)-(f), 6.1.4, 6.1.5).

The relying party here accepts any policy (user-initial-policy-set is
anyPolicy, nothing inhibited at the start), so the policy tree only matters
when a CA asks for an explicit policy (policyConstraints
requireExplicitPolicy): from then on, every certificate down to the leaf
must share at least one policy with those above it, policy mappings and
anyPolicy applied as RFC 5280 says. The tree is kept as the set of expected
policies of its leaves, which is all the final verdict needs when qualifiers
are not compared. The trust anchor's own extensions are not processed.
"""

from __future__ import annotations

from ..dependencies import imported_later, missing

try:
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID
except ImportError:
    x509 = ExtensionOID = missing()  # type: ignore[misc]  # placeholders when a library is absent

from .chain import MALFORMED, find_extension, is_self_issued
from .verify_rules import Failure

imported_later("pyasn1", "pyasn1_modules")

ANY_POLICY = "2.5.29.32.0"


def policy_mappings(cert: x509.Certificate) -> list[tuple[str, str]] | None:
    """(issuerDomainPolicy, subjectDomainPolicy) pairs, [] when absent, None
    when the extension cannot be read."""
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.POLICY_MAPPINGS)
    except x509.ExtensionNotFound:
        return []
    except MALFORMED:
        return None
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error
    from pyasn1_modules import rfc5280

    try:
        value, rest = decoder.decode(ext.value.value, asn1Spec=rfc5280.PolicyMappings())
    except PyAsn1Error:
        return None
    if rest:
        return None
    return [(str(m["issuerDomainPolicy"]), str(m["subjectDomainPolicy"])) for m in value]


def _policies(cert: x509.Certificate) -> set[str] | None:
    ext = find_extension(cert, x509.CertificatePolicies)
    if ext is None:
        return None
    return {info.policy_identifier.dotted_string for info in ext.value}


def _constraints(cert: x509.Certificate) -> tuple[int | None, int | None]:
    ext = find_extension(cert, x509.PolicyConstraints)
    if ext is None:
        return None, None
    return ext.value.require_explicit_policy, ext.value.inhibit_policy_mapping


def policy_failures(path: list, labels: list[str]) -> list[Failure]:
    """``path`` leaf first, anchor last (the anchor is not processed)."""
    certs = list(reversed(path[:-1]))  # from the one the anchor issued down to the leaf
    names = list(reversed(labels[:-1]))
    n = len(certs)
    if not n:
        return []  # a trusted certificate on its own
    expected: set[str] | None = {ANY_POLICY}
    explicit = inhibit_any = mapping = n + 1
    for index, (cert, label) in enumerate(zip(certs, names, strict=False), start=1):
        last = index == n
        any_allowed = inhibit_any > 0 or (not last and is_self_issued(cert))
        expected = _next_expected(cert, expected, any_allowed)
        if expected is None and explicit <= 0:
            return [_explicit_failure(label)]
        if last:
            break
        pairs = policy_mappings(cert)
        if pairs is None or any(ANY_POLICY in pair for pair in pairs):
            return [Failure("policy.explicit_required",
                            f"{label}: policyMappings is malformed or maps anyPolicy")]
        if expected is not None:
            expected = _mapped(expected, pairs, mapping > 0)
        if not is_self_issued(cert):
            explicit, mapping, inhibit_any = (max(explicit - 1, 0), max(mapping - 1, 0),
                                              max(inhibit_any - 1, 0))
        require, inhibit = _constraints(cert)
        explicit = min(explicit, require) if require is not None else explicit
        mapping = min(mapping, inhibit) if inhibit is not None else mapping
        skip = find_extension(cert, x509.InhibitAnyPolicy)
        if skip is not None:
            inhibit_any = min(inhibit_any, skip.value.skip_certs)
    explicit = max(explicit - 1, 0)
    if _constraints(certs[-1])[0] == 0:
        explicit = 0
    if explicit == 0 and expected is None:
        return [_explicit_failure(names[-1])]
    return []


def _next_expected(cert: x509.Certificate, expected: set[str] | None, any_allowed: bool
                   ) -> set[str] | None:
    policies = _policies(cert)
    if expected is None or policies is None:
        return None
    kept = {p for p in policies - {ANY_POLICY} if p in expected or ANY_POLICY in expected}
    if ANY_POLICY in policies and any_allowed:
        kept |= expected
    return kept or None


def _mapped(expected: set[str], pairs: list[tuple[str, str]], allowed: bool) -> set[str]:
    result = set(expected)
    for issuer_policy, subject_policy in pairs:
        if issuer_policy in expected or ANY_POLICY in expected:
            result.discard(issuer_policy)
            if allowed:
                result.add(subject_policy)
    return result


def _explicit_failure(label: str) -> Failure:
    return Failure("policy.explicit_required", f"{label}: an explicit certificate policy is "
                                               "required and no policy is valid down to here")
