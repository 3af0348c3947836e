"""The rules a certification path is judged by, each with a stable name.

A failed verification names the rule that failed (``VerifyResult.rule``),
whichever engine judged the path: scripts and modules can rely on these
identifiers, which never change meaning. ``RULES`` lists them from the most
telling failure to the least: when a path breaks several rules, the first
one in this order becomes the result's rule and reason.
"""

from __future__ import annotations

from dataclasses import dataclass

RULES: dict[str, str] = {
    "signature.invalid": "a signature does not verify with its issuer's key",
    "signature.alternative": "a catalyst alternative signature does not verify",
    "key.unusable": "an issuer's public key cannot be read",
    "key.weak": "a key is too weak or of a forbidden kind (DSA, RSA < 2048, small curves)",
    "cert.malformed": "a certificate is malformed (duplicate or undecodable extensions)",
    "cert.version": "a certificate is not X.509 version 3",
    "cert.serial": "a serial number is zero, negative or longer than 20 octets",
    "cert.issuer_empty": "a certificate has an empty issuer name",
    "cert.subject_empty": "a CA certificate has an empty subject name",
    "cert.unknown_critical_extension": "a certificate has a critical extension nobody processes",
    "cert.extension_criticality": "an extension is marked critical or not against RFC 5280",
    "basic_constraints.not_ca": "an issuer is not a CA (no basicConstraints, or cA false)",
    "key_usage.key_cert_sign": "an issuer's keyUsage lacks keyCertSign",
    "key_usage.inconsistent": "keyUsage and basicConstraints disagree on being a CA",
    "basic_constraints.path_length": "a pathLenConstraint is exceeded",
    "chain.max_depth": "the path has more intermediate CAs than allowed",
    "aki.missing": "a certificate that is not self-signed has no authorityKeyIdentifier",
    "aki.mismatch": "a self-signed certificate's authorityKeyIdentifier is not its own key",
    "ski.missing": "a CA certificate has no subjectKeyIdentifier",
    "name_constraints.malformed": "a name constraint cannot be interpreted",
    "name_constraints.in_leaf": "a certificate that is not a CA carries name constraints",
    "name_constraints.permitted": "a name lies outside the permitted subtrees",
    "name_constraints.excluded": "a name lies inside an excluded subtree",
    "name_constraints.unsupported": "a name constraint of a form nobody processes applies",
    "name_constraints.too_complex": "checking the name constraints would take too much work",
    "policy.explicit_required": "an explicit certificate policy is required but none is valid",
    "eku.ca_chain": "an issuer's extendedKeyUsage does not allow the purpose",
    "eku.purpose": "the certificate's extendedKeyUsage does not allow the purpose",
    "key_usage.purpose": "the certificate's keyUsage does not allow the purpose",
    "name.invalid_reference": "the host, IP address or e-mail asked for is malformed",
    "name.mismatch": "the certificate is not for the host, IP address or e-mail asked for",
    "name.cn_spelling": "the subject CN spells a subjectAltName name differently",
    "name.empty_subject_san": "an empty subject without a critical subjectAltName",
    "webpki.ca_leaf": "Web PKI: the end certificate is a CA certificate",
    "webpki.eku": "Web PKI: the end certificate's extendedKeyUsage is absent, critical or any",
    "webpki.san_critical": "Web PKI: subjectAltName is critical though the subject is not empty",
    "webpki.cn_not_in_san": "Web PKI: a subject CN is not one of the subjectAltName values",
    "webpki.root_eku": "Web PKI: a root carries extendedKeyUsage",
    "webpki.aki_fields": "Web PKI: authorityKeyIdentifier holds more than the keyIdentifier",
    "revocation.revoked": "a certificate of the path is revoked",
    "crl.invalid": "a CRL cannot be used (issuer, signature, cRLSign, CRLNumber, extensions)",
    "crl.not_yet_valid": "a CRL's thisUpdate is after the verification time",
    "crl.expired": "a CRL's nextUpdate is before the verification time",
    "validity.expired": "a certificate has expired",
    "validity.not_yet_valid": "a certificate is not yet valid",
    "chain.budget": "path building gave up: too many candidates or signature checks",
    "chain.no_path": "no path of valid signatures leads to a trust anchor",
    "chain.rejected": "cryptography's verifier refused the path for another reason",
}

_ORDER = {rule: index for index, rule in enumerate(RULES)}


@dataclass(frozen=True)
class Failure:
    """One broken rule: its identifier and a one-line message."""

    rule: str
    message: str

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"unknown verification rule {self.rule!r}")

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


class RuleViolation(Exception):
    """A Failure raised from inside cryptography's path builder (through an
    extension validator callback), so that the builder drops that candidate.
    Its text starts with the rule name, which is how the failure is found
    again in cryptography's error message."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.rule}: {failure.message}")
        self.failure = failure


def most_telling(failures: list[Failure]) -> Failure:
    """The failure whose rule comes first in RULES."""
    return min(failures, key=lambda failure: _ORDER[failure.rule])
