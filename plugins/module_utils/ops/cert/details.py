"""What a certificate says, as plain data for the qpki_cert_info module.

``certificate_details`` adds to ops.describe.objects.describe_certificate (names,
dates, algorithms incl. PQC and hybrid, extensions, fingerprint) the fields
a playbook tests: the subject and issuer attribute by attribute, the
subjectAltName entries, keyUsage / extendedKeyUsage / basicConstraints /
nameConstraints as values, the key identifiers, whether it has expired and
how many seconds are left, and whether it is valid at given moments.
``certificate_report`` adds, when trust anchors are given, a verification
(ops.cert.verify) against them, a host, a purpose...
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from ...dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ...errors import InputError
from ...x509.names import general_name_text
from .results import CertDetails, ExtensionFields

_KEY_USAGES = {"digital_signature": "digitalSignature", "content_commitment": "nonRepudiation",
               "key_encipherment": "keyEncipherment", "data_encipherment": "dataEncipherment",
               "key_agreement": "keyAgreement", "key_cert_sign": "keyCertSign",
               "crl_sign": "cRLSign"}
_RELATIVE = re.compile(r"([+-])((?:\d+[wdhms])+)\Z")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def moment(text: str, now: datetime.datetime, what: str) -> datetime.datetime:
    """An ISO 8601 time (naive means UTC) or a time relative to now:
    "+30d", "-1w2d", "+12h"."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        parts = re.findall(r"(\d+)([wdhms])", relative.group(2))
        seconds = sum(int(number) * _UNITS[unit] for number, unit in parts)
        return now + datetime.timedelta(seconds=seconds if relative.group(1) == "+" else -seconds)
    try:
        value = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{what}: {text!r} is neither an ISO 8601 time nor relative "
                         "(+30d, -1w, +12h)") from None
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def _name_pairs(name: x509.Name) -> list[list[str]]:
    return [[attribute.rfc4514_attribute_name, str(attribute.value)] for attribute in name]


def _oid_text(oid: x509.ObjectIdentifier) -> str:
    name = getattr(oid, "_name", "Unknown OID")
    return oid.dotted_string if name == "Unknown OID" else name


def _extension_fields(cert: x509.Certificate) -> ExtensionFields:
    from ...x509.chain import find_extension

    san = find_extension(cert, x509.SubjectAlternativeName)
    usage = find_extension(cert, x509.KeyUsage)
    eku = find_extension(cert, x509.ExtendedKeyUsage)
    constraints = find_extension(cert, x509.BasicConstraints)
    names = find_extension(cert, x509.NameConstraints)
    ski = find_extension(cert, x509.SubjectKeyIdentifier)
    aki = find_extension(cert, x509.AuthorityKeyIdentifier)
    return ExtensionFields(
        subject_alt_name=[general_name_text(n) for n in san.value] if san else [],
        subject_alt_name_critical=bool(san and san.critical),
        key_usage=([name for attr, name in _KEY_USAGES.items() if getattr(usage.value, attr)]
                   if usage else None),
        extended_key_usage=[_oid_text(oid) for oid in eku.value] if eku else None,
        basic_constraints=({"ca": constraints.value.ca,
                            "path_length": constraints.value.path_length,
                            "critical": constraints.critical} if constraints else None),
        name_constraints=({
            "permitted": [general_name_text(n) for n in names.value.permitted_subtrees or []],
            "excluded": [general_name_text(n) for n in names.value.excluded_subtrees or []],
            "critical": names.critical} if names else None),
        subject_key_identifier=ski.value.digest.hex() if ski else None,
        authority_key_identifier=(aki.value.key_identifier.hex()
                                  if aki and aki.value.key_identifier else None))


def certificate_details(cert_data: bytes, where: str, now: datetime.datetime | None = None,
                        valid_at: dict[str, str] | None = None) -> CertDetails:
    from ...x509.parse import load_certificate
    from ..describe.objects import describe_certificate

    now = now or datetime.datetime.now(datetime.timezone.utc)
    cert = load_certificate(cert_data, where)
    left = cert.not_valid_after_utc - now
    return CertDetails(
        description=describe_certificate(cert),
        version=cert.version.value + 1,
        serial_number=cert.serial_number,
        subject_ordered=_name_pairs(cert.subject),
        issuer_ordered=_name_pairs(cert.issuer),
        extension_fields=_extension_fields(cert),
        expired=left.total_seconds() < 0,
        expires_in_seconds=int(left.total_seconds()),
        valid_at={name: cert.not_valid_before_utc <= moment(text, now, f"valid_at.{name}")
                  <= cert.not_valid_after_utc for name, text in (valid_at or {}).items()})


def certificate_report(cert_data: bytes, where: str, *, valid_at: dict[str, str] | None = None,
                       ca_data: bytes | None = None, untrusted_data: bytes | None = None,
                       crl_data: Iterable[bytes] = (), verify_at: str | None = None,
                       ca_dir: str | None = None, purpose: str | None = None,
                       host: str | None = None, ip: str | None = None,
                       email: str | None = None, **options: Any) -> CertDetails:
    """certificate_details, plus ``verification`` (ops.cert.verify.verify_summary)
    when ``ca_data`` is given and ``revocation`` (ops.cert.status) when the
    issuing CA's directory ``ca_dir`` is; ``purpose``, ``host``, ``ip``,
    ``email`` and the ``options`` (max_depth, web_pki, engine,
    classical_only) go to verify_chain."""
    from .verify import verify_chain, verify_summary

    now = datetime.datetime.now(datetime.timezone.utc)
    report = certificate_details(cert_data, where, now, valid_at)
    if ca_data is not None:
        at = moment(verify_at, now, "verify_at") if verify_at else now
        result = verify_chain(cert_data, ca_data, untrusted_data, crl_data, at=at, where=where,
                              purpose=purpose, host=host, ip=ip, email=email, **options)
        report.verification = verify_summary(result, at, purpose=purpose, host=host, ip=ip,
                                             email=email)
    if ca_dir is not None:
        from ...x509.parse import load_certificate
        from .status import certificate_status

        report.revocation = certificate_status(ca_dir, load_certificate(cert_data, where))
    return report
