"""Typed profile variables: declarations, validation and user input.

A profile declares each variable as a mapping::

    variables:
      cn:        {type: string, required: true, max_length: 64}
      c:         {type: string, pattern: "[A-Z]{2}"}
      dns_names: {type: dns_names, allow_wildcard: true, max_items: 100}
      days:      {type: integer, min: 1, max: 825, default: 365}

Types: ``string``, ``integer``, ``boolean``, ``list`` (of strings),
``dns_name``, ``dns_names`` (list), ``ip_list`` (list), ``email``, ``uri``,
``oid``, ``duration`` (``365d``, ``8h``, ``1y``; typed as ``timedelta``).

Keys every variable accepts: ``type`` (default ``string``), ``description``,
``required`` (bool, default false), ``default`` (checked like a user value;
not together with ``required``), ``enum`` (allowed values; for list types,
allowed items).

Constraint keys, by type:

- ``pattern``: a regular expression the whole value must match (Python
  ``re.fullmatch``, applied to the canonical form, e.g. IDNA A-labels); for
  list types every item must match. Text and list
  types only (not integer, boolean, duration).
- ``min_length`` / ``max_length``: length in characters of the value, or of
  every item of a list type. Same types as ``pattern``.
- ``min`` / ``max``: bounds of an ``integer``, or of a ``duration`` (given as
  duration strings, e.g. ``max: 825d``).
- ``min_items`` / ``max_items``: number of items of a list type.
- ``allow_wildcard``: ``dns_name`` / ``dns_names`` only (default false); a
  wildcard may only be the whole leftmost label (``*.example.com``).
- ``allow_single_label``: ``dns_name`` / ``dns_names`` only (default false):
  accept names of one label (``intranet``, ``localhost``). Refused by
  default: such a name means a different host on every network, and the
  CA/Browser Forum forbids them. An IP address is never a DNS name, whatever
  the flags (validators.py).

``parse_var_args`` (``--var k=v``) and ``load_var_file`` (``--var-file``)
live in var_input.py and are re-exported here.

Input coercion: strings (from ``--var k=v``) are parsed into the type:
integers from digits, booleans from true/false/yes/no/on/off/1/0, list types
from comma-separated text (``a,b``). Typed values from a var file or a
module's ``vars`` dict are accepted as they are when they fit the type.
"""

import re

from . import validators
from .durations import format_duration, parse_duration
from .messages import Invalid, profile_error, quote, type_name
from .var_input import load_var_file, parse_var_args  # noqa: F401 (public API)  # pylint: disable=unused-import

_TEXT_ITEM_KINDS = {
    "string": None,
    "dns_name": validators.dns_name,
    "email": validators.email,
    "uri": validators.uri,
    "oid": validators.oid,
    "ip": validators.ip_address,
}

# type -> (item kind, is a list)
TYPES = {
    "string": ("string", False),
    "integer": ("integer", False),
    "boolean": ("boolean", False),
    "list": ("string", True),
    "dns_name": ("dns_name", False),
    "dns_names": ("dns_name", True),
    "ip_list": ("ip", True),
    "email": ("email", False),
    "uri": ("uri", False),
    "oid": ("oid", False),
    "duration": ("duration", False),
}

_COMMON_KEYS = ("type", "description", "required", "default", "enum")
_TEXT_KEYS = ("pattern", "min_length", "max_length")
_LIST_KEYS = ("min_items", "max_items")
_RANGE_KEYS = ("min", "max")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _allowed_keys(type_):
    kind, is_list = TYPES[type_]
    keys = list(_COMMON_KEYS)
    if kind in _TEXT_ITEM_KINDS:
        keys += _TEXT_KEYS
    if kind in ("integer", "duration"):
        keys += _RANGE_KEYS
    if is_list:
        keys += _LIST_KEYS
    if kind == "dns_name":
        keys += ["allow_wildcard", "allow_single_label"]
    return keys


class VariableSpec:
    """One declared variable; immutable after construction."""

    __slots__ = ("name", "type", "kind", "is_list", "description", "required",
                 "default", "enum", "pattern", "min_length", "max_length",
                 "min", "max", "min_items", "max_items", "allow_wildcard",
                 "allow_single_label", "_raw")

    def __init__(self, profile, name, raw):
        where = "variable %s" % name
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise profile_error(profile, "variables", "%s is not a valid variable name" % quote(name))
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise profile_error(profile, where, "expected a mapping, got %s" % type_name(raw))
        type_ = raw.get("type", "string")
        if type_ not in TYPES:
            raise profile_error(profile, where, "unknown type %s (known: %s)"
                                % (quote(type_), ", ".join(sorted(TYPES))))
        allowed = _allowed_keys(type_)
        for key in raw:
            if key not in allowed:
                raise profile_error(profile, where, "unknown key %s for type %s (allowed: %s)"
                                    % (quote(key), type_, ", ".join(allowed)))
        s = object.__setattr__
        s(self, "name", name)
        s(self, "type", type_)
        s(self, "kind", TYPES[type_][0])
        s(self, "is_list", TYPES[type_][1])
        s(self, "description", _text(profile, where, "description", raw.get("description", "")))
        s(self, "required", _flag(profile, where, "required", raw.get("required", False)))
        s(self, "allow_wildcard", _flag(profile, where, "allow_wildcard", raw.get("allow_wildcard", False)))
        s(self, "allow_single_label", _flag(profile, where, "allow_single_label",
                                            raw.get("allow_single_label", False)))
        pattern = raw.get("pattern")
        if pattern is not None:
            try:
                pattern = re.compile(_text(profile, where, "pattern", pattern))
            except re.error as exc:
                raise profile_error(profile, where, "pattern %s is not a valid regular expression: %s"
                                    % (quote(raw["pattern"]), exc)) from exc
        s(self, "pattern", pattern)
        for key in ("min_length", "max_length", "min_items", "max_items"):
            s(self, key, _count(profile, where, key, raw.get(key)))
        for key in ("min", "max"):
            s(self, key, self._bound(profile, where, key, raw.get(key)))
        for low, high in (("min_length", "max_length"), ("min_items", "max_items"), ("min", "max")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise profile_error(profile, where, "%s is greater than %s" % (low, high))
        s(self, "enum", None)
        enum = raw.get("enum")
        if enum is not None:
            if not isinstance(enum, list) or not enum:
                raise profile_error(profile, where, "enum must be a non-empty list")
            try:
                checked = [self._item(e) for e in enum]
            except Invalid as exc:
                raise profile_error(profile, where, "enum: %s" % exc) from exc
            s(self, "enum", tuple(checked))
        if "default" in raw and self.required:
            raise profile_error(profile, where, "a required variable cannot have a default")
        s(self, "default", None)
        if raw.get("default") is not None:
            try:
                s(self, "default", self.coerce(raw["default"]))
            except Invalid as exc:
                raise profile_error(profile, where, "default: %s" % exc) from exc
        s(self, "_raw", dict(raw))

    def __setattr__(self, key, value):
        raise AttributeError("VariableSpec is immutable")

    def _bound(self, profile, where, key, value):
        if value is None:
            return None
        if self.kind == "duration":
            try:
                return parse_duration(value)
            except Invalid as exc:
                raise profile_error(profile, where, "%s: %s" % (key, exc)) from exc
        if isinstance(value, bool) or not isinstance(value, int):
            raise profile_error(profile, where, "%s must be an integer, got %s" % (key, quote(value)))
        return value

    # -- value checking -------------------------------------------------
    def coerce(self, value):
        """Return ``value`` typed and checked, or raise Invalid (a detail)."""
        if self.is_list:
            items = self._split(value)
            if self.min_items is not None and len(items) < self.min_items:
                raise Invalid("%d item(s) given, at least %d required" % (len(items), self.min_items))
            if self.max_items is not None and len(items) > self.max_items:
                raise Invalid("%d item(s) given, at most %d allowed" % (len(items), self.max_items))
            return [self._checked(item) for item in items]
        return self._checked(value)

    def _split(self, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, (list, tuple)):
            return list(value)
        raise Invalid("expected a list or comma-separated string, got %s %s" % (type_name(value), quote(value)))

    def _checked(self, value):
        item = self._item(value)
        if self.enum is not None and item not in self.enum:
            raise Invalid("%s is not one of: %s" % (quote(item), ", ".join(quote(e) for e in self.enum)))
        return item

    def _item(self, value):
        """Type one scalar (or list item) and apply every per-item rule."""
        kind = self.kind
        if kind == "integer":
            return self._integer(value)
        if kind == "boolean":
            return _boolean(value)
        if kind == "duration":
            delta = parse_duration(value)
            if self.min is not None and delta < self.min:
                raise Invalid("%s is shorter than the minimum %s" % (quote(value), format_duration(self.min)))
            if self.max is not None and delta > self.max:
                raise Invalid("%s is longer than the maximum %s" % (quote(value), format_duration(self.max)))
            return delta
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            hint = " (quote it in YAML)" if isinstance(value, bool) else ""
            raise Invalid("expected a string, got %s %s%s" % (type_name(value), quote(value), hint))
        text = value if isinstance(value, str) else str(value)
        if kind != "string":
            check = _TEXT_ITEM_KINDS[kind]
            text = (check(text, self.allow_wildcard, self.allow_single_label)
                    if kind == "dns_name" else check(text))
        if self.pattern is not None and not self.pattern.fullmatch(text):
            raise Invalid("%s does not match pattern %s" % (quote(text), self.pattern.pattern))
        if self.min_length is not None and len(text) < self.min_length:
            raise Invalid("%s is shorter than %d characters" % (quote(text), self.min_length))
        if self.max_length is not None and len(text) > self.max_length:
            raise Invalid("%s is longer than %d characters" % (quote(text), self.max_length))
        return text

    def _integer(self, value):
        if isinstance(value, bool):
            raise Invalid("expected an integer, got %s" % quote(value))
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            value = int(value)
        if not isinstance(value, int):
            raise Invalid("%s is not an integer" % quote(value))
        if self.min is not None and value < self.min:
            raise Invalid("%d is less than the minimum %d" % (value, self.min))
        if self.max is not None and value > self.max:
            raise Invalid("%d is greater than the maximum %d" % (value, self.max))
        return value

    def to_dict(self):
        """Plain data describing the declaration (for ``profile show``)."""
        out = {"type": self.type, "required": self.required}
        if self.description:
            out["description"] = self.description
        if self.default is not None:
            out["default"] = _plain(self.default)
        for key in ("min_length", "max_length", "min_items", "max_items", "min", "max", "enum"):
            value = getattr(self, key)
            if value is not None:
                out[key] = _plain(value)
        if self.pattern is not None:
            out["pattern"] = self.pattern.pattern
        if self.kind == "dns_name":
            out["allow_wildcard"] = self.allow_wildcard
            out["allow_single_label"] = self.allow_single_label
        return out


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "total_seconds"):
        return format_duration(value)
    return value


def _boolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise Invalid("%s is not a boolean (use true or false)" % quote(value))


def _text(profile, where, key, value):
    if not isinstance(value, str):
        raise profile_error(profile, where, "%s must be a string, got %s" % (key, type_name(value)))
    return value


def _flag(profile, where, key, value):
    if not isinstance(value, bool):
        raise profile_error(profile, where, "%s must be true or false, got %s" % (key, quote(value)))
    return value


def _count(profile, where, key, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise profile_error(profile, where, "%s must be a non-negative integer, got %s" % (key, quote(value)))
    return value


def parse_variables(profile, raw):
    """Parse a profile's ``variables`` mapping into ``{name: VariableSpec}``."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise profile_error(profile, "variables", "expected a mapping, got %s" % type_name(raw))
    return {name: VariableSpec(profile, name, spec) for name, spec in raw.items()}


def resolve(profile, specs, given, fallback=None, missing_note: str = ""):
    """Typed values for ``specs`` from user input, then ``fallback``, then defaults.

    ``given`` holds the user's values (None means not given); ``fallback``
    holds values taken from a CSR. Undeclared names in ``given`` and missing
    required variables are errors (``missing_note`` is added to the latter).
    Variables left without a value are absent from the result.
    """
    given = {k: v for k, v in (given or {}).items() if v is not None}
    unknown = sorted(str(k) for k in given if k not in specs)
    if unknown:
        declared = ", ".join(sorted(specs)) or "none"
        raise profile_error(profile, None, "unknown variable(s): %s (declared: %s)"
                            % (", ".join(unknown), declared))
    fallback = fallback or {}
    values = {}
    for name, spec in specs.items():
        if name in given:
            source, note = given[name], ""
        elif fallback.get(name) is not None:
            source, note = fallback[name], " (value taken from the CSR)"
        elif spec.default is not None:
            values[name] = spec.default
            continue
        elif spec.required:
            raise profile_error(profile, f"variable {name}", f"required but not given{missing_note}")
        else:
            continue
        try:
            values[name] = spec.coerce(source)
        except Invalid as exc:
            raise profile_error(profile, "variable %s" % name, "%s%s" % (exc, note)) from exc
    return values
