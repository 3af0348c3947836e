"""Certificate profiles: builtin and YAML templates with typed variables.

Public API (other layers code against these names)::

    load_profile(name_or_path) -> Profile
    list_profiles() -> [Profile]
    Profile.render(values, csr_subject=None, csr_sans=None) -> Rendered
    parse_var_args(["k=v", ...]) -> dict
    load_var_file(path) -> dict
"""

from .loader import list_profiles, load_profile
from .profile import Profile, Rendered
from .variables import load_var_file, parse_var_args

__all__ = ["Profile", "Rendered", "list_profiles", "load_profile", "load_var_file", "parse_var_args"]
