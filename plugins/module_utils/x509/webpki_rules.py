"""CA/Browser Forum Baseline Requirements rules, applied with ``web_pki``.

RFC 5280 is the default profile: it fits a private PKI. A relying party
that checks publicly-trusted TLS certificates can ask for the stricter
rules the Baseline Requirements (BR) set for what CAs issue; each has its
own rule name (``webpki.*``). With them, name constraints may be
non-critical (BR 7.1.2.10.8 relaxes RFC 5280 there).

- the end certificate is not a CA (BR 7.1.2.7.8);
- its extendedKeyUsage is present, non-critical, without
  anyExtendedKeyUsage (BR 7.1.2.7.10), when a purpose is checked;
- its subjectAltName is non-critical when the subject is not empty, and
  each subject CN is one of the subjectAltName values, written exactly as
  there (BR 7.1.2.7.12, 7.1.4.3);
- a root (trust anchor) has no extendedKeyUsage (BR 7.1.2.1.2);
- an authorityKeyIdentifier holds the keyIdentifier only (BR 7.1.2.11.1).
"""

from __future__ import annotations

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID, NameOID
except ImportError:
    x509 = ExtensionOID = NameOID = missing()  # type: ignore[misc]  # placeholders when a library is absent

from .names import san_names
from .purpose import ANY_EKU
from .verify_rules import Failure


def web_pki_failures(cert: x509.Certificate, extensions: dict, is_leaf: bool,
                     is_anchor: bool, purpose: str | None, label: str) -> list[Failure]:
    failures = []
    aki = extensions.get(ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    if aki is not None and (aki.value.authority_cert_issuer is not None
                            or aki.value.authority_cert_serial_number is not None):
        failures.append(Failure("webpki.aki_fields", f"{label}: authorityKeyIdentifier must "
                                                     "hold the keyIdentifier only"))
    eku = extensions.get(ExtensionOID.EXTENDED_KEY_USAGE)
    if is_anchor and eku is not None:
        failures.append(Failure("webpki.root_eku", f"{label}: a root must not carry "
                                                   "extendedKeyUsage"))
    if is_leaf:
        failures += _leaf_failures(cert, extensions, eku, purpose, label)
    return failures


def _leaf_failures(cert: x509.Certificate, extensions: dict, eku, purpose: str | None,
                   label: str) -> list[Failure]:
    failures = []
    constraints = extensions.get(ExtensionOID.BASIC_CONSTRAINTS)
    if constraints is not None and constraints.value.ca:
        failures.append(Failure("webpki.ca_leaf", f"{label} is a CA certificate"))
    if purpose is not None and (eku is None or eku.critical or any(
            oid.dotted_string == ANY_EKU for oid in eku.value)):
        failures.append(Failure("webpki.eku", f"{label}: extendedKeyUsage must be present, "
                                              "non-critical and without "
                                              "anyExtendedKeyUsage"))
    san = extensions.get(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if san is not None and san.critical and len(cert.subject):
        failures.append(Failure("webpki.san_critical", f"{label}: subjectAltName must not "
                                                       "be critical when the subject is "
                                                       "not empty"))
    written = {str(name.value) for name in san_names(cert)
               if isinstance(name, (x509.DNSName, x509.IPAddress))}
    for attribute in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
        if attribute.value not in written:
            failures.append(Failure("webpki.cn_not_in_san", f"{label}: subject CN "
                                                            f"{attribute.value!r} is not one "
                                                            "of its subjectAltName values"))
    return failures
