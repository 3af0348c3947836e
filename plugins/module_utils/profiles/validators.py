"""Checks for the value kinds that certificates carry.

Each function returns the value in its canonical form or raises ``Invalid``
with a short detail (the caller adds profile and field):

- DNS names: LDH labels of 1..63 characters, no leading/trailing hyphen,
  253 characters at most; non-ASCII labels are converted to IDNA A-labels.
  A wildcard is accepted only when allowed and only as the whole leftmost
  label, followed by at least two labels (``*.example.com``). An IP
  address is never a DNS name, nor is a name whose last label is a number
  (decimal or ``0x`` hex: resolvers and browsers read ``10.1`` or
  ``host.0x7f`` as IPv4 addresses; RFC 1123 §2.1 forbids a numeric
  top-level label). A single-label name (``com``, ``localhost``,
  ``intranet``) is refused unless the caller allows it.
- IP addresses and networks: ``ipaddress`` module, canonical text.
- Email addresses: dot-atom local part, ``@``, a valid DNS domain.
- URIs: a scheme is required, ASCII only, no spaces.
- OIDs: dotted decimal, first arc 0..2.
"""

import functools
import ipaddress
import re

from .messages import Invalid, quote

_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(r"%s(?:\.%s)*" % (_ATOM, _ATOM))
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_OID = re.compile(r"[0-2](?:\.(?:0|[1-9][0-9]*))+")
# A last label that the WHATWG URL host parser (browsers) and inet_aton
# take for a number, making the whole name an IPv4 address.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*", re.IGNORECASE)


def _to_a_label(label):
    """ASCII form of one label (IDNA for non-ASCII labels)."""
    if label.isascii():
        if label.lower().startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                raise Invalid("bad IDNA label") from None
        return label
    try:
        return label.encode("idna").decode("ascii")
    except UnicodeError:
        raise Invalid("bad IDNA label") from None


def dns_name(value: object, allow_wildcard: bool = False,
             allow_single_label: bool = False) -> str:
    """Validate a DNS name; returns it with IDNA labels in A-label form."""
    if isinstance(value, str):  # one name is checked several times per certificate
        return _dns_name(value, bool(allow_wildcard), bool(allow_single_label))
    return _dns_name_uncached(value, allow_wildcard, allow_single_label)


@functools.lru_cache(maxsize=4096)
def _dns_name(value: str, allow_wildcard: bool, allow_single_label: bool) -> str:
    return _dns_name_uncached(value, allow_wildcard, allow_single_label)


def _dns_name_uncached(value: object, allow_wildcard: bool, allow_single_label: bool) -> str:
    def bad():  # built only when raised: most names are valid
        return Invalid("%s is not a valid DNS name" % quote(value))

    if not isinstance(value, str) or not value or value != value.strip():
        raise bad()
    if _is_ip_literal(value):
        raise Invalid(f"{quote(value)} is an IP address, not a DNS name "
                      "(IP addresses go in an IP address field)")
    labels = value.split(".")
    if labels[0] == "*":
        if not allow_wildcard:
            raise Invalid("%s: wildcards are not allowed" % quote(value))
        if len(labels) < 3:
            raise Invalid("%s: a wildcard needs at least two labels after it" % quote(value))
        rest = labels[1:]
    else:
        rest = labels
        if any("*" in label for label in labels):
            raise Invalid("%s: a wildcard must be the whole leftmost label" % quote(value))
    out = []
    for label in rest:
        try:
            ascii_label = _to_a_label(label)
        except Invalid:
            raise bad() from None
        if not _LDH_LABEL.fullmatch(ascii_label):
            raise bad()
        out.append(ascii_label)
    if _NUMERIC_LABEL.fullmatch(out[-1]):
        raise Invalid(f"{quote(value)} ends in a numeric label, which resolvers read as an "
                      "IPv4 address: not a DNS name")
    if len(labels) == 1 and not allow_single_label:
        raise Invalid(f"{quote(value)} is a single-label name; this profile does not allow "
                      "them (allow_single_label)")
    if labels[0] == "*":
        out.insert(0, "*")
    result = ".".join(out)
    if len(result) > 253:
        raise Invalid("%s is longer than 253 characters" % quote(value))
    return result


def _is_ip_literal(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def ip_address(value):
    """Validate an IPv4/IPv6 address; returns its canonical text."""
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise Invalid("%s is not a valid IP address" % quote(value)) from None


def ip_network(value):
    """Validate a CIDR network (host bits must be zero); canonical text."""
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=True))
    except ValueError:
        raise Invalid("%s is not a valid IP network in CIDR form" % quote(value)) from None


def email(value):
    """Validate ``local@domain``; the domain is IDNA-encoded when needed."""
    def bad():
        return Invalid("%s is not a valid email address" % quote(value))

    if not isinstance(value, str) or value.count("@") != 1:
        raise bad()
    local, domain = value.split("@")
    if not _LOCAL_PART.fullmatch(local) or len(local) > 64:
        raise bad()
    try:
        domain = dns_name(domain, allow_single_label=True)
    except Invalid:
        raise bad() from None
    return "%s@%s" % (local, domain)


def uri(value):
    """Validate an absolute URI: scheme required, ASCII, no whitespace."""
    def bad():
        return Invalid("%s is not a valid URI (a scheme such as http: is required)"
                       % quote(value))

    if not isinstance(value, str) or not value.isascii():
        raise bad()
    if any(ch.isspace() or ord(ch) < 32 or ch in '<>"' for ch in value):
        raise bad()
    scheme, sep, rest = value.partition(":")
    if not sep or not _SCHEME.fullmatch(scheme) or not rest:
        raise bad()
    if rest.startswith("//") and len(rest) == 2:
        raise bad()
    return value


def oid(value):
    """Validate a dotted OID such as ``1.3.6.1.4.1.99999.1``."""
    text = str(value).strip() if isinstance(value, (str, int)) else value
    if not isinstance(text, str) or not _OID.fullmatch(text):
        raise Invalid("%s is not a dotted OID" % quote(value))
    arcs = [int(arc) for arc in text.split(".")]
    if arcs[0] < 2 and arcs[1] > 39:
        raise Invalid("%s is not a valid OID (second arc above 39)" % quote(value))
    return text


def email_constraint(value):
    """A name-constraint email entry: an address, a host or ``.domain``."""
    if isinstance(value, str) and "@" in value:
        return email(value)
    return _domain_constraint(value, "email")


def dns_constraint(value):
    """A name-constraint DNS entry: a domain, optionally with a leading dot."""
    return _domain_constraint(value, "DNS")


def _domain_constraint(value, kind):
    if not isinstance(value, str):
        raise Invalid("%s is not a valid %s constraint" % (quote(value), kind))
    dot = value.startswith(".")
    try:
        name = dns_name(value[1:] if dot else value, allow_single_label=True)
    except Invalid:
        raise Invalid("%s is not a valid %s constraint" % (quote(value), kind)) from None
    return ("." if dot else "") + name
