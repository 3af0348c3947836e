"""Plain-data descriptions of certificates and CRLs for `info` commands."""

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
except ImportError:
    x509 = hashes = missing()

from ..algorithms.registry import algorithm_for_public_key
from ..store.metafile import utc_text
from ..x509.parse import public_key_of_certificate


def _oid_name(oid):
    from ..x509.catalyst import NAMES

    if oid.dotted_string in NAMES:
        return NAMES[oid.dotted_string]
    name = getattr(oid, "_name", None)
    if not name or name == "Unknown OID":
        from ..x509.signature import signature_algorithm_name  # ML-DSA, composite...

        return signature_algorithm_name(oid.dotted_string)
    return name


def _public_key_name(cert, key_of=public_key_of_certificate):
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


def _extension_text(ext):
    value = ext.value
    if isinstance(value, x509.BasicConstraints):
        return "CA:%s%s" % (value.ca, "" if value.path_length is None
                            else ", pathlen:%d" % value.path_length)
    if isinstance(value, x509.SubjectAlternativeName):
        return ", ".join("%s:%s" % (type(n).__name__.replace("Name", "").replace("Address", ""),
                                    n.value) for n in value)
    if isinstance(value, x509.ExtendedKeyUsage):
        return ", ".join(_oid_name(o) for o in value)
    if isinstance(value, x509.KeyUsage):
        names = ("digital_signature", "content_commitment", "key_encipherment",
                 "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign")
        return ", ".join(n for n in names if getattr(value, n))
    if isinstance(value, (x509.SubjectKeyIdentifier,)):
        return value.digest.hex()
    if isinstance(value, x509.AuthorityKeyIdentifier):
        return (value.key_identifier or b"").hex()
    if isinstance(value, x509.UnrecognizedExtension):
        return _catalyst_text(value)
    return type(value).__name__


def _catalyst_text(value):
    """What a catalyst extension holds, in a few words."""
    from ..x509 import catalyst
    from ..x509.signature import signature_algorithm_name

    oid = value.oid.dotted_string
    try:
        if oid == catalyst.SUBJECT_ALT_PUBLIC_KEY_INFO:
            return "%s public key" % signature_algorithm_name(
                catalyst.decode_alt_public_key(value.value)[0])
        if oid == catalyst.ALT_SIGNATURE_ALGORITHM:
            return signature_algorithm_name(
                catalyst.decode_alt_signature_algorithm(value.value)[0])
        if oid == catalyst.ALT_SIGNATURE_VALUE:
            return "%d-byte signature" % len(catalyst.decode_alt_signature(value.value))
    except Exception:
        return "malformed"
    return "%d bytes" % len(value.value)


def describe_certificate(cert):
    return {
        "changed": False,
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": "%X" % cert.serial_number,
        "not_before": utc_text(cert.not_valid_before_utc),
        "not_after": utc_text(cert.not_valid_after_utc),
        "public_key_algorithm": _public_key_name(cert),
        "signature_algorithm": _oid_name(cert.signature_algorithm_oid),
        "extensions": [{"name": _oid_name(e.oid), "critical": e.critical,
                        "value": _extension_text(e)} for e in cert.extensions],
        "fingerprint_sha256": cert.fingerprint(hashes.SHA256()).hex().upper(),
        **_hybrid_fields(cert),
    }


def _hybrid_fields(obj):
    """Both keys / algorithms of a catalyst certificate or CRL (X.509 §9.8),
    the components of a composite key."""
    from ..x509.catalyst import ALT_SIGNATURE_ALGORITHM, extension_values
    from ..x509.catalyst import decode_alt_signature_algorithm
    from ..x509.catalyst_verify import alt_public_key
    from ..x509.signature import signature_algorithm_name

    out = {}
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


def add_composite_form(out, obj):
    """Add ``composite_form`` ("draft-13" or "legacy") and ``legacy_composite``
    (what is legacy, in words) to ``out`` for an object with a composite key
    or signature; nothing for any other object."""
    from ..x509.legacy import composite_form, legacy_findings

    form = composite_form(obj)
    if form is not None:
        out.setdefault("hybrid", "composite")
        out.update(composite_form=form, legacy_composite=legacy_findings(obj))


def describe_crl(crl):
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        number = None
    return {
        "changed": False,
        "issuer": crl.issuer.rfc4514_string(),
        "crl_number": number,
        "this_update": utc_text(crl.last_update_utc),
        "next_update": utc_text(crl.next_update_utc) if crl.next_update_utc else None,
        "signature_algorithm": _oid_name(crl.signature_algorithm_oid),
        "revoked_count": len(crl),
        **_hybrid_fields(crl),
    }
