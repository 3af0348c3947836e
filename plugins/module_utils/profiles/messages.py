"""Helpers that build the single-line error messages of the profiles layer.

Every message names the profile, then the field, then the offending value:
``profile ec/tls-server: variable dns_names: "bad_name!" is not a valid DNS name``.
"""

import json

from ..errors import ProfileError


class Invalid(ValueError):
    """A value broke a rule; carries only the detail, callers add the context."""


def quote(value):
    """Render a user value for an error message: strings in double quotes."""
    if isinstance(value, str):
        if len(value) > 256:  # keep hostile input from flooding the one-line error
            return "%s... (%d characters)" % (json.dumps(value[:64], ensure_ascii=False)[:-1],
                                              len(value))
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict, set)):  # bounded, even for a YAML alias bomb
        return _SHORT.repr(value)
    return str(value)


def _short_repr():
    import reprlib

    short = reprlib.Repr()
    short.maxlevel = 2
    short.maxlist = short.maxtuple = short.maxdict = short.maxset = 16
    short.maxstring = short.maxother = 120
    return short


_SHORT = _short_repr()


def type_name(value):
    """A YAML-flavoured name for the Python type of ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def profile_error(profile, field, detail):
    """Build (not raise) the ProfileError for ``field`` of ``profile``."""
    if field:
        return ProfileError("profile %s: %s: %s" % (profile, field, detail))
    return ProfileError("profile %s: %s" % (profile, detail))
