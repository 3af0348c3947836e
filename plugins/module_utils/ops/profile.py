"""profile list, profile show."""

from ..profiles.loader import list_profiles, load_profile


def profile_list():
    return {"changed": False, "profiles": [
        {"name": p.name, "description": p.description, "algorithms": list(p.algorithms),
         "mode": p.mode} for p in list_profiles()]}


def profile_show(name):
    result = load_profile(name).to_dict()
    result["changed"] = False
    return result
