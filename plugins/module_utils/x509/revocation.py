"""CRL checks: is a CRL usable, and is a certificate of the path on it?

A CRL is consulted for a certificate when its issuer name is the
certificate's issuer and its authorityKeyIdentifier (if any) is the issuing
CA's key. It is usable when it is signed by that CA (both signatures of a
catalyst CRL unless classical_only), the CA may sign CRLs (cRLSign when it
has keyUsage), it carries a non-critical CRLNumber (RFC 5280 5.2.3), no
critical extension we do not process, and the verification time lies within
thisUpdate .. nextUpdate. A CRL that is consulted but not usable fails the
verification: a relying party given a CRL must not quietly skip it.
"""

from __future__ import annotations

import datetime

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID
except ImportError:
    x509 = ExtensionOID = missing()  # type: ignore[misc]  # placeholders when a library is absent

from ..errors import InputError, QpkiError, VerificationError
from .catalyst_verify import add_crl_findings
from .legacy import legacy_findings
from .chain import (authority_key_id, extension_value, find_extension, key_ids_compatible,
                    subject_key_id)
from .parse import public_key_of_certificate
from .signature import describe_name, verify_crl_signature
from .verify_result import Findings, stamp
from .verify_rules import Failure

# Critical CRL extensions we act on; a delta CRL is not a full CRL.
_PROCESSED_CRITICAL = {ExtensionOID.ISSUING_DISTRIBUTION_POINT}


def crl_failures(crl: x509.CertificateRevocationList, issuer: x509.Certificate,
                 at: datetime.datetime, check_time: bool, findings: Findings,
                 classical_only: bool = False) -> bool:
    """Add to ``findings`` what makes ``crl`` unusable; True when its entries
    can be trusted (it is the issuer's and its signatures verify)."""
    what = f"CRL of {describe_name(crl.issuer)}"
    if crl.issuer != issuer.subject:
        findings.add(Failure("crl.invalid", f"{what}: issuer name does not match certificate "
                                            f"{describe_name(issuer.subject)}"))
        return False
    if not key_ids_compatible(authority_key_id(crl, what), subject_key_id(issuer)):
        findings.add(Failure("crl.invalid", f"{what}: authorityKeyIdentifier does not match "
                                            "the issuer's subjectKeyIdentifier"))
        return False
    usage = find_extension(issuer, x509.KeyUsage)
    if usage is not None and not usage.value.crl_sign:
        findings.add(Failure("crl.invalid", f"{what}: issuer keyUsage does not include cRLSign"))
    try:
        verify_crl_signature(crl, public_key_of_certificate(issuer))
    except VerificationError as exc:
        findings.add(Failure("crl.invalid", str(exc)))
        return False
    except QpkiError as exc:
        findings.add(Failure("crl.invalid", f"{what}: issuer key unusable ({exc})"))
        return False
    if not classical_only and not add_crl_findings(crl, issuer, findings):
        return False
    findings.legacy.extend(legacy_findings(crl))
    findings.add(_extension_failures(crl, what))
    if at < crl.last_update_utc:
        findings.add(Failure("crl.not_yet_valid", f"{what} is not yet valid (thisUpdate "
                                                  f"{stamp(crl.last_update_utc)})"))
    next_update = crl.next_update_utc
    if check_time and next_update is not None and at > next_update:
        findings.add(Failure("crl.expired", f"{what} has expired (nextUpdate "
                                            f"{stamp(next_update)})"))
    return True


def _extension_failures(crl: x509.CertificateRevocationList, what: str) -> list[Failure]:
    try:
        extensions = list(crl.extensions)
    except ValueError as exc:
        return [Failure("crl.invalid", f"{what}: malformed extensions ({exc})")]
    failures = []
    number = [ext for ext in extensions if ext.oid == ExtensionOID.CRL_NUMBER]
    if not number:
        failures.append(Failure("crl.invalid", f"{what} has no CRLNumber"))
    elif number[0].critical:
        failures.append(Failure("crl.invalid", f"{what}: CRLNumber must not be critical"))
    for ext in extensions:
        if ext.oid == ExtensionOID.DELTA_CRL_INDICATOR:
            failures.append(Failure("crl.invalid", f"{what} is a delta CRL (only full CRLs "
                                                   "are supported)"))
        elif ext.critical and ext.oid not in _PROCESSED_CRITICAL | {ExtensionOID.CRL_NUMBER}:
            failures.append(Failure("crl.invalid", f"{what} has a critical extension "
                                                   f"{ext.oid.dotted_string} that is not "
                                                   "processed"))
    return failures


def _entry(crl: x509.CertificateRevocationList, cert: x509.Certificate
           ) -> tuple[str, datetime.datetime] | None:
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is None:
        return None
    try:
        reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
    except x509.ExtensionNotFound:
        reason = "unspecified"
    except ValueError as exc:
        raise InputError(f"CRL of {describe_name(crl.issuer)}: malformed entry for serial "
                         f"{cert.serial_number:x} ({exc})") from None
    return reason, entry.revocation_date_utc


def _in_scope(crl: x509.CertificateRevocationList, cert: x509.Certificate) -> bool:
    """False when the CRL's issuingDistributionPoint leaves ``cert`` out
    (only user certificates / only CA certificates)."""
    point = extension_value(crl, x509.IssuingDistributionPoint,
                            f"CRL of {describe_name(crl.issuer)}")
    if point is None:
        return True
    constraints = find_extension(cert, x509.BasicConstraints)
    is_ca = constraints is not None and constraints.value.ca
    return not (point.only_contains_user_certs and is_ca
                or point.only_contains_ca_certs and not is_ca)


def check_revocation(path: list, crls: tuple, at: datetime.datetime, check_time: bool,
                     findings: Findings, classical_only: bool, labels: list[str]) -> None:
    """Look up every certificate of ``path`` but the anchor on the CRLs of
    its issuer; ``labels`` name the certificates in messages."""
    for index in range(len(path) - 1):
        cert, issuer = path[index], path[index + 1]
        for crl in crls:
            if crl.issuer != issuer.subject or not key_ids_compatible(
                    authority_key_id(crl, f"CRL of {describe_name(crl.issuer)}"),
                    subject_key_id(issuer)):
                continue
            if not _in_scope(crl, cert) or not crl_failures(crl, issuer, at, check_time,
                                                            findings, classical_only):
                continue
            findings.notes.append(f"{describe_name(cert.subject)} checked against CRL of "
                                  f"{describe_name(issuer.subject)} (thisUpdate "
                                  f"{stamp(crl.last_update_utc)})")
            entry = _entry(crl, cert)
            if entry is not None and findings.revocation is None:
                findings.revocation = entry
                findings.add(Failure("revocation.revoked", f"{labels[index]} is revoked "
                                                           f"({entry[0]}, {stamp(entry[1])})"))
