"""Helpers shared by the declarative ("ensure") operations.

The ``*_ensure`` functions (``ca_state``, ``cert_state``, ``crl_state``,
``credential_state``, ``hsm_state``) answer "does what exists already match
what is asked?" before anything is signed or written. They are what makes the
Ansible modules idempotent, and the CLI can call them the same way.
"""

from __future__ import annotations

import datetime
import os
from typing import Any, Iterable

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ..errors import InputError, VerificationError
from ..profiles.durations import parse_duration
from ..profiles.messages import Invalid
from ..x509.certificate import utcnow

_SKI = x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER
_AKI = x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER
_SAN = x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME
# Catalyst (X.509 9.8): the alternative signature algorithm and value depend on the signing
# itself, not on the request, so they are never compared; subjectAltPublicKeyInfo is (when
# the caller puts the expected one in ``wanted``).
_ALT_SIGNATURE_OIDS = ("2.5.29.73", "2.5.29.74")
_ALT_PUBLIC_KEY_OID = "2.5.29.72"


def parse_renew_before(value: Any, what: str = "renew_before") -> datetime.timedelta | None:
    """A timedelta from ``30d``/``12h`` text, a number of days, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.timedelta):
        return value
    if isinstance(value, bool):
        raise InputError("%s must be a duration such as 30d or 12h (got %r)" % (what, value))
    if isinstance(value, (int, float)):
        if value < 0:
            raise InputError("%s must not be negative (got %r)" % (what, value))
        return datetime.timedelta(days=value)
    text = str(value).strip()
    if text.isdigit():
        return datetime.timedelta(days=int(text))
    if text in ("0", "0d", "0s"):
        return datetime.timedelta(0)
    try:
        return parse_duration(text)
    except Invalid as exc:
        raise InputError("%s: %s" % (what, exc)) from None


def now_utc(now: datetime.datetime | None = None) -> datetime.datetime:
    return now or utcnow()


def read_optional(path: str | os.PathLike) -> bytes | None:
    """The bytes of ``path``, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise InputError("%s is a directory, not a file" % path) from None
    except OSError as exc:
        raise InputError("cannot read %s: %s" % (path, exc.strerror or exc)) from None


def spki_der(public_key: Any) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def same_public_key(a: Any, b: Any) -> bool:
    try:
        return spki_der(a) == spki_der(b)
    except Exception:  # keys cryptography cannot serialise: compare objects
        return bool(a == b)


def _extension_map(extensions: Iterable[x509.Extension], skip: Iterable[str] = ()
                   ) -> dict[str, x509.Extension]:
    return {ext.oid.dotted_string: ext for ext in extensions
            if ext.oid not in (_SKI, _AKI) and ext.oid.dotted_string not in _ALT_SIGNATURE_OIDS
            and ext.oid.dotted_string not in skip}


def _comparable(ext: x509.Extension) -> tuple[bool, Any]:
    """(critical, value) with unrecognised extensions reduced to their DER value."""
    value = ext.value
    if isinstance(value, x509.UnrecognizedExtension):
        return ext.critical, bytes(value.value)
    return ext.critical, value


def _name_of(oid_text: str, ext: x509.Extension) -> str:
    name = getattr(ext.oid, "_name", None)
    return str(name) if name and name != "Unknown OID" else oid_text


def extension_differences(wanted: Iterable[x509.Extension], cert: x509.Certificate,
                          ignore_alt_key: bool = False) -> list[str]:
    """Texts naming the extensions of ``cert`` that differ from ``wanted``
    (the profile's rendered extensions). SKI/AKI are not compared: they
    follow from the keys, which are compared on their own; nor are the
    catalyst alternative signature extensions. ``ignore_alt_key`` leaves
    subjectAltPublicKeyInfo out too (when the expected one is unknown)."""
    skip = (_ALT_PUBLIC_KEY_OID,) if ignore_alt_key else ()
    want = _extension_map(wanted, skip)
    have = _extension_map(cert.extensions, skip)
    differences: list[str] = []
    for oid, ext in want.items():
        other = have.get(oid)
        name = _name_of(oid, ext)
        if other is None:
            differences.append("%s missing" % name)
        elif _comparable(other) != _comparable(ext):
            differences.append("%s differs" % name)
    for oid, ext in have.items():
        if oid not in want:
            differences.append("unexpected %s" % _name_of(oid, ext))
    return differences


def san_list(extensions: Iterable[x509.Extension]) -> list[str]:
    for ext in extensions:
        if ext.oid == _SAN:
            return sorted(str(n.value) for n in ext.value)
    return []


def issued_by(cert: x509.Certificate, ca_cert: x509.Certificate, ca_public_key: Any) -> bool:
    """True if ``cert`` names ``ca_cert`` as issuer and its signature
    verifies with the CA key (classical, PQC and hybrid alike).
    ``ca_public_key`` may also be a list: the keys of every version of a
    rotated CA, any of which may have signed it."""
    from ..x509.signature import verify_certificate_signature

    if cert.issuer != ca_cert.subject:
        return False
    for key in ca_public_key if isinstance(ca_public_key, list) else [ca_public_key]:
        try:
            verify_certificate_signature(cert, key, ca_cert.subject)
            return True
        except VerificationError:
            continue
        except Exception:  # an unsupported or malformed signature is "not ours"
            continue
    return False


def expiry_reason(not_after: datetime.datetime, renew_before: datetime.timedelta | None,
                  now: datetime.datetime, what: str = "certificate") -> str | None:
    """A reason text when ``not_after`` is past or within ``renew_before``."""
    if not_after <= now:
        return "%s expired on %s" % (what, not_after.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if renew_before is not None and not_after - now <= renew_before:
        return "%s expires on %s, within renew_before (%s)" % (
            what, not_after.strftime("%Y-%m-%dT%H:%M:%SZ"), _human(renew_before))
    return None


def _human(delta: datetime.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0:
        return "%dd" % (seconds // 86400)
    if seconds % 3600 == 0:
        return "%dh" % (seconds // 3600)
    return "%ds" % seconds


def abspath(path: Any) -> Any:
    return os.path.abspath(os.path.expanduser(os.fspath(path))) if path else path


def reissue_reasons(cert: x509.Certificate, rendered: Any, wanted: Iterable[x509.Extension],
                    ca_cert: x509.Certificate, ca_public_key: Any, revoked: set[int],
                    renew_before: datetime.timedelta | None, now: datetime.datetime,
                    what: str = "existing certificate", ignore_alt_key: bool = False,
                    key_differs: str | None = None) -> list[str]:
    """Why ``cert`` no longer fits a request, as texts (empty: it fits).

    The checks shared by certificates (``cert_state``) and credentials
    (``credential_state``): issued by this CA (issuer name and signature),
    the subject and subjectAltName ``rendered`` gives now, the other
    extensions of ``wanted`` (the rendered extensions, plus a catalyst
    subject's subjectAltPublicKeyInfo when known; ``ignore_alt_key`` when it
    is not), not revoked (``revoked``: a set of serials), not within
    ``renew_before`` of its notAfter. The public key is the caller's check:
    ``key_differs``, a reason text when it does not match, comes second.
    """
    reasons: list[str] = []
    if not issued_by(cert, ca_cert, ca_public_key):
        reasons.append("%s was not issued by CA %s" % (what, ca_cert.subject.rfc4514_string()))
    if key_differs:
        reasons.append(key_differs)
    if cert.subject != rendered.subject:
        reasons.append("subject differs (%s, requested %s)"
                       % (cert.subject.rfc4514_string(), rendered.subject.rfc4514_string()))
    have_sans, want_sans = san_list(cert.extensions), san_list(rendered.extensions)
    if have_sans != want_sans:
        reasons.append("subjectAltName differs (%s, requested %s)"
                       % (", ".join(have_sans) or "none", ", ".join(want_sans) or "none"))
    others = [d for d in extension_differences(wanted, cert, ignore_alt_key=ignore_alt_key)
              if not d.startswith("subjectAltName")]
    if others:
        reasons.append("extensions differ from the profile (%s)" % ", ".join(others))
    if cert.serial_number in revoked:
        reasons.append("%s is revoked" % what)
    expiry = expiry_reason(cert.not_valid_after_utc, renew_before, now)
    if expiry:
        reasons.append(expiry)
    return reasons
