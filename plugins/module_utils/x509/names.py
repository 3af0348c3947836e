"""Names in certificates: DNS syntax, and the leaf's host / IP / e-mail check.

A host name matches a subjectAltName dNSName in the way RFC 6125 section 6.4
describes: case-insensitive, ASCII (an internationalised host is compared in
its A-label form), a wildcard only as the whole left-most label of a name of
three labels or more, standing for exactly one label. The subject CN is
never used to find the host. An IP address matches an iPAddress entry with
the same bytes; an e-mail address an rfc822Name with the same local part
(case-sensitive) and domain (case-insensitive).

For a server certificate, a CN that names the same host or address as a
subjectAltName entry but spells it differently (another case, the U-label
of an A-label, an address in hexadecimal, with leading zeros or not in RFC
5952 form) is refused: clients that still read the CN and clients that read
the SAN must not disagree on what the certificate names (CA/Browser Forum
BR 7.1.4.3 asks for a character-for-character copy).
"""

from __future__ import annotations

import ipaddress
import re
import socket

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.x509.oid import NameOID
except ImportError:
    x509 = NameOID = missing()  # type: ignore[misc]  # placeholders when a library is absent

from .chain import find_extension
from .verify_rules import Failure

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\Z", re.IGNORECASE | re.ASCII)


def is_dns_name(name: str) -> bool:
    """RFC 1034 preferred name syntax (letters, digits, hyphens), any case."""
    return 0 < len(name) <= 253 and name.isascii() and _DNS_NAME.match(name) is not None


def dns_pattern(value: str) -> tuple[bool, str] | None:
    """(is_wildcard, the name without "*.") of a subjectAltName dNSName, or
    None when it is not a usable DNS name or wildcard pattern."""
    wildcard = value.startswith("*.")
    rest = value[2:] if wildcard else value
    if not is_dns_name(rest) or (wildcard and rest.count(".") < 1):
        return None
    return wildcard, rest.lower()


def reference_host(host: str) -> str | None:
    """The host to look for, lower-case ASCII (A-labels), or None if it
    cannot be a DNS name."""
    name = host[:-1] if host.endswith(".") else host
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return name.lower() if is_dns_name(name) else None


def host_matches(pattern: str, host: str) -> bool:
    parsed = dns_pattern(pattern)
    if parsed is None:
        return False
    wildcard, rest = parsed
    if not wildcard:
        return rest == host
    label, dot, tail = host.partition(".")
    return bool(label) and dot == "." and tail == rest


def split_email(address: str) -> tuple[str, str] | None:
    """(local part, lower-case domain) of a mailbox, or None if malformed."""
    local, at, domain = address.rpartition("@")
    if not at or not local or "@" in local:
        return None
    if not is_dns_name(domain):
        return None
    return local, domain.lower()


def san_names(cert: x509.Certificate) -> list:
    """The subjectAltName entries of ``cert`` (an empty list when absent)."""
    san = find_extension(cert, x509.SubjectAlternativeName)
    return list(san.value) if san is not None else []


_NAME_PREFIX = {"DNSName": "DNS", "IPAddress": "IP", "RFC822Name": "email",
                "UniformResourceIdentifier": "URI", "DirectoryName": "dirName",
                "RegisteredID": "RID", "OtherName": "otherName"}


def general_name_text(name: x509.GeneralName) -> str:
    """One GeneralName with the prefix OpenSSL's configuration syntax gives
    its kind: ``DNS:www.example.com``, ``IP:192.0.2.1``, ``email:...``,
    ``URI:...``, ``dirName:CN=...`` (RFC 4514), ``RID:<oid>`` and
    ``otherName:<oid>:<hex of the value's DER>``. What the CA database
    records of a subjectAltName, and how every output shows such names."""
    kind = _NAME_PREFIX.get(type(name).__name__, type(name).__name__)
    if isinstance(name, x509.DirectoryName):
        return f"{kind}:{name.value.rfc4514_string()}"
    if isinstance(name, x509.RegisteredID):
        return f"{kind}:{name.value.dotted_string}"
    if isinstance(name, x509.OtherName):
        return f"{kind}:{name.type_id.dotted_string}:{name.value.hex()}"
    return f"{kind}:{name.value}"


def san_texts(cert: x509.Certificate) -> list[str]:
    """``general_name_text`` of each subjectAltName entry of ``cert``."""
    return [general_name_text(name) for name in san_names(cert)]


def leaf_name_failures(leaf: x509.Certificate, host: str | None, ip, email: str | None,
                       label: str) -> list[Failure]:
    """Does the leaf carry the host, IP address and e-mail address asked for?"""
    failures = []
    names = san_names(leaf)
    if host is not None:
        wanted = reference_host(host)
        if wanted is None:
            failures.append(Failure("name.invalid_reference",
                                    f"host {host!r} is not a valid DNS name"))
        elif not any(isinstance(n, x509.DNSName) and host_matches(n.value, wanted)
                     for n in names):
            failures.append(Failure("name.mismatch", f"{label} is not valid for host {wanted} "
                                                     "(no matching subjectAltName dNSName)"))
    if ip is not None and not any(isinstance(n, x509.IPAddress) and n.value == ip
                                  for n in names):
        failures.append(Failure("name.mismatch", f"{label} is not valid for IP address {ip} "
                                                 "(no matching subjectAltName iPAddress)"))
    if email is not None:
        wanted_mail = split_email(email)
        if wanted_mail is None:
            failures.append(Failure("name.invalid_reference",
                                    f"e-mail address {email!r} is malformed"))
        elif not any(isinstance(n, x509.RFC822Name) and split_email(n.value) == wanted_mail
                     for n in names):
            failures.append(Failure("name.mismatch", f"{label} is not valid for e-mail "
                                                     f"{email} (no matching rfc822Name)"))
    return failures


def _address_like(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a CN spells, in any form a lenient parser accepts
    (inet_aton: hexadecimal, octal, leading zeros, short forms)."""
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    if not text or any(c.isspace() for c in text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def cn_failures(leaf: x509.Certificate, label: str) -> list[Failure]:
    """A CN that spells one of the SAN names must spell it as the SAN does."""
    names = san_names(leaf)
    failures = []
    for attribute in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
        cn = attribute.value if isinstance(attribute.value, str) else ""
        address = _address_like(cn)
        if address is not None:
            same = [str(n.value) for n in names
                    if isinstance(n, x509.IPAddress) and n.value == address]
        else:
            host = reference_host(cn)
            same = [n.value for n in names if isinstance(n, x509.DNSName)
                    and host is not None and n.value.lower() == host]
        if same and cn not in same:
            failures.append(Failure("name.cn_spelling", f"{label}: subject CN {cn!r} names "
                                    f"{same[0]} but is not written as its subjectAltName entry"))
    return failures
