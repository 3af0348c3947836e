"""Plain-data descriptions of certificates and CRLs for `info` commands."""

from __future__ import annotations

from typing import Any, Callable

from ...dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
except ImportError:
    x509 = hashes = missing()

from ...algorithms.registry import algorithm_for_public_key
from ...store.metafile import utc_text
from ...x509.parse import public_key_of_certificate
from .extensions import describe_extension, describe_extensions, describe_value, oid_name


def _public_key_name(cert: Any, key_of: Callable[[Any], Any] = public_key_of_certificate) -> str:
    """Registry name of the key of a certificate (or, with ``key_of``, a CSR)."""
    try:
        key = key_of(cert)
    except Exception:  # an unknown key type still gets described by OID
        return cert.public_key_algorithm_oid.dotted_string
    algorithm = algorithm_for_public_key(key)
    if algorithm is not None:
        return algorithm.name
    params = getattr(key, "params", None)
    return params.name if params is not None else type(key).__name__


def describe_certificate(cert: x509.Certificate) -> dict[str, Any]:
    return {
        "changed": False,
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": "%X" % cert.serial_number,
        "not_before": utc_text(cert.not_valid_before_utc),
        "not_after": utc_text(cert.not_valid_after_utc),
        "public_key_algorithm": _public_key_name(cert),
        "signature_algorithm": oid_name(cert.signature_algorithm_oid),
        "extensions": describe_extensions(cert.extensions),
        "fingerprint_sha256": cert.fingerprint(hashes.SHA256()).hex().upper(),
        **_hybrid_fields(cert),
    }


def _hybrid_fields(obj: Any) -> dict[str, Any]:
    """Both keys / algorithms of a catalyst certificate or CRL (X.509 §9.8),
    the components of a composite key."""
    from ...x509.catalyst import ALT_SIGNATURE_ALGORITHM, extension_values
    from ...x509.catalyst import decode_alt_signature_algorithm
    from ...x509.catalyst_verify import alt_public_key
    from ...x509.signature import signature_algorithm_name

    out: dict[str, Any] = {}
    try:
        values = extension_values(obj)
    except Exception:  # described, not judged: verify reports malformed ones
        values = {}
    if isinstance(obj, x509.Certificate):
        try:
            key = public_key_of_certificate(obj)
        except Exception:
            key = None
        params = getattr(key, "params", None)
        if params is not None and hasattr(params, "mldsa"):
            out["hybrid"] = "composite"
            out["composite_components"] = [params.mldsa, params.trad.component
                                           + (" " + params.trad.curve if params.trad.curve
                                              else "")]
        try:
            alt = alt_public_key(obj)
        except Exception:
            alt = None
        if alt is not None:
            algorithm = algorithm_for_public_key(alt)
            out["alt_public_key_algorithm"] = algorithm.name if algorithm else type(alt).__name__
    if ALT_SIGNATURE_ALGORITHM in values:
        try:
            oid, _params = decode_alt_signature_algorithm(values[ALT_SIGNATURE_ALGORITHM])
            out["alt_signature_algorithm"] = signature_algorithm_name(oid)
        except Exception:
            out["alt_signature_algorithm"] = "malformed"
    if values:
        out.setdefault("hybrid", "catalyst")
    add_composite_form(out, obj)
    return out


def add_composite_form(out: dict[str, Any], obj: Any) -> None:
    """Add ``composite_form`` ("draft-13" or "legacy") and ``legacy_composite``
    (what is legacy, in words) to ``out`` for an object with a composite key
    or signature; nothing for any other object."""
    from ...x509.legacy import composite_form, legacy_findings

    form = composite_form(obj)
    if form is not None:
        out.setdefault("hybrid", "composite")
        out.update(composite_form=form, legacy_composite=legacy_findings(obj))


def describe_crl(crl: x509.CertificateRevocationList, entries: bool = False) -> dict[str, Any]:
    """A CRL's fields and extensions; with ``entries``, every revoked
    certificate too (serial, date, reason, invalidity date, other entry
    extensions)."""
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        number = None
    described = {
        "changed": False,
        "issuer": crl.issuer.rfc4514_string(),
        "crl_number": number,
        "this_update": utc_text(crl.last_update_utc),
        "next_update": utc_text(crl.next_update_utc) if crl.next_update_utc else None,
        "signature_algorithm": oid_name(crl.signature_algorithm_oid),
        "revoked_count": len(crl),
        "extensions": describe_extensions(crl.extensions),
        **_hybrid_fields(crl),
    }
    if entries:
        described["entries"] = [describe_crl_entry(entry) for entry in crl]
    return described


_ENTRY_FIELDS = {"CRLReason": "reason", "InvalidityDate": "invalidity_date",
                 "CertificateIssuer": "certificate_issuer"}


def describe_crl_entry(entry: x509.RevokedCertificate) -> dict[str, Any]:
    """One revoked certificate of a CRL: ``serial``, ``revocation_date``,
    ``reason``, ``invalidity_date``, ``certificate_issuer`` when present,
    and any other entry extension."""
    described = {"serial": f"{entry.serial_number:X}",
                 "revocation_date": utc_text(entry.revocation_date_utc)}
    others = []
    try:
        for extension in entry.extensions:
            field = _ENTRY_FIELDS.get(type(extension.value).__name__)
            if field:
                described[field] = describe_value(extension.value)
            else:
                others.append(describe_extension(extension))
    except ValueError as exc:  # cryptography parses entry extensions lazily
        for field in _ENTRY_FIELDS.values():
            described.pop(field, None)
        described["malformed_extensions"] = " ".join(str(exc).split())[:200]
        return described
    if others:
        described["extensions"] = others
    return described
