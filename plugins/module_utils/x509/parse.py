"""Reading certificates, CRLs and CSRs (PEM or DER) and their public keys.

Every loader takes the raw bytes plus ``where`` (e.g. ``"file ca.crt"``),
the text that opens the one-line InputError raised for anything that is not
a well-formed object of the expected kind. Nothing here verifies signatures.
"""

import importlib
import importlib.util
import re

from ..dependencies import imported_later, missing

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = UnsupportedAlgorithm = serialization = missing()  # type: ignore[misc]  # placeholders when a library is absent

from ..algorithms.spki import load_spki, split_spki
from ..errors import InputError
from ..input_file import read_crl_input, read_input

# pyasn1 reads only the keys cryptography cannot load; imported there.
imported_later("pyasn1", "pyasn1_modules")

_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")


def _as_bytes(data, where, what):
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError("%s: not a PEM or DER %s" % (where, what))
    return bytes(data)


def _is_pem(data):
    return b"-----BEGIN " in data


# PEM labels each kind of object may carry (RFC 7468 and OpenSSL variants).
_LABELS = {
    "certificate": {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"},
    "CRL": {"X509 CRL"},
    "certificate request": {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"},
}


def _fail(where, what, data):
    labels = sorted({m.decode("ascii") for m in _PEM_LABEL.findall(data)})
    found = ""
    if labels and not set(labels) & _LABELS[what]:
        found = " (found PEM %s)" % ", ".join(labels)
    return InputError("%s: not a PEM or DER %s%s" % (where, what, found))


def _load(data, where, what, pem_loader, der_loader, parts=("subject", "issuer", "extensions")):
    data = _as_bytes(data, where, what)
    loader = pem_loader if _is_pem(data) else der_loader
    try:
        return _parsed(loader(data), where, what, parts)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion):
        raise _fail(where, what, data) from None


def _parsed(obj, where, what, parts=("subject", "issuer", "extensions")):
    """``obj`` after parsing the parts cryptography decodes lazily (names,
    extensions), so that a malformed one is an InputError here rather than a
    ValueError wherever it is first used."""
    for part in parts:
        if not hasattr(type(obj), part):
            continue
        try:
            getattr(obj, part)
        except ValueError as exc:
            raise InputError("%s: malformed %s in the %s (%s)"
                             % (where, part, what, " ".join(str(exc).split())[:200])) from None
    return obj


# Path validation reads certificates whose extensions may be malformed: that
# is a rule it reports (cert.malformed), not an input error.
_NAMES_ONLY = ("subject", "issuer")


def load_certificate(data, where="input", extensions=True):
    """One certificate from PEM (the first block) or DER bytes; with
    ``extensions`` false, malformed extensions are left for the caller."""
    return _load(data, where, "certificate", x509.load_pem_x509_certificate,
                 x509.load_der_x509_certificate,
                 ("subject", "issuer", "extensions") if extensions else _NAMES_ONLY)


def load_certificates(data, where="input", extensions=True):
    """Every certificate of a PEM bundle, or the one certificate of DER bytes."""
    data = _as_bytes(data, where, "certificate")
    if not _is_pem(data):
        return [load_certificate(data, where, extensions)]
    try:
        certs = x509.load_pem_x509_certificates(data)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion):
        raise _fail(where, "certificate", data) from None
    parts = ("subject", "issuer", "extensions") if extensions else _NAMES_ONLY
    return [_parsed(cert, where, "certificate", parts) for cert in certs]


def load_crl(data, where="input"):
    """One CRL from PEM or DER bytes."""
    return _load(data, where, "CRL", x509.load_pem_x509_crl, x509.load_der_x509_crl)


def load_csr(data, where="input"):
    """One PKCS#10 certificate request from PEM or DER bytes; a BER request
    that is not DER (QPKI's catalyst CSRs) is read through its DER
    re-encoding (x509/csr_reencoded.py)."""
    try:
        return _load(data, where, "certificate request",
                     x509.load_pem_x509_csr, x509.load_der_x509_csr)
    except InputError:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise
        from .csr_reencoded import load_reencoded_csr

        csr = load_reencoded_csr(bytes(data))
        if csr is None:
            raise
        return _parsed(csr, where, "certificate request")


def read_bytes(path):
    """The contents of the input file ``path`` (size-capped); InputError
    naming the file when unreadable or too large."""
    return read_input(path, "file")


def load_certificate_file(path):
    return load_certificate(read_bytes(path), "file %s" % path)


def load_certificates_file(path):
    return load_certificates(read_bytes(path), "file %s" % path)


def load_crl_file(path):
    return load_crl(read_crl_input(path), "file %s" % path)


def load_csr_file(path):
    return load_csr(read_bytes(path), "file %s" % path)


# --------------------------------------------------------------------------
# Public keys, including those cryptography cannot load (SLH-DSA, composite)
# --------------------------------------------------------------------------

def composite_module():
    """algorithms.composite when it is present, else None."""
    relative = "..algorithms.composite"
    name = importlib.util.resolve_name(relative, __package__)
    try:
        return importlib.import_module(relative, __package__)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def _decode(der, spec, what):
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error

    try:
        value, rest = decoder.decode(der, asn1Spec=spec)
    except (PyAsn1Error, OverflowError):  # pyasn1 overflows on >= 2**63 lengths
        raise InputError("malformed %s" % what) from None
    if rest:
        raise InputError("malformed %s: trailing data" % what)
    return value


def certificate_spki_der(cert):
    """DER SubjectPublicKeyInfo of a certificate, read with pyasn1."""
    from pyasn1.codec.der import encoder
    from pyasn1_modules import rfc5280

    tbs = _decode(cert.tbs_certificate_bytes, rfc5280.TBSCertificate(), "certificate")
    return encoder.encode(tbs["subjectPublicKeyInfo"])


def csr_spki_der(csr):
    """DER SubjectPublicKeyInfo of a PKCS#10 request, read with pyasn1."""
    from pyasn1.codec.der import encoder
    from pyasn1_modules import rfc2986

    info = _decode(csr.tbs_certrequest_bytes, rfc2986.CertificationRequestInfo(),
                   "certificate request")
    return encoder.encode(info["subjectPKInfo"])


def public_key_from_spki(der):
    """A public key object for any SPKI we support: cryptography's own keys,
    SlhDsaPublicKey, or CompositePublicKey when composite support exists (a
    LegacyCompositePublicKey for the pre-draft-13 encoding, read only)."""
    try:
        return serialization.load_der_public_key(der)
    except (UnsupportedAlgorithm, ValueError):
        pass
    oid, raw = split_spki(der)
    composite = composite_module()
    if composite is not None:
        params = composite.params_by_oid(oid)
        if params is not None:
            if composite.is_legacy_encoding(raw, params, "public key"):
                from ..algorithms.composite_legacy import LegacyCompositePublicKey

                return LegacyCompositePublicKey.from_bytes(params, raw)
            return composite.CompositePublicKey.from_bytes(params, raw)
    return load_spki(der)


def _native_or_spki(obj, spki_of):
    try:
        return obj.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return public_key_from_spki(spki_of(obj))


def public_key_of_certificate(cert):
    """The subject public key of ``cert`` as an object with ``verify()``."""
    return _native_or_spki(cert, certificate_spki_der)


def public_key_of_csr(csr):
    """The public key of a PKCS#10 request as an object with ``verify()``."""
    return _native_or_spki(csr, csr_spki_der)
