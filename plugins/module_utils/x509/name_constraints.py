"""Name constraints (RFC 5280 4.2.1.10) for every name form we meet.

A CA's constraints apply to the names of each certificate below it in the
path: its subject (as a directoryName, and each emailAddress attribute as
an rfc822Name) and its subjectAltName entries. For every name form that has
permitted subtrees, each name of that form must lie in one of them; no name
may lie in an excluded subtree. Forms:

dNSName        the name itself or any name with more labels on the left; a
               wildcard SAN stands for all the names it could match
iPAddress      address within the network (address and mask)
rfc822Name     "mailbox@host" exactly, "host" (any mailbox there), or
               ".domain" (any mailbox in a subdomain)
directoryName  the subtree's RDNs are the first RDNs of the name
               (attribute values compared case- and space-insensitively)
URI            the URI's host is "host", or within ".domain"

A constraint of another form (otherName, registeredID) cannot be judged:
when the certificate below carries a name of that form, the path fails.
A name or constraint that cannot be read fails the path too. The work, names
times subtrees, is capped (Budget.name_checks).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.x509.oid import NameOID
except ImportError:
    x509 = NameOID = missing()

from .names import dns_pattern, is_dns_name, san_names, split_email
from .verify_rules import Failure

_JUDGED = (x509.DNSName, x509.IPAddress, x509.RFC822Name, x509.DirectoryName,
           x509.UniformResourceIdentifier)


def _subtrees(constraints: x509.NameConstraints) -> tuple[list, list]:
    return list(constraints.permitted_subtrees or []), list(constraints.excluded_subtrees or [])


def constraint_failures(constraints: x509.NameConstraints, label: str) -> list[Failure]:
    """Subtrees that cannot be interpreted (a CA rule, checked on the CA)."""
    failures = []
    for subtree in sum(_subtrees(constraints), []):
        if isinstance(subtree, x509.DNSName):
            bad = subtree.value != "" and not is_dns_name(subtree.value)
        elif isinstance(subtree, x509.RFC822Name):
            bad = _email_constraint(subtree.value) is None
        elif isinstance(subtree, x509.UniformResourceIdentifier):
            bad = not is_dns_name(subtree.value.removeprefix("."))
        else:
            continue
        if bad:
            failures.append(Failure("name_constraints.malformed",
                                    f"{label}: name constraint {subtree.value!r} is malformed"))
    return failures


def constrained_names(cert: x509.Certificate) -> list[tuple[type, object]]:
    """The names of ``cert`` that name constraints apply to, as (form,
    value) pairs: the form a GeneralName class, the value its value."""
    names: list[tuple[type, object]] = []
    if len(cert.subject):
        names.append((x509.DirectoryName, cert.subject))
    for attribute in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS):
        names.append((x509.RFC822Name, str(attribute.value)))
    return names + [(type(name), name.value) for name in san_names(cert)]


def name_count(cert: x509.Certificate) -> int:
    """len(constrained_names(cert)), without building them."""
    return (bool(len(cert.subject)) + len(san_names(cert))
            + len(cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)))


def work(constraints: x509.NameConstraints, names: int) -> int:
    """Comparisons to judge ``names`` names against ``constraints``."""
    permitted, excluded = _subtrees(constraints)
    return (len(permitted) + len(excluded)) * names


def name_failure(constraints: x509.NameConstraints, names: list[tuple[type, object]],
                 ca_label: str, cert_label: str) -> Failure | None:
    """The first name of ``names`` (one certificate's constrained_names)
    that the CA's constraints refuse, as a Failure; None when all are allowed."""
    permitted, excluded = _subtrees(constraints)
    permitted_forms = {type(subtree) for subtree in permitted}
    constrained_forms = permitted_forms | {type(subtree) for subtree in excluded}
    for name in names:
        form = name[0]
        if form not in constrained_forms:
            continue
        shown = _shown(name)
        if form not in _JUDGED:
            return Failure("name_constraints.unsupported",
                           f"{cert_label}: {ca_label} constrains {form.__name__} names, which "
                           "cannot be checked")
        if any(isinstance(s, form) and _within(name, s, excluded=True) for s in excluded):
            return Failure("name_constraints.excluded",
                           f"{cert_label}: name {shown} is excluded by {ca_label}")
        if form in permitted_forms and not any(
                isinstance(s, form) and _within(name, s, excluded=False) for s in permitted):
            return Failure("name_constraints.permitted",
                           f"{cert_label}: name {shown} is not permitted by {ca_label}")
    return None


def _shown(name: tuple[type, object]) -> str:
    form, value = name
    if form is x509.DirectoryName:
        return repr(value.rfc4514_string())
    return repr(str(value))


def _within(name: tuple[type, object], subtree, excluded: bool) -> bool:
    """Does ``name`` fall in ``subtree``? A name that cannot be read counts
    as inside an excluded subtree and outside a permitted one."""
    form, value = name
    if form is x509.DNSName:
        return _dns_within(value, subtree.value.lower(), excluded)
    if form is x509.IPAddress:
        return value.version == subtree.value.version and value in subtree.value
    if form is x509.RFC822Name:
        mailbox = split_email(value)
        return excluded if mailbox is None else _email_within(mailbox, subtree.value)
    if form is x509.DirectoryName:
        return _dn_within(value, subtree.value)
    host = _uri_host(value)
    return excluded if host is None else _domain_within(host, subtree.value.lower())


def _domain_within(name: str, constraint: str) -> bool:
    if constraint.startswith("."):
        return name.endswith(constraint)
    return name == constraint


def _dns_within(value: str, constraint: str, excluded: bool) -> bool:
    parsed = dns_pattern(value)
    if parsed is None:
        return excluded
    wildcard, rest = parsed

    def under(name: str) -> bool:
        return constraint == "" or name == constraint or name.endswith("." + constraint)

    if not wildcard:
        return under(rest)
    if under(rest):  # every name "*.rest" stands for is in the subtree
        return True
    # for an exclusion it is enough that one of them is: "label.rest"
    return excluded and "." in constraint and constraint.split(".", 1)[1] == rest


def _email_constraint(value: str) -> tuple[str, str] | str | None:
    """A mailbox (local, domain), a host or ".domain" string, or None."""
    if "@" in value:
        return split_email(value)
    return value.lower() if is_dns_name(value.removeprefix(".")) else None


def _email_within(mailbox: tuple[str, str], constraint: str) -> bool:
    parsed = _email_constraint(constraint)
    if parsed is None:
        return False
    if isinstance(parsed, tuple):
        return mailbox == parsed
    domain = mailbox[1]
    if parsed.startswith("."):
        return domain.endswith(parsed)
    return domain == parsed


def _rdn_key(rdn: x509.RelativeDistinguishedName) -> frozenset:
    return frozenset((a.oid.dotted_string, " ".join(str(a.value).casefold().split()))
                     for a in rdn)


def _dn_within(name: x509.Name, constraint: x509.Name) -> bool:
    wanted = [_rdn_key(rdn) for rdn in constraint.rdns]
    have = [_rdn_key(rdn) for rdn in name.rdns]
    return have[:len(wanted)] == wanted


def _uri_host(uri: str) -> str | None:
    try:
        host = urlsplit(uri).hostname
    except ValueError:
        return None
    return host.lower() if host and is_dns_name(host) else None
