"""Plain-data descriptions of certificates and CRLs for `info` commands."""

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ..algorithms.registry import algorithm_for_public_key
from ..store.metafile import utc_text
from ..x509.parse import public_key_of_certificate


def _oid_name(oid):
    name = getattr(oid, "_name", None)
    return oid.dotted_string if not name or name == "Unknown OID" else name


def _public_key_name(cert):
    try:
        key = public_key_of_certificate(cert)
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
    return type(value).__name__


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
    }


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
    }
