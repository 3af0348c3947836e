"""The subject template: attribute -> ``{{ var }}`` template(s) -> x509.Name.

Attributes: cn, o, ou, c, st, l, email, serialNumber, dc. A value is one
template or a list of templates (several RDNs of that type, e.g. ``dc``);
a list variable in a list expands to one RDN per item. Attributes whose
template uses a variable without a value, or that render empty, are left
out. RDNs are written in a fixed, conventional order (dc, c, st, l, o, ou,
cn, serialNumber, email) whatever the order in the profile.
"""

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
                    raise profile_error(profile, where, str(exc))
                for name in names:
                    if name not in specs:
                        raise profile_error(profile, where, "uses undeclared variable %s" % quote(name))
                    if specs[name].is_list and not many:
                        raise profile_error(profile, where, "list variable %s needs a list of templates" % name)
            self.entries[attr] = (tuple(items), many)

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
                raise profile_error(self.profile, "subject.%s" % attr, str(exc))
        return out

    def render(self, values):
        """Build the ``x509.Name`` from typed variable values."""
        rdns = []
        for attr, oid in ATTRIBUTES.items():
            if attr not in self.entries:  # renders nothing: skip the template machinery
                continue
            for text in self._render_attr(attr, values):
                where = "subject.%s" % attr
                if attr == "email":
                    try:
                        text = validators.email(text)
                    except Invalid as exc:
                        raise profile_error(self.profile, where, str(exc))
                if any(ord(ch) < 0x20 or 0x7f <= ord(ch) < 0xa0 for ch in text):
                    raise profile_error(self.profile, where, "%s contains a control character" % quote(text))
                if attr == "c" and (len(text) != 2 or not text.isalpha()):
                    raise profile_error(self.profile, where, "%s is not a two-letter country code" % quote(text))
                try:
                    rdns.append(x509.RelativeDistinguishedName([x509.NameAttribute(oid, text)]))
                except ValueError as exc:
                    raise profile_error(self.profile, where, "%s: %s" % (quote(text), exc))
        return x509.Name(rdns)

    def csr_fallback(self, csr_subject, specs, skip=()):
        """Values for variables that the CSR subject can supply.

        Only attributes whose template is exactly ``{{ var }}`` take part;
        for a one-value variable the CSR must hold exactly one such value.
        """
        out = {}
        if csr_subject is None:
            return out
        for attr, (items, dummy) in self.entries.items():
            for item in items:
                name = template.sole_reference(item)
                if name is None or name in out or name in skip:
                    continue
                found = [a.value for a in csr_subject.get_attributes_for_oid(ATTRIBUTES[attr])]
                found = [v if isinstance(v, str) else v.decode("utf-8", "replace") for v in found]
                if not found:
                    continue
                if specs[name].is_list:
                    out[name] = found
                elif len(found) == 1:
                    out[name] = found[0]
                else:
                    raise profile_error(self.profile, "variable %s" % name,
                                        "the CSR subject has %d %s values; set the variable explicitly"
                                        % (len(found), attr))
        return out

    def to_dict(self):
        return {attr: list(items) if many else items[0] for attr, (items, many) in self.entries.items()}
