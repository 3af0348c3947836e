"""The model of ``ca.meta.json``: a CA has versions, one of them active.

Two shapes are read:

* the seed's flat shape (what ``ca init`` writes)::

      {"profile": ..., "created": ..., "keys": [{id, algorithm, storage}]}

  read as one version, ``v1``, active;

* QPKI's versioned shape (what QPKI writes, and what a rotated CA will
  use)::

      {"subject": {...}, "created": ..., "active": "v1",
       "versions": {"v1": {"profiles": [...], "algos": [...], "created": ...,
                           "activated_at": ..., "archived_at": ...,
                           "cross_signed_by": [...], "keys": [...]}}}

  with each version's certificates under ``versions/<id>/certs/``. A
  version is ``active`` (the one named by ``active``), ``archived`` (it has
  ``archived_at``) or ``pending`` (made, not yet activated).

Reading only: ``ca_versions`` writes versions.
"""

from dataclasses import dataclass, field

from ..errors import InputError, StoreError
from .names import safe_component

FLAT = "flat"
VERSIONED = "versioned"
# The members of the versioned shape itself; any other top-level member is CA-wide.
VERSIONED_KEYS = ("subject", "created", "active", "versions")


@dataclass(frozen=True)
class CaVersion:
    """One version of a CA: its keys (seed-shaped entries) and dates."""

    id: str
    status: str  # "active", "pending" or "archived"
    profiles: "tuple[str, ...]" = ()
    algorithms: "tuple[str, ...]" = ()
    keys: "tuple[dict, ...]" = ()
    created: "str | None" = None
    activated_at: "str | None" = None
    archived_at: "str | None" = None
    cross_signed_by: "tuple[str, ...]" = ()

    @property
    def profile(self) -> "str | None":
        """The version's profile (the first one named), or None."""
        return next((p for p in self.profiles if p), None)

    def summary(self) -> dict:
        """Plain data for ``ca info``."""
        return {"id": self.id, "status": self.status, "profiles": [p for p in self.profiles if p],
                "algorithms": list(self.algorithms), "created": self.created,
                "activated_at": self.activated_at, "archived_at": self.archived_at,
                "cross_signed_by": list(self.cross_signed_by),
                "keys": [dict(k) for k in self.keys]}


@dataclass(frozen=True)
class CaMeta:
    """The whole ``ca.meta.json``: its shape, versions and active version."""

    shape: str  # FLAT or VERSIONED
    active: str
    versions: "dict[str, CaVersion]"
    created: "str | None" = None
    subject: "dict | None" = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def active_version(self) -> CaVersion:
        return self.versions[self.active]

    def active_meta(self) -> dict:
        """The seed-shaped view (profile, created, keys) of the active version:
        for the flat shape the file's own content, extra keys included."""
        if self.shape == FLAT:
            return dict(self.raw)
        return self.version_meta(self.active)

    def version_meta(self, version_id: str) -> dict:
        """The seed-shaped view of one version, with the file's CA-wide extra
        keys (parent, URLs...)."""
        if self.shape == FLAT:
            return dict(self.raw)
        version = self.versions[version_id]
        extras = {k: v for k, v in self.raw.items() if k not in VERSIONED_KEYS}
        return {**extras, "profile": version.profile, "created": version.created or self.created,
                "keys": [dict(k) for k in version.keys], "version": version.id}


def is_versioned(data: dict) -> bool:
    """True for QPKI's versioned shape (``active`` and ``versions``)."""
    return "versions" in data or "active" in data


def flat_ca_meta(data: dict) -> CaMeta:
    """The model of a (checked) seed-shaped ``ca.meta.json``."""
    keys = tuple(dict(k) for k in data["keys"])
    version = CaVersion(id="v1", status="active", profiles=(data["profile"],),
                        algorithms=tuple(k["algorithm"] for k in keys), keys=keys,
                        created=data["created"], activated_at=data["created"])
    return CaMeta(FLAT, "v1", {"v1": version}, created=data["created"],
                  subject=data.get("subject"), raw=data)


def _strings(value: object, where: str, path: object) -> "tuple[str, ...]":
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StoreError(f"invalid {path}: {where} must be a list of strings")
    return tuple(value)


def _text(value: object, where: str, path: object) -> "str | None":
    if value is not None and not isinstance(value, str):
        raise StoreError(f"invalid {path}: {where} must be a string")
    return value


def _version(version_id: str, entry: object, active: str, path: object) -> CaVersion:
    from .ca_dir import check_keys  # ca_dir reads this module's model

    where = f"versions.{version_id}"
    try:
        safe_component(version_id, "version id")
    except InputError as exc:
        raise StoreError(f"invalid {path}: {exc}") from None
    if not isinstance(entry, dict):
        raise StoreError(f"invalid {path}: {where} must be an object")
    keys = entry.get("keys", [])
    if not isinstance(keys, list):
        raise StoreError(f"invalid {path}: {where}.keys must be a list")
    check_keys(keys, path, f"{where}.keys")
    archived = _text(entry.get("archived_at"), f"{where}.archived_at", path)
    status = "active" if version_id == active else ("archived" if archived else "pending")
    return CaVersion(
        id=version_id, status=status,
        profiles=_strings(entry.get("profiles"), f"{where}.profiles", path),
        algorithms=_strings(entry.get("algos"), f"{where}.algos", path),
        keys=tuple(dict(k) for k in keys),
        created=_text(entry.get("created"), f"{where}.created", path),
        activated_at=_text(entry.get("activated_at"), f"{where}.activated_at", path),
        archived_at=archived,
        cross_signed_by=_strings(entry.get("cross_signed_by"), f"{where}.cross_signed_by", path))


def _version_order(version_id: str) -> "tuple[int, int, str]":
    """v1, v2, ..., v10 in numeric order; other names after, by name."""
    number = version_id[1:]
    return (0, int(number), "") if version_id[:1] == "v" and number.isdigit() else (1, 0, version_id)


def versioned_ca_meta(data: dict, path: object) -> CaMeta:
    """The model of QPKI's versioned ``ca.meta.json``; StoreError naming
    ``path`` when its shape is wrong."""
    active = data.get("active")
    versions = data.get("versions")
    if not isinstance(versions, dict) or not versions:
        raise StoreError(f"invalid {path}: 'versions' must be a non-empty object")
    if not isinstance(active, str) or not active:
        raise StoreError(f"invalid {path}: 'active' is missing")
    if active not in versions:
        raise StoreError(f"invalid {path}: active version {active!r} is not among the "
                         f"versions ({', '.join(sorted(versions, key=_version_order))})")
    subject = data.get("subject")
    if subject is not None and not isinstance(subject, dict):
        raise StoreError(f"invalid {path}: 'subject' must be an object")
    parsed = {vid: _version(vid, versions[vid], active, path)
              for vid in sorted(versions, key=_version_order)}
    return CaMeta(VERSIONED, active, parsed, created=_text(data.get("created"), "created", path),
                  subject=subject, raw=data)
