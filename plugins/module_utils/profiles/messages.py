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
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
