"""Shared plumbing for the extension definitions (ext_*.py).

Each extension kind is a class with a ``name``, a default criticality, a
constructor that checks the profile's raw value, ``build(ctx)`` returning a
``cryptography`` ``x509.Extension`` (or None when it would be empty) and
``to_dict()`` for display.
"""

from . import template
from .messages import Invalid, profile_error, quote, type_name


_CACHE_SIZE = 64  # extensions kept per definition (distinct sets of values)


def _values_key(values):
    """A hashable key standing for ``values`` (variable values: text,
    numbers, booleans, durations, lists of them), type included so that
    ``True`` and ``1`` differ; None when some value cannot be a key."""
    key = []
    for value in values:
        if isinstance(value, (list, tuple)):
            value = (type(value), tuple((type(item), item) for item in value))
        key.append((type(value), value))
    key = tuple(key)
    try:
        hash(key)
    except TypeError:
        return None
    return key


class ParseContext:
    """What an extension needs while a profile is being loaded."""

    def __init__(self, profile, specs):
        self.profile = profile
        self.specs = specs


class RenderContext:
    """What an extension needs while a certificate is being rendered."""

    def __init__(self, profile, values, subject_name, subject_template, specs):
        self.profile = profile
        self.values = values
        self.subject_name = subject_name
        self.subject_template = subject_template
        self.specs = specs


class ExtensionDef:
    name = ""
    default_critical = False
    list_key = None  # the mapping key that holds the list in list shorthand

    def __init__(self, ctx, raw):
        self.profile = ctx.profile
        self.where = "extensions.%s" % self.name
        if self.list_key and isinstance(raw, (list, str)):
            raw = {self.list_key: raw}
        if not isinstance(raw, dict):
            raise self.error("expected a mapping, got %s" % type_name(raw))
        self.critical = raw.get("critical", self.default_critical)
        if not isinstance(self.critical, bool):
            raise self.error("critical must be true or false, got %s" % quote(self.critical), "critical")
        self.body = {k: v for k, v in raw.items() if k != "critical"}
        self.explicit_critical = "critical" in raw

    def error(self, detail, sub=None):
        return profile_error(self.profile, self.where + ("." + sub if sub else ""), detail)

    def check_keys(self, allowed):
        for key in self.body:
            if key not in allowed:
                known = ", ".join(("critical",) + tuple(allowed))
                raise self.error(f"unknown key {quote(key)} (allowed: {known})")

    def build(self, ctx):
        raise NotImplementedError

    def is_static(self):
        """True when ``build`` gives the same extension whatever the values
        and subject (no template uses a variable)."""
        return False

    def variables_read(self):
        """The names of the variables ``build`` reads when it reads nothing
        else of the context (empty for a static definition), or None when
        it needs more (the subject): see ``rendered``."""
        return () if self.is_static() else None

    def rendered(self, ctx):
        """``build(ctx)``, reusing the extension built for the same values
        of ``variables_read()`` (cryptography objects are immutable, so
        certificates can share it): a batch builds its static and
        values-only extensions once."""
        key = self._cache_key(ctx.values)
        if key is None:
            return self.build(ctx)
        cache = self._built
        if key in cache:
            return cache[key]
        extension = self.build(ctx)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[key] = extension
        return extension

    def _cache_key(self, values):
        names = self.__dict__.get("_variables_read", False)
        if names is False:
            names = self._variables_read = self.variables_read()
            self._built = {}
        if not names:
            return names  # None: not cached; (): static, one key
        return _values_key([values.get(name) for name in names])

    def to_dict(self):
        out = dict(self.body)
        out["critical"] = self.critical
        return out


class Templates:
    """A list of string templates (one string is a list of one)."""

    def __init__(self, ext, ctx, sub, raw, required=False, literal_check=None):
        self.ext, self.sub = ext, sub
        if raw is None:
            raw = []
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            raise ext.error("expected a list of strings, got %s" % type_name(raw), sub)
        if required and not raw:
            raise ext.error("must not be empty", sub)
        self.items = []
        for item in raw:
            if not isinstance(item, str):
                raise ext.error("expected a string, got %s %s" % (type_name(item), quote(item)), sub)
            try:
                names = template.references(item)
            except Invalid as exc:
                raise ext.error(str(exc), sub) from exc
            for name in names:
                if name not in ctx.specs:
                    raise ext.error("uses undeclared variable %s" % quote(name), sub)
            if not names and literal_check is not None:
                try:
                    literal_check(item)
                except Invalid as exc:
                    raise ext.error(str(exc), sub) from exc
            self.items.append(item)
        self.variables = tuple(dict.fromkeys(
            name for item in self.items for name in template.references(item)))
        self.has_variables = bool(self.variables)

    def render(self, values, check=None, check_for=None):
        """Rendered strings, each passed through ``check`` (a validator), or
        through ``check_for(template)`` when the rule depends on the
        template that produced the string."""
        out = []
        for item in self.items:
            try:
                rendered = template.render_items(item, values)
            except Invalid as exc:
                raise self.ext.error(str(exc), self.sub) from exc
            item_check = check_for(item) if check_for is not None else check
            if item_check is None:
                out.extend(rendered)
                continue
            for text in rendered:
                try:
                    out.append(item_check(text))
                except Invalid as exc:
                    raise self.ext.error(str(exc), self.sub) from exc
        return out

    def sole_references(self):
        return [n for n in (template.sole_reference(i) for i in self.items) if n]

    def to_list(self):
        return list(self.items)
