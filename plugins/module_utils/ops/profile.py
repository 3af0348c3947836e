"""profile list, profile show."""

from __future__ import annotations

from typing import Any

from ..profiles.loader import list_profiles, load_profile


def profile_list() -> dict[str, Any]:
    return {"changed": False, "profiles": [
        {"name": p.name, "description": p.description, "algorithms": list(p.algorithms),
         "mode": p.mode} for p in list_profiles()]}


def profile_show(name: str) -> dict[str, Any]:
    result = load_profile(name).to_dict()
    result["changed"] = False
    return result
