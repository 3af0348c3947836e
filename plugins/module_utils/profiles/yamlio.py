"""Strict YAML reading for profile and variable files.

PyYAML is imported lazily so that importing the package never needs it.
Duplicate keys in a mapping are an error instead of a silent overwrite.
"""

from ..errors import InputError

_LOADER = None


def _strict_loader():
    global _LOADER
    if _LOADER is None:
        import yaml

        class StrictLoader(yaml.SafeLoader):
            pass

        def construct_mapping(loader, node, deep=False):
            seen = set()
            for key_node, dummy in node.value:
                key = loader.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                except TypeError:
                    duplicate = False
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        None, None, "duplicate key %r" % (key,), key_node.start_mark)
                try:
                    seen.add(key)
                except TypeError:
                    pass
            return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

        StrictLoader.add_constructor(
            yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
        _LOADER = (yaml, StrictLoader)
    return _LOADER


def read_yaml(path, what, error=InputError):
    """Parse the YAML file ``path``; raises ``error`` saying ``<what> "<path>": ...``."""
    yaml, loader = _strict_loader()
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise error('%s "%s": file not found' % (what, path))
    except (OSError, UnicodeError) as exc:
        raise error('%s "%s": cannot read: %s' % (what, path, getattr(exc, "strerror", None) or exc))
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = " at line %d" % (mark.line + 1) if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error('%s "%s": invalid YAML%s: %s' % (what, path, where, problem))
