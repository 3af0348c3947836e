"""Distinguished names in OpenSSL's one-line form (``/C=FR/O=Example/CN=x``).

This is the form ``openssl ca`` writes in the subject column of index.txt
(``X509_NAME_oneline``): each attribute as ``/<short name>=<value>``, members
of a multi-valued RDN joined with ``+``, ``/`` and ``+`` inside values escaped
with a backslash, and every byte outside printable ASCII (control characters,
UTF-8 bytes, the zero bytes of a BMPString) written as ``\\xHH``. Values are
the raw string octets, in the order the certificate encodes them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..dependencies import imported_later
from ..der import content_bounds

if TYPE_CHECKING:
    from cryptography import x509

# pyasn1 only decodes the names cryptography's attributes cannot give as is
# (see oneline): imported there, not at start-up.
imported_later("pyasn1", "pyasn1_modules")

# OpenSSL's short names (OBJ_nid2sn) for the attribute types in use in
# subject names; any other type is written as its dotted OID, as OpenSSL
# does for a type it does not know.
SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.13": "description",
    "2.5.4.15": "businessCategory",
    "2.5.4.16": "postalAddress",
    "2.5.4.17": "postalCode",
    "2.5.4.18": "postOfficeBox",
    "2.5.4.19": "physicalDeliveryOfficeName",
    "2.5.4.20": "telephoneNumber",
    "2.5.4.41": "name",
    "2.5.4.42": "GN",
    "2.5.4.43": "initials",
    "2.5.4.44": "generationQualifier",
    "2.5.4.45": "x500UniqueIdentifier",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "2.5.4.72": "role",
    "2.5.4.97": "organizationIdentifier",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.2.840.113549.1.9.2": "unstructuredName",
    "1.2.840.113549.1.9.8": "unstructuredAddress",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
}

# Universal tags of the character string types; OpenSSL prints their content
# octets. For any other type it prints the whole encoding.
_STRING_TAGS = {12, 18, 19, 20, 21, 22, 25, 26, 27, 28, 30}
_GENERAL_STRING = 27


def _value_octets(der: bytes) -> bytes:
    tag = der[0]
    start, end = content_bounds(der)
    content = der[start:end]
    if tag not in _STRING_TAGS:
        return der
    if tag == _GENERAL_STRING and content and len(content) % 4 == 0:
        # OpenSSL's heuristic: a GeneralString that looks like UCS-4 with
        # only the low byte in use is printed from its low bytes.
        if not any(content[i] for i in range(len(content)) if i % 4 != 3):
            return content[3::4]
    return content


_PLAIN = re.compile(rb"[\x20-\x7e]*")


def escape_octets(data: bytes, escape_separators: bool) -> str:
    """Printable ASCII as is, anything else as ``\\xHH``; with
    ``escape_separators``, ``/`` and ``+`` become ``\\/`` and ``\\+``."""
    if _PLAIN.fullmatch(data) is not None:  # the common case, without a loop
        text = data.decode("ascii")
        if escape_separators:
            text = text.replace("/", "\\/").replace("+", "\\+")
        return text
    out: list[str] = []
    for byte in data:
        if byte < 0x20 or byte > 0x7E:
            out.append(f"\\x{byte:02X}")
        elif escape_separators and byte in b"/+":
            out.append("\\" + chr(byte))
        else:
            out.append(chr(byte))
    return "".join(out)


def escape_text(text: str) -> str:
    """``text`` (an already formatted one-line name) with control and
    non-ASCII characters escaped as OpenSSL would have written them, so it
    fits in one tab-separated index field."""
    return escape_octets(text.encode("utf-8"), escape_separators=False)


# String types whose content octets are the UTF-8 (here: ASCII-compatible)
# encoding of the value cryptography gives, so no ASN.1 decoding is needed.
_DIRECT_TYPES: set[object] | None = None


def _direct_types() -> set[object]:
    global _DIRECT_TYPES
    if _DIRECT_TYPES is None:
        from cryptography.x509.name import _ASN1Type

        _DIRECT_TYPES = {_ASN1Type.UTF8String, _ASN1Type.PrintableString,
                         _ASN1Type.IA5String}
    return _DIRECT_TYPES


def _oneline_direct(name: x509.Name) -> str | None:
    """The one-line form read from cryptography's attributes, or None when
    an attribute needs the full decoding (multi-valued RDN, other string
    types, non-string values)."""
    try:
        direct = _direct_types()
    except ImportError:
        return None
    parts: list[str] = []
    for rdn in name.rdns:
        if len(rdn) != 1:
            return None
        for attribute in rdn:
            if getattr(attribute, "_type", None) not in direct \
                    or not isinstance(attribute.value, str):
                return None
            oid = attribute.oid.dotted_string
            value = escape_octets(attribute.value.encode("utf-8"), True)
            parts.append(f"/{SHORT_NAMES.get(oid, oid)}={value}")
    return "".join(parts)


def oneline(name: x509.Name) -> str:
    """One-line form of a ``cryptography.x509.Name``."""
    text = _oneline_direct(name)
    if text is not None:
        return text
    from pyasn1.codec.der import decoder
    from pyasn1_modules import rfc5280

    decoded, dummy = decoder.decode(name.public_bytes(), asn1Spec=rfc5280.Name())
    parts: list[str] = []
    for rdn in decoded["rdnSequence"]:
        for position, atv in enumerate(rdn):
            oid = str(atv["type"])
            label = SHORT_NAMES.get(oid, oid)
            value = escape_octets(_value_octets(atv["value"].asOctets()), True)
            parts.append(f"{'/' if position == 0 else '+'}{label}={value}")
    return "".join(parts)
