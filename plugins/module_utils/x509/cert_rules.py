"""Rules on one certificate of a path, given its place in it.

Both engines call these: engine_native for each certificate of a path it
built, engine_pyca from inside cryptography's path builder (extension
validator callbacks), so a certificate is judged the same way whichever
engine looks at it. Chain rules (pathLen, depth, validity, name
constraints across the path, revocation) live in the engines.

Roles: the leaf (the certificate being verified), an intermediate CA, or a
trust anchor. Trust anchors are held to the rules on what a CA may do (CA
flag, keyCertSign, critical basicConstraints, key strength, name
constraints, an identifier to chain by; RFC 5280 leaves that to the relying
party, OpenSSL with -x509_strict and cryptography do it), not to those on
how a CA must encode what it issues (serial number, authorityKeyIdentifier):
an anchor is trusted by configuration, and real roots with a zero serial or
no AKI are still in use.
"""

from __future__ import annotations

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
    from cryptography.x509.oid import ExtensionOID
except ImportError:
    x509 = UnsupportedAlgorithm = dsa = ec = rsa = ExtensionOID = missing()  # type: ignore[misc]  # placeholders when a library is absent

from ..der import content_bounds
from .chain import MALFORMED, find_extension, spki_bytes
from .name_constraints import constraint_failures
from .names import cn_failures, leaf_name_failures
from .purpose import issuer_eku_failure, leaf_purpose_failures
from .signature import describe_name
from .verify_policy import VerifyPolicy
from .verify_rules import Failure
from .webpki_rules import web_pki_failures

LEAF, CA, ANCHOR = "leaf", "intermediate", "anchor"

# Extensions whose meaning path validation applies: a critical extension
# outside this set (and the catalyst ones, never critical) cannot be honoured.
_PROCESSED = {ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE,
              ExtensionOID.EXTENDED_KEY_USAGE, ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
              ExtensionOID.NAME_CONSTRAINTS, ExtensionOID.POLICY_CONSTRAINTS,
              ExtensionOID.CERTIFICATE_POLICIES, ExtensionOID.POLICY_MAPPINGS,
              ExtensionOID.INHIBIT_ANY_POLICY}
# RFC 5280: these MUST be critical (True) or MUST NOT be (False).
_CRITICALITY = {ExtensionOID.AUTHORITY_KEY_IDENTIFIER: False,
                ExtensionOID.SUBJECT_KEY_IDENTIFIER: False,
                ExtensionOID.AUTHORITY_INFORMATION_ACCESS: False,
                ExtensionOID.NAME_CONSTRAINTS: True,
                ExtensionOID.POLICY_CONSTRAINTS: True,
                ExtensionOID.INHIBIT_ANY_POLICY: True}
_CURVES = {"secp256r1", "secp384r1", "secp521r1", "brainpoolP256r1", "brainpoolP384r1",
           "brainpoolP512r1"}


def label_of(cert: x509.Certificate, role: str) -> str:
    """How a certificate is named in messages: the leaf is "certificate"."""
    if role == LEAF:
        return "certificate"
    return f"CA certificate {describe_name(cert.subject)}"


def extensions_of(cert: x509.Certificate) -> dict | None:
    """{oid: Extension}, or None when the extensions cannot be decoded
    (duplicates, bad encodings)."""
    try:
        return {ext.oid: ext for ext in cert.extensions}
    except MALFORMED:
        return None


def certificate_failures(cert: x509.Certificate, role: str, policy: VerifyPolicy
                         ) -> list[Failure]:
    """Every rule ``cert`` breaks in ``role`` under ``policy``."""
    label = label_of(cert, role)
    extensions = extensions_of(cert)
    if extensions is None:
        return [Failure("cert.malformed", f"{label} has malformed or duplicate extensions")]
    failures = _structure_failures(cert, extensions, role, label, policy.web_pki)
    failures += _key_failures(cert, label)
    failures += _identifier_failures(cert, extensions, role, label)
    failures += _ca_flag_failures(extensions, role, label)
    if role == LEAF:
        failures += _leaf_failures(cert, policy, label)
    else:
        if not len(cert.subject):
            failures.append(Failure("cert.subject_empty", f"{label} has an empty subject"))
        eku = issuer_eku_failure(cert, policy.purpose, label)
        failures += [eku] if eku else []
    constraints = extensions.get(ExtensionOID.NAME_CONSTRAINTS)
    if constraints is not None:
        failures += constraint_failures(constraints.value, label)
    if policy.web_pki:
        failures += web_pki_failures(cert, extensions, role == LEAF, role == ANCHOR,
                                     policy.purpose, label)
    return failures


def _leaf_failures(leaf: x509.Certificate, policy: VerifyPolicy, label: str) -> list[Failure]:
    """The names and the purpose asked for, of the end certificate."""
    failures = leaf_name_failures(leaf, policy.host, policy.ip, policy.email, label)
    if policy.server_names:
        failures += cn_failures(leaf, label)
    if not len(leaf.subject):
        san = find_extension(leaf, x509.SubjectAlternativeName)
        if san is None or not san.critical:
            failures.append(Failure("name.empty_subject_san", f"{label} has an empty subject "
                                                              "and no critical subjectAltName"))
    return failures + leaf_purpose_failures(leaf, policy.purpose, label)


def _structure_failures(cert: x509.Certificate, extensions: dict, role: str, label: str,
                        web_pki: bool) -> list[Failure]:
    failures = []
    if cert.version != x509.Version.v3:
        failures.append(Failure("cert.version", f"{label} is not an X.509 v3 certificate"))
    if role != ANCHOR and not 0 < cert.serial_number < 1 << 160:
        failures.append(Failure("cert.serial", f"{label}: serial number {cert.serial_number} "
                                               "is not a positive number of at most 20 octets"))
    if not len(cert.issuer):
        failures.append(Failure("cert.issuer_empty", f"{label} has an empty issuer name"))
    for oid, ext in extensions.items():
        name = getattr(oid, "_name", oid.dotted_string)
        if ext.critical and oid not in _PROCESSED and oid not in _CRITICALITY:
            failures.append(Failure("cert.unknown_critical_extension",
                                    f"{label} has a critical extension {name} that is "
                                    "not processed"))
        elif oid == ExtensionOID.NAME_CONSTRAINTS and web_pki:
            continue  # the Baseline Requirements allow non-critical name constraints
        elif oid in _CRITICALITY and ext.critical != _CRITICALITY[oid]:
            failures.append(Failure("cert.extension_criticality",
                                    f"{label}: {name} must{'' if _CRITICALITY[oid] else ' not'} "
                                    "be critical"))
    return failures


def _curve_parameters_tag(cert: x509.Certificate) -> int | None:
    """The DER tag of an EC key's AlgorithmIdentifier parameters: 0x06 for
    a named curve, 0x30 for explicit parameters (None if unreadable)."""
    spki = spki_bytes(cert)
    try:
        start = content_bounds(spki)[0]  # AlgorithmIdentifier
        oid_start = content_bounds(spki, start)[0]
        params = content_bounds(spki, oid_start)[1]
        return spki[params]
    except IndexError:
        return None


def _key_failures(cert: x509.Certificate, label: str) -> list[Failure]:
    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return []  # PQC and composite keys (read elsewhere), or unreadable ones
    problem = None
    if isinstance(key, ec.EllipticCurvePublicKey) and _curve_parameters_tag(cert) != 0x06:
        problem = "an EC key with explicit curve parameters"
    elif isinstance(key, dsa.DSAPublicKey):
        problem = "a DSA key"
    elif isinstance(key, rsa.RSAPublicKey) and (key.key_size < 2048 or key.key_size % 8):
        problem = f"a {key.key_size}-bit RSA key"
    elif isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name not in _CURVES:
        problem = f"an EC key on {key.curve.name}"
    if problem is None:
        return []
    return [Failure("key.weak", f"{label} has {problem} (forbidden: DSA, RSA below 2048 bits "
                                "or not whole bytes, curves other than named P-256/384/521 "
                                "and brainpool)")]


def _identifier_failures(cert: x509.Certificate, extensions: dict, role: str, label: str
                         ) -> list[Failure]:
    failures = []
    aki = extensions.get(ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    ski = extensions.get(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    self_issued = cert.subject == cert.issuer
    if aki is None and not self_issued and role != ANCHOR:
        failures.append(Failure("aki.missing", f"{label} has no authorityKeyIdentifier"))
    elif aki is not None and aki.value.key_identifier is None:
        failures.append(Failure("aki.missing", f"{label}: authorityKeyIdentifier has no "
                                               "keyIdentifier"))
    elif (aki is not None and ski is not None and role == ANCHOR and self_issued
          and aki.value.key_identifier != ski.value.digest):
        failures.append(Failure("aki.mismatch", f"{label}: self-signed, but its "
                                                "authorityKeyIdentifier is not its own "
                                                "subjectKeyIdentifier"))
    if ski is None and role != LEAF:
        failures.append(Failure("ski.missing", f"{label} has no subjectKeyIdentifier"))
    return failures


def _ca_flag_failures(extensions: dict, role: str, label: str) -> list[Failure]:
    failures = []
    constraints = extensions.get(ExtensionOID.BASIC_CONSTRAINTS)
    usage = extensions.get(ExtensionOID.KEY_USAGE)
    is_ca = constraints is not None and constraints.value.ca
    if role != LEAF:
        if not is_ca:
            why = "no basicConstraints" if constraints is None else "cA is false"
            failures.append(Failure("basic_constraints.not_ca", f"{label} is not a CA ({why})"))
        if usage is not None and not usage.value.key_cert_sign:
            failures.append(Failure("key_usage.key_cert_sign",
                                    f"{label}: keyUsage does not include keyCertSign"))
    if constraints is not None and is_ca and not constraints.critical:
        failures.append(Failure("cert.extension_criticality",
                                f"{label}: basicConstraints of a CA must be critical"))
    if usage is not None and usage.value.key_cert_sign != is_ca:
        failures.append(Failure("key_usage.inconsistent", f"{label}: keyUsage keyCertSign is "
                                f"{'set' if usage.value.key_cert_sign else 'not set'} but "
                                f"basicConstraints cA is {'true' if is_ca else 'not'}"))
    if not is_ca and ExtensionOID.NAME_CONSTRAINTS in extensions:
        failures.append(Failure("name_constraints.in_leaf",
                                f"{label} carries name constraints but is not a CA"))
    return failures
