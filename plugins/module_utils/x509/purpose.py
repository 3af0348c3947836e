"""What a certificate must say to be used for a purpose (EKU and keyUsage).

The leaf: an extendedKeyUsage, when present, lists the purpose or
anyExtendedKeyUsage (RFC 5280 4.2.1.12: absent means any purpose), except
where the purpose's own standard requires the EKU itself (OCSP signing,
RFC 6960 4.2.2.2; time stamping, RFC 3161 2.3: critical and alone). A
keyUsage, when present, has one of the bits the purpose works with.

Issuers: a CA certificate that carries an extendedKeyUsage restricts what it
certifies, so it must list the purpose or anyExtendedKeyUsage (the rule
OpenSSL, Go, NSS and cryptography apply, though RFC 5280 leaves it open).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from .chain import find_extension
from .verify_rules import Failure


@dataclass(frozen=True)
class PurposeRule:
    eku: str                      # dotted OID
    key_usages: tuple[str, ...]   # KeyUsage attributes, one of which must be set
    eku_required: bool = False    # the EKU must be present and name the purpose itself
    eku_alone_critical: bool = False


_SIGN = ("digital_signature", "content_commitment")
PURPOSES: dict[str, PurposeRule] = {
    "serverAuth": PurposeRule("1.3.6.1.5.5.7.3.1",
                              ("digital_signature", "key_encipherment", "key_agreement")),
    "clientAuth": PurposeRule("1.3.6.1.5.5.7.3.2", ("digital_signature", "key_agreement")),
    "codeSigning": PurposeRule("1.3.6.1.5.5.7.3.3", ("digital_signature",)),
    "emailProtection": PurposeRule("1.3.6.1.5.5.7.3.4",
                                   _SIGN + ("key_encipherment", "key_agreement")),
    "timeStamping": PurposeRule("1.3.6.1.5.5.7.3.8", _SIGN, eku_required=True,
                                eku_alone_critical=True),
    "OCSPSigning": PurposeRule("1.3.6.1.5.5.7.3.9", _SIGN, eku_required=True),
}

ANY_EKU = "2.5.29.37.0"


def leaf_purpose_failures(leaf: x509.Certificate, purpose: str | None, label: str
                          ) -> list[Failure]:
    """EKU and keyUsage of the end certificate against ``purpose``."""
    if purpose is None:
        return []
    rule = PURPOSES[purpose]
    failures = []
    eku = find_extension(leaf, x509.ExtendedKeyUsage)
    listed = {oid.dotted_string for oid in eku.value} if eku is not None else set()
    if rule.eku_required:
        if rule.eku not in listed:
            failures.append(Failure("eku.purpose", f"{label}: extendedKeyUsage must list "
                                                   f"{purpose} itself"))
        elif rule.eku_alone_critical and (len(listed) != 1 or eku is None or not eku.critical):
            failures.append(Failure("eku.purpose", f"{label}: a {purpose} certificate's "
                                                   "extendedKeyUsage must be critical and "
                                                   f"hold {purpose} only (RFC 3161)"))
    elif eku is not None and not listed & {rule.eku, ANY_EKU}:
        failures.append(Failure("eku.purpose", f"{label}: extendedKeyUsage does not allow "
                                               f"{purpose}"))
    usage = find_extension(leaf, x509.KeyUsage)
    if usage is not None and not any(getattr(usage.value, bit) for bit in rule.key_usages):
        failures.append(Failure("key_usage.purpose", f"{label}: keyUsage allows none of "
                                                     f"{', '.join(rule.key_usages)} "
                                                     f"(needed for {purpose})"))
    return failures


def issuer_eku_failure(ca: x509.Certificate, purpose: str | None, label: str
                       ) -> Failure | None:
    """An issuer whose extendedKeyUsage excludes ``purpose``."""
    if purpose is None:
        return None
    eku = find_extension(ca, x509.ExtendedKeyUsage)
    if eku is None:
        return None
    listed = {oid.dotted_string for oid in eku.value}
    if listed & {PURPOSES[purpose].eku, ANY_EKU}:
        return None
    return Failure("eku.ca_chain", f"{label}: its extendedKeyUsage does not allow {purpose}")
