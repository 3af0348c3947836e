"""Certificate path validation and CRL checks, with a result instead of errors.

``verify_certificate`` builds paths with chain.PathSearch and judges each:
issuers must be CAs (basicConstraints cA, keyCertSign when keyUsage is
present, pathLenConstraint), every certificate must be within its validity
window at ``at`` (unless ``check_time`` is false), and each certificate whose
issuer has a CRL among ``crls`` must not be listed there (the CRL itself
signed by that issuer, current at ``at``). The first valid path wins.

Invalid signatures, expiry, revocation and missing issuers give a
VerifyResult with ``valid=False``; only malformed input raises InputError.
"""

import datetime
from dataclasses import asdict, dataclass, field

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ..errors import InputError, QpkiError, VerificationError
from .chain import (PathSearch, authority_key_id, extension_value, is_self_issued,
                    key_ids_compatible, subject_key_id)
from .parse import load_certificate, load_crl, public_key_of_certificate
from .catalyst_verify import add_crl_findings, add_path_findings
from .legacy import legacy_findings
from .signature import describe_name, verify_crl_signature

MAX_PATHS_TRIED = 8

# Order in which failures become the result's ``reason`` (most telling first).
_PRIORITY = ["signature", "not_ca", "key_usage", "path_length", "revoked", "expired",
             "not_yet_valid", "crl_signature", "crl_issuer", "crl_not_yet_valid",
             "crl_expired", "no_path"]


@dataclass
class VerifyResult:
    """Outcome of a verification.

    valid    everything checked passed
    reason   one line: "ok", or the most telling failure
    path     subjects (RFC 4514), leaf first, trust anchor last
    revoked  a certificate of the path is listed on a CRL
    details  one line per failure found and per CRL consulted
    code     machine-readable reason: "ok", "expired", "revoked", "no_path", ...
    revocation_reason / revocation_date   from the CRL entry, when revoked
    legacy   one line per object of the path (or CRL) in the legacy,
             pre-draft-13 composite form (x509/legacy.py)
    """

    valid: bool
    reason: str
    path: list = field(default_factory=list)
    revoked: bool = False
    details: list = field(default_factory=list)
    code: str = "ok"
    revocation_reason: "str | None" = None
    revocation_date: "datetime.datetime | None" = None
    legacy: list = field(default_factory=list)

    def as_dict(self):
        data = asdict(self)
        if self.revocation_date is not None:
            data["revocation_date"] = _stamp(self.revocation_date)
        return data


class _Findings:
    """Failures (code, message) and notes gathered while judging a path."""

    def __init__(self):
        self.failures = []
        self.notes = []
        self.revocation = None  # (reason, date)
        self.legacy = []

    def fail(self, code, message):
        self.failures.append((code, message))

    def result(self, path):
        subjects = [c.subject.rfc4514_string() for c in path]
        details = [m for dummy, m in self.failures] + self.notes
        if not self.failures:
            return VerifyResult(True, "ok", subjects, False, details, "ok", legacy=self.legacy)
        code, reason = min(self.failures, key=lambda f: _PRIORITY.index(f[0]))
        revoked = self.revocation is not None
        return VerifyResult(False, reason, subjects, revoked, details, code,
                            self.revocation[0] if revoked else None,
                            self.revocation[1] if revoked else None, self.legacy)


# --------------------------------------------------------------------------
# Input normalisation
# --------------------------------------------------------------------------

def _moment(at):
    if at is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if not isinstance(at, datetime.datetime):
        raise InputError("verification time must be a datetime, got %r" % (at,))
    if at.tzinfo is None:
        return at.replace(tzinfo=datetime.timezone.utc)
    return at.astimezone(datetime.timezone.utc)


def _stamp(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_certificate(obj, where):
    if isinstance(obj, x509.Certificate):
        return obj
    if isinstance(obj, (bytes, bytearray, str)):
        return load_certificate(obj, where)
    raise InputError("%s: not a certificate (%s)" % (where, type(obj).__name__))


def _as_crl(obj, where):
    if isinstance(obj, x509.CertificateRevocationList):
        return obj
    if isinstance(obj, (bytes, bytearray, str)):
        return load_crl(obj, where)
    raise InputError("%s: not a CRL (%s)" % (where, type(obj).__name__))


def _label(cert, is_leaf):
    """How a certificate is named in a reason: the leaf is "certificate"."""
    if is_leaf:
        return "certificate"
    return "CA certificate %s" % describe_name(cert.subject)


# --------------------------------------------------------------------------
# Checks on one path
# --------------------------------------------------------------------------

def _check_issuer(path, index, findings):
    """CA flag, keyCertSign and pathLenConstraint of path[index] (an issuer)."""
    issuer = path[index]
    name = describe_name(issuer.subject)
    what = "certificate %s" % name
    constraints = extension_value(issuer, x509.BasicConstraints, what)
    if constraints is None:
        findings.fail("not_ca", "issuer %s is not a CA (no basicConstraints)" % name)
    elif not constraints.ca:
        findings.fail("not_ca", "issuer %s is not a CA (basicConstraints cA is false)" % name)
    usage = extension_value(issuer, x509.KeyUsage, what)
    if usage is not None and not usage.key_cert_sign:
        findings.fail("key_usage", "issuer %s: keyUsage does not include keyCertSign" % name)
    if constraints is not None and constraints.path_length is not None:
        # Intermediate CAs below this one, the leaf and self-issued ones aside.
        below = sum(1 for c in path[1:index] if not is_self_issued(c))
        if below > constraints.path_length:
            findings.fail("path_length",
                          "issuer %s: pathLenConstraint %d exceeded (%d CA certificate%s below it)"
                          % (name, constraints.path_length, below, "" if below == 1 else "s"))


def _check_time(cert, is_leaf, at, findings):
    label = _label(cert, is_leaf)
    if at < cert.not_valid_before_utc:
        findings.fail("not_yet_valid", "%s is not yet valid (notBefore %s)"
                      % (label, _stamp(cert.not_valid_before_utc)))
    if at > cert.not_valid_after_utc:
        findings.fail("expired", "%s has expired (notAfter %s)"
                      % (label, _stamp(cert.not_valid_after_utc)))


def crl_findings(crl, issuer, at, check_time, findings, classical_only=False):
    """Check ``crl`` against its issuer certificate; True when its entries
    can be trusted (its signature verified; a catalyst CRL's alternative
    signature too unless ``classical_only``)."""
    what = "CRL of %s" % describe_name(crl.issuer)
    if crl.issuer != issuer.subject:
        findings.fail("crl_issuer", "%s: issuer name does not match certificate %s"
                      % (what, describe_name(issuer.subject)))
        return False
    if not key_ids_compatible(authority_key_id(crl, what), subject_key_id(issuer)):
        findings.fail("crl_issuer", "%s: authorityKeyIdentifier does not match the issuer's "
                      "subjectKeyIdentifier" % what)
        return False
    usage = extension_value(issuer, x509.KeyUsage, "certificate %s" % describe_name(issuer.subject))
    if usage is not None and not usage.crl_sign:
        findings.fail("key_usage", "%s: issuer keyUsage does not include cRLSign" % what)
    try:
        public_key = public_key_of_certificate(issuer)
    except QpkiError as exc:
        findings.fail("crl_signature", "%s: issuer key unusable (%s)" % (what, exc))
        return False
    try:
        verify_crl_signature(crl, public_key)
    except VerificationError as exc:
        findings.fail("crl_signature", str(exc))
        return False
    if not classical_only and not add_crl_findings(crl, issuer, findings):
        return False
    findings.legacy.extend(legacy_findings(crl))
    if at < crl.last_update_utc:
        findings.fail("crl_not_yet_valid", "%s is not yet valid (thisUpdate %s)"
                      % (what, _stamp(crl.last_update_utc)))
    next_update = crl.next_update_utc
    if check_time and next_update is not None and at > next_update:
        findings.fail("crl_expired", "%s has expired (nextUpdate %s)" % (what, _stamp(next_update)))
    return True


def _revocation_entry(crl, cert):
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is None:
        return None
    try:
        reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
    except x509.ExtensionNotFound:
        reason = "unspecified"
    except ValueError as exc:
        raise InputError("CRL of %s: malformed entry for serial %x (%s)"
                         % (describe_name(crl.issuer), cert.serial_number, exc)) from None
    return reason, entry.revocation_date_utc


def _check_revocation(cert, issuer, is_leaf, crls, at, check_time, findings,
                      classical_only=False):
    for crl in crls:
        if crl.issuer != issuer.subject:
            continue
        if not key_ids_compatible(authority_key_id(crl, "CRL of %s" % describe_name(crl.issuer)),
                                  subject_key_id(issuer)):
            continue
        if not crl_findings(crl, issuer, at, check_time, findings, classical_only):
            continue
        findings.notes.append("%s checked against CRL of %s (thisUpdate %s)" % (
            describe_name(cert.subject), describe_name(issuer.subject),
            _stamp(crl.last_update_utc)))
        entry = _revocation_entry(crl, cert)
        if entry is not None and findings.revocation is None:
            reason, date = entry
            findings.revocation = entry
            findings.fail("revoked", "%s is revoked (%s, %s)"
                          % (_label(cert, is_leaf), reason, _stamp(date)))


def judge_path(path, crls, at, check_time, classical_only=False):
    """A VerifyResult for one signature-checked path (leaf first). Catalyst
    alternative signatures are checked too unless ``classical_only``."""
    findings = _Findings()
    if not classical_only:
        add_path_findings(path, findings)
    for cert in path:
        findings.legacy.extend(legacy_findings(cert))
    for index in range(1, len(path)):
        _check_issuer(path, index, findings)
    if check_time:
        for index, cert in enumerate(path):
            _check_time(cert, index == 0, at, findings)
    for index in range(len(path) - 1):
        _check_revocation(path[index], path[index + 1], index == 0, crls, at, check_time,
                          findings, classical_only)
    return findings.result(path)


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------

def verify_certificate(cert, trusted, untrusted=(), crls=(), at=None, check_time=True,
                       classical_only=False):
    """Validate ``cert`` up to one of ``trusted`` and return a VerifyResult.

    ``untrusted`` are intermediate candidates, ``crls`` CRLs to consult,
    ``at`` the moment to judge at (default now, UTC; naive means UTC),
    ``check_time`` false skips notBefore/notAfter and CRL nextUpdate,
    ``classical_only`` skips catalyst alternative signatures (a legacy client).
    """
    at = _moment(at)
    cert = _as_certificate(cert, "certificate")
    trusted = [_as_certificate(c, "trusted certificate") for c in trusted]
    untrusted = [_as_certificate(c, "untrusted certificate") for c in untrusted]
    crls = [_as_crl(c, "CRL") for c in crls]
    search = PathSearch(cert, trusted, untrusted)
    first_failure = None
    for tried, path in enumerate(search.paths(), start=1):
        result = judge_path(path, crls, at, check_time, classical_only)
        if result.valid:
            return result
        first_failure = first_failure or result
        if tried >= MAX_PATHS_TRIED:
            break
    if first_failure is not None:
        return first_failure
    return _no_path(cert, trusted, search)


def _no_path(cert, trusted, search):
    details = list(search.problems)
    if not trusted:
        details.insert(0, "no trusted certificates given")
    for dead_end in search.dead_ends:
        line = "no certificate found for issuer %s of %s" % (
            describe_name(dead_end.issuer), describe_name(dead_end.subject))
        if is_self_issued(dead_end):
            line = "self-signed certificate %s is not trusted" % describe_name(dead_end.subject)
        if line not in details:
            details.append(line)
    if search.signature_problems:
        code, reason = "signature", search.signature_problems[0]
    else:
        code = "no_path"
        reason = "no path to a trusted root"
        if details:
            reason += " (%s)" % details[0]
    return VerifyResult(False, reason, [cert.subject.rfc4514_string()], False,
                        details, code)


def verify_crl(crl, issuer_cert, at=None, check_time=True, classical_only=False):
    """Check a CRL against its issuer's certificate: name and key identifier,
    cRLSign, signature, thisUpdate <= at and (with check_time) at <= nextUpdate."""
    at = _moment(at)
    crl = _as_crl(crl, "CRL")
    issuer_cert = _as_certificate(issuer_cert, "issuer certificate")
    findings = _Findings()
    crl_findings(crl, issuer_cert, at, check_time, findings, classical_only)
    return findings.result([issuer_cert])
