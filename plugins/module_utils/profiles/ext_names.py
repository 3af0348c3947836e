"""subjectAltName and nameConstraints definitions."""

import functools
import ipaddress
from typing import Callable

from ..dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from . import template, validators
from .ext_common import ExtensionDef, Templates
from .messages import Invalid, quote, type_name

# SAN field -> (validator, GeneralName class)
SAN_KINDS = {
    "dns": x509.DNSName,
    "ip": x509.IPAddress,
    "email": x509.RFC822Name,
    "uri": x509.UniformResourceIdentifier,
}


DEFAULT_MAX_NAMES = 100


def _literal_dns(text: str) -> str:
    # The profile author's own text: a wildcard or a single label written
    # there is deliberate.
    return validators.dns_name(text, allow_wildcard=True, allow_single_label=True)


def _dns_check(allow_wildcard: bool, allow_single_label: bool) -> Callable[[str], str]:
    return functools.partial(validators.dns_name, allow_wildcard=allow_wildcard,
                             allow_single_label=allow_single_label)


class SubjectAltName(ExtensionDef):
    """SAN entries from templates; ``dns_include_cn`` adds the CN too: as a
    DNS name, or as an IP address when the CN is one. ``max_names`` caps
    the entries of one certificate (default 100).

    Criticality defaults to true only when the subject is empty (RFC 5280).
    The extension is left out when it would have no entry.
    """

    name = "subjectAltName"

    def __init__(self, ctx, raw):
        super().__init__(ctx, raw)
        self.check_keys(tuple(SAN_KINDS) + ("dns_include_cn", "max_names"))
        self.include_cn = self.body.get("dns_include_cn", False)
        if not isinstance(self.include_cn, bool):
            raise self.error("must be true or false, got %s" % quote(self.include_cn), "dns_include_cn")
        self.max_names = self.body.get("max_names", DEFAULT_MAX_NAMES)
        if isinstance(self.max_names, bool) or not isinstance(self.max_names, int) \
                or self.max_names < 1:
            raise self.error(f"must be a positive integer, got {quote(self.max_names)}",
                             "max_names")
        checks = {"dns": _literal_dns, "ip": validators.ip_address,
                  "email": validators.email, "uri": validators.uri}
        self.fields = {kind: Templates(self, ctx, kind, self.body.get(kind), literal_check=checks[kind])
                       for kind in SAN_KINDS}
        specs = ctx.specs
        # The DNS rule of each dns template, fixed per profile: a wildcard
        # when the profile's own text has one or a variable it uses allows
        # them; a single label when the template is a literal or a variable
        # it uses allows them.
        rules = {}
        for item in self.fields["dns"].items:
            names = template.references(item)
            rules[item] = ("*" in template.literal_part(item)
                           or any(specs[n].allow_wildcard for n in names),
                           not names or any(specs[n].allow_single_label for n in names))
        self._dns_checks = {item: _dns_check(*rule) for item, rule in rules.items()}
        # The CN (dns_include_cn) may be what any dns template may be.
        self._cn_check = _dns_check(any(r[0] for r in rules.values()),
                                    any(r[1] for r in rules.values()))
        # (kind, GeneralName class, variables) for the kinds having templates
        # that are exactly "{{ var }}": what a CSR's SANs can fill in.
        self._csr_slots = tuple((kind, cls, tuple(self.fields[kind].sole_references()))
                                for kind, cls in SAN_KINDS.items()
                                if self.fields[kind].sole_references())

    def variables(self) -> frozenset:
        """Every variable the SAN templates use (names the operator may give)."""
        return frozenset(name for field in self.fields.values() for name in field.variables)

    def csr_fallback(self, csr_sans, specs):
        """Values for SAN variables that the CSR's SAN entries can supply."""
        out = {}
        if not csr_sans:
            return out
        for kind, cls, names in self._csr_slots:
            found = [str(n.value) for n in csr_sans if isinstance(n, cls)]
            if not found:
                continue
            for name in names:
                if name in out:
                    continue
                if specs[name].is_list:
                    out[name] = found
                elif len(found) == 1:
                    out[name] = found[0]
                else:
                    raise self.error("the CSR has %d %s names but variable %s takes one; set it explicitly"
                                     % (len(found), kind, name), kind)
        return out

    def build(self, ctx):
        dns = self.fields["dns"].render(ctx.values, check_for=self._dns_checks.__getitem__)
        ips = self.fields["ip"].render(ctx.values, validators.ip_address)
        if self.include_cn:
            cn = ctx.subject_template.common_name(ctx.values)
            if cn:
                ip = _cn_ip_address(cn)
                if ip is not None:
                    ips.insert(0, ip)
                else:  # not an IP address: then it must be a DNS name
                    try:
                        dns.insert(0, self._cn_check(cn))
                    except Invalid as exc:
                        raise self.error(f"CN {exc}", "dns_include_cn") from exc
        names = [x509.DNSName(n) for n in _unique(dns, str.lower)]
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in _unique(ips)]
        emails = self.fields["email"].render(ctx.values, validators.email)
        names += [x509.RFC822Name(e) for e in _unique(emails, str.lower)]
        uris = self.fields["uri"].render(ctx.values, validators.uri)
        names += [x509.UniformResourceIdentifier(u) for u in _unique(uris)]
        if not names:
            return None
        if len(names) > self.max_names:
            raise self.error(f"{len(names)} names for one certificate, at most "
                             f"{self.max_names} allowed", "max_names")
        critical = self.critical if self.explicit_critical else len(ctx.subject_name) == 0
        return x509.Extension(x509.SubjectAlternativeName.oid, critical, x509.SubjectAlternativeName(names))

    def to_dict(self):
        out = {kind: f.to_list() for kind, f in self.fields.items() if f.items}
        out["dns_include_cn"] = self.include_cn
        out["max_names"] = self.max_names
        if self.explicit_critical:  # absent: critical exactly when the subject is empty
            out["critical"] = self.critical
        return out


_IPV4_CHARS = frozenset("0123456789.")


def _cn_ip_address(cn):
    """The CN as an IP address (canonical text), or None. A CN without a
    colon (every IPv6 address has one) and with more than digits and dots
    (all an IPv4 address has) is not parsed: most CNs are DNS names, and a
    refused parse costs more than the rest of a batch certificate's SAN."""
    text = cn.strip()
    if ":" not in text and not _IPV4_CHARS.issuperset(text):
        return None
    try:
        return validators.ip_address(cn)
    except Invalid:
        return None


def _unique(items, key=lambda x: x):
    seen, out = set(), []
    for item in items:
        if key(item) not in seen:
            seen.add(key(item))
            out.append(item)
    return out


_NC_KINDS = {
    "dns": (validators.dns_constraint, x509.DNSName),
    "ip": (validators.ip_network, lambda v: x509.IPAddress(ipaddress.ip_network(v))),
    "email": (validators.email_constraint, x509.RFC822Name),
}


class NameConstraints(ExtensionDef):
    """``permitted`` / ``excluded`` subtrees of dns, ip (CIDR) and email."""

    name = "nameConstraints"
    default_critical = True

    def __init__(self, ctx, raw):
        super().__init__(ctx, raw)
        self.check_keys(("permitted", "excluded"))
        self.trees = {}
        for side in ("permitted", "excluded"):
            raw_side = self.body.get(side) or {}
            if not isinstance(raw_side, dict):
                raise self.error("expected a mapping of dns/ip/email lists, got %s" % type_name(raw_side), side)
            for kind in raw_side:
                if kind not in _NC_KINDS:
                    raise self.error("unknown name type %s (allowed: dns, ip, email)" % quote(kind), side)
            self.trees[side] = {
                kind: Templates(self, ctx, "%s.%s" % (side, kind), raw_side.get(kind),
                                literal_check=_NC_KINDS[kind][0])
                for kind in _NC_KINDS
            }
        if not any(t.items for side in self.trees.values() for t in side.values()):
            raise self.error("needs at least one permitted or excluded entry")

    def _subtrees(self, side, values):
        out = []
        for kind, (check, make) in _NC_KINDS.items():
            out += [make(v) for v in _unique(self.trees[side][kind].render(values, check))]
        return out or None

    def is_static(self):
        return not any(t.has_variables for side in self.trees.values() for t in side.values())

    def variables_read(self):
        return tuple(dict.fromkeys(name for side in self.trees.values()
                                   for t in side.values() for name in t.variables))

    def build(self, ctx):
        permitted = self._subtrees("permitted", ctx.values)
        excluded = self._subtrees("excluded", ctx.values)
        if permitted is None and excluded is None:
            return None
        return x509.Extension(x509.NameConstraints.oid, self.critical,
                              x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=excluded))

    def to_dict(self):
        out = {}
        for side, kinds in self.trees.items():
            entries = {kind: t.to_list() for kind, t in kinds.items() if t.items}
            if entries:
                out[side] = entries
        out["critical"] = self.critical
        return out
