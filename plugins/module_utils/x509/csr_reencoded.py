"""Reading a certificate request that is valid BER but not DER.

cryptography refuses a PKCS#10 request whose encoding is not DER; QPKI
writes its catalyst CSRs with the attributes SET OF in insertion order
(DER sorts them), so they are refused as "not a certificate request".
OpenSSL reads them. Here such a request is decoded with pyasn1, re-encoded
in DER for cryptography to read its names, key and attributes, and wrapped
so that signatures are still checked over the request info exactly as it
was signed, and so that the request is written out as it was received.
"""

from ..dependencies import imported_later, missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ..der import pem_armor

imported_later("pyasn1", "pyasn1_modules")

NOT_DER_NOTE = ("not DER-encoded (read from its DER re-encoding; signatures checked over "
                "the bytes as signed)")


class ReencodedCsr:
    """A cryptography CertificateSigningRequest read from the DER
    re-encoding of a BER request, with the original bytes where they count:
    ``tbs_certrequest_bytes`` (what was signed) and ``public_bytes``."""

    reencoded = True

    def __init__(self, csr, original_der: bytes, tbs: bytes):
        self._csr = csr
        self._der = original_der
        self._tbs = tbs

    @property
    def tbs_certrequest_bytes(self) -> bytes:
        return self._tbs

    # Named here (not only through __getattr__) so that parse.py checks them
    # on loading as it does for cryptography's own objects.
    @property
    def subject(self):
        return self._csr.subject

    @property
    def extensions(self):
        return self._csr.extensions

    @property
    def is_signature_valid(self) -> bool:
        from ..errors import VerificationError
        from .signature import verify_csr_signature

        try:
            verify_csr_signature(self)
        except VerificationError:
            return False
        return True

    def public_bytes(self, encoding) -> bytes:
        if encoding == serialization.Encoding.DER:
            return self._der
        return pem_armor(self._der, "CERTIFICATE REQUEST")

    def __getattr__(self, name):
        if name.startswith("_"):  # e.g. _csr itself while unpickling: no recursion
            raise AttributeError(name)
        return getattr(self._csr, name)

    def __repr__(self) -> str:
        return f"<ReencodedCsr {self._csr.subject.rfc4514_string()}>"


def _der_of(data: bytes) -> "bytes | None":
    """The DER (or BER) bytes of a PEM request, or ``data`` itself."""
    import base64
    import binascii
    import re

    if b"-----BEGIN " not in data:
        return data
    match = re.search(rb"-----BEGIN (NEW )?CERTIFICATE REQUEST-----(.*?)-----END", data, re.S)
    if match is None:
        return None
    try:
        return base64.b64decode(b"".join(match.group(2).split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def load_reencoded_csr(data: bytes) -> "ReencodedCsr | None":
    """A ReencodedCsr for a BER-but-not-DER request, or None when ``data``
    is not a request pyasn1 can decode (the caller reports the error)."""
    from pyasn1.codec.ber import decoder
    from pyasn1.codec.der import encoder
    from pyasn1.error import PyAsn1Error
    from pyasn1_modules import rfc2986

    from .signature import signed_spec

    der = _der_of(data)
    if not der:
        return None
    try:
        signed, rest = decoder.decode(der, asn1Spec=signed_spec())
        request, rest2 = decoder.decode(der, asn1Spec=rfc2986.CertificationRequest())
        canonical = encoder.encode(request)
    except (PyAsn1Error, OverflowError, RecursionError, TypeError, ValueError):
        return None
    if rest or rest2 or canonical == der:
        return None  # trailing data, or DER that cryptography refused for another reason
    try:
        csr = x509.load_der_x509_csr(canonical)
    except ValueError:
        return None
    return ReencodedCsr(csr, der, bytes(signed["tbs"]))
