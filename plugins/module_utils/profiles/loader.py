"""Finding profiles: builtin names (``ec/root-ca``) or YAML files."""

import os

from . import builtin
from .messages import profile_error
from .profile import Profile
from ..errors import ProfileError

_CACHE = {}


def _builtin(name):
    """The builtin profile ``name`` (built on first use), or None."""
    profile = _CACHE.get(name)
    if profile is None:
        data = builtin.definition(name)
        if data is None:
            return None
        profile = _CACHE[name] = Profile(data, name=name, source="builtin")
    return profile


def list_profiles():
    """Every builtin profile, sorted by name."""
    return [_builtin(name) for name in sorted(builtin.names())]


def _looks_like_path(text):
    return (text.endswith((".yaml", ".yml")) or os.sep in text and os.path.exists(text)
            or os.path.isfile(text))


def load_profile(name_or_path):
    """A builtin profile by name, or a custom profile from a YAML file."""
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise ProfileError("a profile name or path is required")
    profile = _builtin(name_or_path)
    if profile is not None:
        return profile
    if _looks_like_path(name_or_path):
        return load_profile_file(name_or_path)
    raise ProfileError('unknown profile "%s" (see qpki profile list)' % name_or_path)


def as_profile(profile: "str | Profile", cache: "dict[str, Profile] | None" = None) -> Profile:
    """``profile`` itself when it is a Profile, else the profile it names,
    loaded once per ``cache`` (a dict by name) when one is given."""
    if not isinstance(profile, str):
        return profile
    if cache is None:
        return load_profile(profile)
    if profile not in cache:
        cache[profile] = load_profile(profile)
    return cache[profile]


def load_profile_file(path):
    """Parse and validate the YAML profile in ``path``."""
    from ..safe_yaml import read_yaml

    if os.path.isdir(path):
        raise ProfileError('profile file "%s": is a directory' % path)
    data = read_yaml(path, "profile file", ProfileError)
    stem = os.path.splitext(os.path.basename(path))[0]
    if not isinstance(data, dict):
        raise profile_error(path, None, "expected a mapping at the top of the file")
    return Profile(data, name=stem, source=os.path.abspath(path))
