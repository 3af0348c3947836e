"""profile list, profile show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..profiles.loader import list_profiles, load_profile
from .result import Result, SPREAD


@dataclass
class ProfileList(Result):
    changed: bool
    profiles: list[dict[str, Any]]


@dataclass
class ProfileShow(Result):
    """A profile as its YAML form has it."""

    profile: dict[str, Any] = field(metadata=SPREAD)
    changed: bool = False


def profile_list() -> ProfileList:
    return ProfileList(changed=False, profiles=[
        {"name": p.name, "description": p.description, "algorithms": list(p.algorithms),
         "mode": p.mode} for p in list_profiles()])


def profile_show(name: str) -> ProfileShow:
    return ProfileShow(profile=load_profile(name).to_dict())
