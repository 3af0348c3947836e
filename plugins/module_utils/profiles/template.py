"""A tiny, safe ``{{ name }}`` substituter (no Jinja, no expressions).

A template is a string where ``{{ name }}`` stands for the value of variable
``name``. Nothing else between braces is understood: filters, expressions or
unbalanced braces are rejected when the profile is loaded.

In a list-valued field, a template that uses a list variable yields one item
per list element (``"{{ dns_names }}"`` expands to every name). A template
that uses a variable without a value yields nothing at all, so optional
variables simply drop the entries that mention them.
"""

import datetime
import functools
import re

from .durations import format_duration
from .messages import Invalid

_REF = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def references(text):
    """Names used by ``text``, in order of first use; raises Invalid on junk."""
    if not isinstance(text, str):
        return []
    return list(_references(text))


@functools.lru_cache(maxsize=1024)
def _references(text):
    # Profiles render the same few templates for every certificate.
    leftover = _REF.sub("", text)
    if "{{" in leftover or "}}" in leftover:
        raise Invalid("%s: only {{ name }} substitutions are supported" % _show(text))
    names = []
    for name in _REF.findall(text):
        if name not in names:
            names.append(name)
    return tuple(names)


def sole_reference(text):
    """The variable name if ``text`` is exactly one ``{{ name }}``, else None."""
    if isinstance(text, str):
        return _sole_reference(text)
    return None


@functools.lru_cache(maxsize=1024)
def _sole_reference(text):
    # Asked for every CSR of a batch about the same few templates.
    match = _REF.fullmatch(text.strip())
    return match.group(1) if match else None


def _show(text):
    return '"%s"' % text


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.timedelta):
        return format_duration(value)
    return str(value)


def render_items(text, values):
    """Render ``text`` into a list of strings (list variables expand).

    ``values`` maps variable names to typed values; a missing or None value
    makes the whole template yield no item.
    """
    if not isinstance(text, str):
        return [text]
    names = _references(text)
    if not names:  # a literal
        return [text]
    for name in names:
        if values.get(name) is None:
            return []
    listed = [name for name in names if isinstance(values[name], (list, tuple))]
    if len(listed) > 1:
        raise Invalid("%s uses more than one list variable (%s)" % (_show(text), ", ".join(listed)))
    whole = _whole_reference(text)
    if whole is not None:  # "{{ name }}" and nothing else: no substitution to do
        value = values[whole]
        return [_as_text(item) for item in value] if listed else [_as_text(value)]
    if not listed:
        return [_REF.sub(lambda m: _as_text(values[m.group(1)]), text)]
    expanded = listed[0]
    return [_REF.sub(lambda m, e=element: _as_text(e if m.group(1) == expanded
                                                   else values[m.group(1)]), text)
            for element in values[expanded]]


@functools.lru_cache(maxsize=1024)
def _whole_reference(text):
    """The variable name if ``text`` is exactly ``{{ name }}`` (no text
    around it, not even spaces), else None."""
    match = _REF.fullmatch(text)
    return match.group(1) if match else None


def render_one(text, values):
    """Render ``text`` as one string, or None when a variable has no value.

    A list variable is not allowed here (a subject attribute is one value).
    """
    if not isinstance(text, str):
        return None if text is None else _as_text(text)
    names = references(text)
    if any(values.get(name) is None for name in names):
        return None
    for name in names:
        if isinstance(values[name], (list, tuple)):
            raise Invalid("%s uses list variable %s where one value is expected" % (_show(text), name))
    return _REF.sub(lambda m: _as_text(values[m.group(1)]), text)


def literal_part(text):
    """``text`` with every ``{{ name }}`` removed (the author's own text)."""
    return _literal_part(text) if isinstance(text, str) else ""


@functools.lru_cache(maxsize=1024)
def _literal_part(text):
    return _REF.sub("", text)
