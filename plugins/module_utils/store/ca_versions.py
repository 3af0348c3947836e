"""Writing the versioned ``ca.meta.json`` of a rotated CA (the model that
reads it is ``ca_meta``).

A CA made by ``ca init`` has the seed's flat metadata; its first rotation
turns it into QPKI's versioned shape, the flat content becoming version
``v1`` (same keys, same files). Every function returns new data; nothing is
written here.
"""

from __future__ import annotations

import copy
from typing import Any

from .ca_meta import FLAT, CaMeta, CaVersion, VERSIONED_KEYS


def _entry(version: CaVersion) -> dict[str, Any]:
    entry: dict[str, Any] = {"profiles": list(version.profiles), "algos": list(version.algorithms),
                             "created": version.created, "activated_at": version.activated_at}
    if version.archived_at:
        entry["archived_at"] = version.archived_at
    if version.cross_signed_by:
        entry["cross_signed_by"] = list(version.cross_signed_by)
    entry["keys"] = [dict(key) for key in version.keys]
    return entry


def versioned_data(meta: CaMeta, subject: dict[str, Any]) -> dict[str, Any]:
    """The versioned metadata of a CA: a copy for a versioned one, the flat
    content as ``v1`` (CA-wide members such as ``parent`` kept) otherwise."""
    if meta.shape != FLAT:
        return copy.deepcopy(meta.raw)
    extras = {k: copy.deepcopy(v) for k, v in meta.raw.items()
              if k not in ("profile", "created", "keys") and k not in VERSIONED_KEYS}
    return {"subject": subject, "created": meta.created, "active": meta.active,
            "versions": {meta.active: _entry(meta.active_version)}, **extras}


def next_version_id(meta: CaMeta) -> str:
    numbers = [int(v[1:]) for v in meta.versions if v[:1] == "v" and v[1:].isdigit()]
    return f"v{max(numbers, default=0) + 1}"


def with_version(data: dict[str, Any], version_id: str, *, profile: str,
                 algorithms: list[str], keys: list[dict], created: str,
                 cross_signed_by: list[str]) -> dict[str, Any]:
    """``data`` with a new, not yet active, version."""
    data = copy.deepcopy(data)
    entry: dict[str, Any] = {"profiles": [profile], "algos": list(algorithms), "created": created}
    if cross_signed_by:
        entry["cross_signed_by"] = list(cross_signed_by)
    entry["keys"] = [dict(key) for key in keys]
    data["versions"][version_id] = entry
    return data


def with_active(data: dict[str, Any], version_id: str, when: str) -> dict[str, Any]:
    """``data`` with ``version_id`` active since ``when`` and the version it
    replaces archived at the same time."""
    data = copy.deepcopy(data)
    previous = data.get("active")
    if previous and previous != version_id:
        data["versions"][previous]["archived_at"] = when
    entry = data["versions"][version_id]
    entry.pop("archived_at", None)
    entry["activated_at"] = when
    data["active"] = version_id
    return data
