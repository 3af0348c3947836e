"""User input for variables: ``--var NAME=VALUE`` and ``--var-file``."""

import re

from .messages import quote, type_name
from ..errors import InputError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_var_args(args):
    """Turn repeated ``--var NAME=VALUE`` arguments into a dict of strings."""
    out = {}
    for arg in args or []:
        name, sep, value = str(arg).partition("=")
        name = name.strip()
        if not sep:
            raise InputError("--var %s: expected NAME=VALUE" % quote(arg))
        if not _NAME.fullmatch(name):
            raise InputError("--var %s: %s is not a valid variable name" % (quote(arg), quote(name)))
        if name in out:
            raise InputError("--var %s: variable %s is given more than once" % (quote(arg), name))
        out[name] = value
    return out


def load_var_file(path):
    """Read a YAML mapping of variable values (``--var-file``)."""
    from ..safe_yaml import read_yaml

    data = read_yaml(path, "var file")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError('var file "%s": expected a mapping of variable names to values, got %s'
                         % (path, type_name(data)))
    for key in data:
        if not isinstance(key, str):
            raise InputError('var file "%s": variable name %s is not a string' % (path, quote(key)))
    return dict(data)
