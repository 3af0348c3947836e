"""What an X.509 extension says, as plain data: the one describer behind
``cert info`` and ``crl info`` (certificate, CRL and CRL entry extensions).

:func:`describe_extension` gives ``{"name", "oid", "critical", "value"}``,
``value`` being JSON-ready data shaped like the extension: lists of general
names (``DNS:example.com``, ``URI:http://...``, ``IP:192.0.2.0/24``...),
policy OIDs with their qualifiers, name-constraint subtrees, distribution
points, access descriptions, the algorithms of the catalyst extensions, and
for anything else (an extension cryptography does not parse, or one we do
not know) the DER of its value in hex. Nothing is judged here: verification
reports malformed or unacceptable extensions.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from ...dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ...store.metafile import utc_text
from ...x509.names import general_name_text

_KEY_USAGES = (("digital_signature", "digitalSignature"),
               ("content_commitment", "nonRepudiation"),
               ("key_encipherment", "keyEncipherment"),
               ("data_encipherment", "dataEncipherment"),
               ("key_agreement", "keyAgreement"),
               ("key_cert_sign", "keyCertSign"),
               ("crl_sign", "cRLSign"))


@functools.lru_cache(maxsize=512)
def oid_name(oid: Any) -> str:
    """A readable name for an OID: catalyst names, cryptography's names,
    the signature algorithm registry, else the dotted string (the same
    OIDs come back for every entry of a CRL: each is named once)."""
    from ...x509.catalyst import NAMES

    dotted = oid.dotted_string
    if dotted in NAMES:
        return NAMES[dotted]
    name = getattr(oid, "_name", None)
    if name and name != "Unknown OID":
        return name
    from ...x509.signature import signature_algorithm_name  # ML-DSA, composite...

    return signature_algorithm_name(dotted)


def general_names(names: Any) -> list[str] | None:
    return None if names is None else [general_name_text(n) for n in names]


def _compact(mapping: dict) -> dict:
    """``mapping`` without the entries that are None or empty."""
    return {k: v for k, v in mapping.items() if v is not None and v != [] and v != {}}


def _key_usage(value: Any) -> list[str]:
    names = [label for attribute, label in _KEY_USAGES if getattr(value, attribute)]
    if value.key_agreement:  # only defined with keyAgreement
        names += [label for attribute, label in (("encipher_only", "encipherOnly"),
                                                 ("decipher_only", "decipherOnly"))
                  if getattr(value, attribute)]
    return names


def _policies(value: Any) -> list[dict]:
    out = []
    for policy in value:
        cps, notices = [], []
        for qualifier in policy.policy_qualifiers or ():
            if isinstance(qualifier, str):
                cps.append(qualifier)
                continue
            reference = qualifier.notice_reference
            notices.append(_compact({
                "organization": reference.organization if reference else None,
                "notice_numbers": list(reference.notice_numbers) if reference else None,
                "explicit_text": qualifier.explicit_text}))
        out.append(_compact({"policy": _policy_oid(policy.policy_identifier), "cps": cps,
                             "user_notices": notices}))
    return out


def _policy_oid(oid: Any) -> str:
    return "anyPolicy" if oid == x509.OID_ANY_POLICY else oid.dotted_string


def _distribution_points(value: Any) -> list[dict]:
    return [_compact({
        "full_name": general_names(point.full_name),
        "relative_name": point.relative_name.rfc4514_string() if point.relative_name else None,
        "reasons": sorted(flag.value for flag in point.reasons) if point.reasons else None,
        "crl_issuer": general_names(point.crl_issuer)}) for point in value]


def _access(value: Any) -> list[dict]:
    return [{"method": oid_name(item.access_method),
             "location": general_name_text(item.access_location)} for item in value]


def _authority_key_id(value: Any) -> dict:
    serial = value.authority_cert_serial_number
    return _compact({
        "key_identifier": value.key_identifier.hex() if value.key_identifier else None,
        "issuer": general_names(value.authority_cert_issuer),
        "serial": f"{serial:X}" if serial is not None else None})


def _issuing_point(value: Any) -> dict:
    flags = ("only_contains_user_certs", "only_contains_ca_certs", "indirect_crl",
             "only_contains_attribute_certs")
    return _compact({
        "full_name": general_names(value.full_name),
        "relative_name": value.relative_name.rfc4514_string() if value.relative_name else None,
        "only_some_reasons": (sorted(flag.value for flag in value.only_some_reasons)
                              if value.only_some_reasons else None),
        **{flag: True for flag in flags if getattr(value, flag)}})


def _catalyst(value: Any) -> Any:
    """The three catalyst extensions (X.509 §9.8); None for another OID."""
    from ...x509 import catalyst
    from ...x509.signature import signature_algorithm_name

    oid = value.oid.dotted_string
    try:
        if oid == catalyst.SUBJECT_ALT_PUBLIC_KEY_INFO:
            algorithm, key = catalyst.decode_alt_public_key(value.value)
            return {"algorithm": signature_algorithm_name(algorithm), "key_bytes": len(key)}
        if oid == catalyst.ALT_SIGNATURE_ALGORITHM:
            return {"algorithm": signature_algorithm_name(
                catalyst.decode_alt_signature_algorithm(value.value)[0])}
        if oid == catalyst.ALT_SIGNATURE_VALUE:
            return {"signature_bytes": len(catalyst.decode_alt_signature(value.value))}
    except Exception:  # described, not judged: verify reports it
        return {"malformed": True, "der": value.value.hex()}
    return None


def _unrecognized(value: Any) -> Any:
    from ...x509.catalyst import NAMES

    if value.oid.dotted_string in NAMES:
        return _catalyst(value)
    return {"der": value.value.hex()}


_DESCRIBERS: dict[str, Callable[[Any], Any]] = {
    "BasicConstraints": lambda v: {"ca": v.ca, "path_length": v.path_length},
    "KeyUsage": _key_usage,
    "ExtendedKeyUsage": lambda v: [oid_name(oid) for oid in v],
    "SubjectAlternativeName": general_names,
    "IssuerAlternativeName": general_names,
    "CertificateIssuer": general_names,
    "SubjectKeyIdentifier": lambda v: v.digest.hex(),
    "AuthorityKeyIdentifier": _authority_key_id,
    "CRLDistributionPoints": _distribution_points,
    "FreshestCRL": _distribution_points,
    "AuthorityInformationAccess": _access,
    "SubjectInformationAccess": _access,
    "CertificatePolicies": _policies,
    "NameConstraints": lambda v: _compact({"permitted": general_names(v.permitted_subtrees),
                                           "excluded": general_names(v.excluded_subtrees)}),
    "PolicyConstraints": lambda v: _compact({
        "require_explicit_policy": v.require_explicit_policy,
        "inhibit_policy_mapping": v.inhibit_policy_mapping}),
    "InhibitAnyPolicy": lambda v: {"skip_certs": v.skip_certs},
    "OCSPNoCheck": lambda v: None,
    "PrecertPoison": lambda v: None,
    "TLSFeature": lambda v: [feature.name for feature in v],
    "PrecertificateSignedCertificateTimestamps": lambda v: {"count": len(v)},
    "SignedCertificateTimestamps": lambda v: {"count": len(v)},
    "PrivateKeyUsagePeriod": lambda v: _compact({
        "not_before": utc_text(v.not_before) if v.not_before else None,
        "not_after": utc_text(v.not_after) if v.not_after else None}),
    "MSCertificateTemplate": lambda v: _compact({
        "template_id": v.template_id.dotted_string, "major_version": v.major_version,
        "minor_version": v.minor_version}),
    "CRLNumber": lambda v: v.crl_number,
    "DeltaCRLIndicator": lambda v: {"base_crl_number": v.crl_number},
    "IssuingDistributionPoint": _issuing_point,
    "CRLReason": lambda v: v.reason.value,
    "InvalidityDate": lambda v: utc_text(v.invalidity_date_utc),
    "UnrecognizedExtension": _unrecognized,
}


def _der_hex(value: Any) -> dict:
    try:
        return {"der": value.public_bytes().hex()}
    except Exception:  # an extension type cryptography parses but cannot encode
        return {"der": None}


def describe_value(value: Any) -> Any:
    """What one extension value holds, as plain data."""
    return _DESCRIBERS.get(type(value).__name__, _der_hex)(value)


def describe_extension(ext: Any) -> dict:
    """``{"name", "oid", "critical", "value"}`` for one cryptography Extension."""
    return {"name": oid_name(ext.oid), "oid": ext.oid.dotted_string, "critical": ext.critical,
            "value": describe_value(ext.value)}


def describe_extensions(extensions: Any) -> list[dict]:
    return [describe_extension(ext) for ext in extensions]
