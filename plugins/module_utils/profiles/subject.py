"""The subject template: attribute -> ``{{ var }}`` template(s) -> x509.Name.

Attributes: cn, o, ou, c, st, l, email, serialNumber, dc. A value is one
template or a list of templates (several RDNs of that type, e.g. ``dc``);
a list variable in a list expands to one RDN per item. Attributes whose
template uses a variable without a value, or that render empty, are left
out. RDNs are written in a fixed, conventional order (dc, c, st, l, o, ou,
cn, serialNumber, email) whatever the order in the profile.
"""

import re

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.x509.oid import NameOID
except ImportError:
    x509 = NameOID = missing()

from . import template, validators
from .messages import Invalid, profile_error, quote, type_name

ATTRIBUTES = {
    "dc": NameOID.DOMAIN_COMPONENT,
    "c": NameOID.COUNTRY_NAME,
    "st": NameOID.STATE_OR_PROVINCE_NAME,
    "l": NameOID.LOCALITY_NAME,
    "o": NameOID.ORGANIZATION_NAME,
    "ou": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "cn": NameOID.COMMON_NAME,
    "serialNumber": NameOID.SERIAL_NUMBER,
    "email": NameOID.EMAIL_ADDRESS,
}

# C0 controls, DEL and C1 controls: refused in subject values.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class SubjectTemplate:
    """Parsed ``subject`` field of a profile."""

    def __init__(self, profile, raw, specs):
        self.profile = profile
        self.entries = {}  # attribute -> (templates tuple, is a list field)
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise profile_error(profile, "subject", "expected a mapping, got %s" % type_name(raw))
        for attr, value in raw.items():
            if attr not in ATTRIBUTES:
                raise profile_error(profile, "subject", "unknown attribute %s (known: %s)"
                                    % (quote(attr), ", ".join(ATTRIBUTES)))
            where = "subject.%s" % attr
            many = isinstance(value, list)
            items = value if many else [value]
            for item in items:
                if not isinstance(item, str):
                    raise profile_error(profile, where, "expected a string template, got %s" % type_name(item))
                try:
                    names = template.references(item)
                except Invalid as exc:
                    raise profile_error(profile, where, str(exc)) from exc
                for name in names:
                    if name not in specs:
                        raise profile_error(profile, where, "uses undeclared variable %s" % quote(name))
                    if specs[name].is_list and not many:
                        raise profile_error(profile, where, "list variable %s needs a list of templates" % name)
            self.entries[attr] = (tuple(items), many)
        # The attributes the profile sets, in the order RDNs are written.
        self._order = tuple((attr, oid) for attr, oid in ATTRIBUTES.items()
                            if attr in self.entries)
        # (attribute, its OID, variable) for each template that is exactly
        # "{{ var }}": what a CSR subject can fill in (csr_fallback).
        self._csr_slots = tuple((attr, ATTRIBUTES[attr], name)
                                for attr, (items, dummy) in self.entries.items()
                                for name in map(template.sole_reference, items) if name)

    def variables_for(self, attr):
        """Names referenced by the templates of ``attr``."""
        names = []
        for item in self.entries.get(attr, ((), False))[0]:
            names.extend(template.references(item))
        return names

    def common_name(self, values):
        """The rendered CN (first one), or None."""
        rendered = self._render_attr("cn", values)
        return rendered[0] if rendered else None

    def _render_attr(self, attr, values):
        items, dummy = self.entries.get(attr, ((), False))
        out = []
        for item in items:
            try:
                out.extend(v for v in template.render_items(item, values) if v != "")
            except Invalid as exc:
                raise profile_error(self.profile, "subject.%s" % attr, str(exc)) from exc
        return out

    def render(self, values):
        """Build the ``x509.Name`` from typed variable values."""
        rdns = []
        for attr, oid in self._order:
            for text in self._render_attr(attr, values):
                if attr == "email":
                    try:
                        text = validators.email(text)
                    except Invalid as exc:
                        raise profile_error(self.profile, "subject.email", str(exc)) from exc
                if _CONTROL.search(text):
                    raise profile_error(self.profile, "subject.%s" % attr,
                                        "%s contains a control character" % quote(text))
                if attr == "c" and (len(text) != 2 or not text.isalpha()):
                    raise profile_error(self.profile, "subject.c",
                                        "%s is not a two-letter country code" % quote(text))
                try:
                    rdns.append(x509.RelativeDistinguishedName([x509.NameAttribute(oid, text)]))
                except ValueError as exc:
                    raise profile_error(self.profile, "subject.%s" % attr,
                                        "%s: %s" % (quote(text), exc)) from exc
        return x509.Name(rdns)

    def variables(self) -> frozenset:
        """Every variable the subject templates use."""
        return frozenset(name for items, dummy in self.entries.values()
                         for item in items for name in template.references(item))

    def csr_fallback(self, csr_subject, specs):
        """Values for variables that the CSR subject can supply.

        Only attributes whose template is exactly ``{{ var }}`` take part
        (the CSR's other attributes are dropped); for a one-value variable
        the CSR must hold exactly one such value.
        """
        out = {}
        if csr_subject is None or not self._csr_slots:
            return out
        found_by_oid = _values_by_oid(csr_subject)
        for attr, oid, name in self._csr_slots:
            if name in out:
                continue
            found = found_by_oid.get(oid)
            if not found:
                continue
            if specs[name].is_list:
                out[name] = list(found)
            elif len(found) == 1:
                out[name] = found[0]
            else:
                raise profile_error(self.profile, "variable %s" % name,
                                    "the CSR subject has %d %s values; set the variable explicitly"
                                    % (len(found), attr))
        return out

    def to_dict(self):
        return {attr: list(items) if many else items[0] for attr, (items, many) in self.entries.items()}


def _values_by_oid(name):
    """``{oid: [text values in the name's order]}`` of an ``x509.Name``
    (one pass over it; bytes values decoded as UTF-8)."""
    found = {}
    for attribute in name:
        value = attribute.value
        found.setdefault(attribute.oid, []).append(
            value if isinstance(value, str) else value.decode("utf-8", "replace"))
    return found
