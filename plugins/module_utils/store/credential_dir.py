"""Credential directories: ``<cred_root>/<credential id>/``.

::

    credential.meta.json        seed shape (see ``write_meta``)
    <role>.<algorithm>.crt      certificate (PEM), e.g. signature.ecdsa-p384.crt
    <role>.<algorithm>.key      software private key (PEM, mode 0600)
    chain.crt                   issuing CA chain (PEM)
    audit.log, audit.pending    the credential's audit log (ops/credential/audit.py)

A software key's metadata ``storage`` entry is ``{"type": "software",
"path": "<role>.<algorithm>.key"}``, relative to the credential directory.
Ids, roles and algorithm names are checked by ``names.safe_component`` before
they become path components.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InputError, StoreError
from .atomic import StrPath, ensure_dir
from .ca_dir import order_storage
from .metafile import dump_json, load_json_object, ordered, utc_text
from .names import safe_component, safe_relative_path, slugify
from .secure_dir import check_secure_tree

META_NAME = "credential.meta.json"
META_ORDER = (
    "id",
    "subject",
    "profiles",
    "status",
    "created",
    "not_before",
    "not_after",
    "certificates",
)
SUBJECT_ORDER = ("common_name",)
CERTIFICATE_ORDER = ("serial", "role", "profile", "algorithm", "fingerprint", "storage")
_TIME_FIELDS = ("created", "not_before", "not_after")


def make_credential_id(common_name: str, now: datetime | None = None) -> str:
    """A fresh id ``<slug of CN>-<YYYYMMDD>-<6 random hex>``.

    ``server.example.com`` on 2025-01-02 gives e.g.
    ``server-example-com-20250102-a1b2c3``; a CN with no usable character
    gives ``credential-<date>-<hex>``. ``now`` defaults to the current time
    (the date is taken in UTC).
    """
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is not None:
        now = now.astimezone(timezone.utc)
    slug = slugify(common_name) or "credential"
    return safe_component(
        f"{slug}-{now:%Y%m%d}-{secrets.token_hex(3)}", "credential id"
    )


def format_serial(serial: object) -> str:
    """``0x1A2B3C4D``: how the metadata writes a serial."""
    if isinstance(serial, int) and serial >= 0:
        return "0x" + f"{serial:X}"
    if isinstance(serial, str) and serial[:2].lower() == "0x":
        try:
            return format_serial(int(serial[2:], 16))
        except ValueError:
            pass
    raise InputError(
        f"invalid certificate serial {serial!r}: expected an integer or 0x<hex>"
    )


def _order_certificate(cert: object) -> dict[str, Any]:
    if not isinstance(cert, dict):
        raise InputError(f"invalid certificate entry {cert!r}: expected an object")
    entry = dict(cert)
    if "serial" in entry:
        entry["serial"] = format_serial(entry["serial"])
    if isinstance(entry.get("storage"), list):
        entry["storage"] = [order_storage(item) for item in entry["storage"]]
    return ordered(entry, CERTIFICATE_ORDER)


class CredentialDir:
    """Paths and metadata of one credential. Nothing is touched on disk
    until a method that says so is called."""

    def __init__(self, cred_root: StrPath, cred_id: str) -> None:
        self.root = Path(os.fspath(cred_root))
        self.id = safe_component(cred_id, "credential id")
        self.path = self.root / self.id

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __repr__(self) -> str:
        return f"CredentialDir({os.fspath(self.root)!r}, {self.id!r})"

    @property
    def meta(self) -> Path:
        return self.path / META_NAME

    @property
    def chain(self) -> Path:
        return self.path / "chain.crt"

    def cert_path(self, role: str, algorithm: str) -> Path:
        """``<role>.<algorithm>.crt``."""
        return self.path / f"{self._stem(role, algorithm)}.crt"

    def key_path(self, role: str, algorithm: str) -> Path:
        """``<role>.<algorithm>.key``."""
        return self.path / self.key_relpath(role, algorithm)

    def key_relpath(self, role: str, algorithm: str) -> str:
        """The key path as the metadata stores it (relative)."""
        return f"{self._stem(role, algorithm)}.key"

    def resolve(self, relpath: str) -> Path:
        """Absolute path of a path stored in the metadata (relative ones may
        not leave the credential directory)."""
        if os.path.isabs(relpath):
            return Path(relpath)
        return self.path / safe_relative_path(
            relpath, "path in " + os.fspath(self.meta)
        )

    @staticmethod
    def _stem(role: str, algorithm: str) -> str:
        return (
            f"{safe_component(role, 'role')}.{safe_component(algorithm, 'algorithm')}"
        )

    def exists(self) -> bool:
        """True if ``credential.meta.json`` is present."""
        return self.meta.is_file()

    def require(self) -> CredentialDir:
        """Raise StoreError unless this is a credential directory that only
        its owner (or root) can change; return self."""
        if not self.exists():
            raise StoreError(
                f"not a credential directory: {self.path} (no {META_NAME})"
            )
        check_secure_tree(self.root)
        check_secure_tree(self.path, files=os.listdir(self.path))
        return self

    def create(self) -> CredentialDir:
        """Create the directory; StoreError if the credential exists."""
        if self.exists():
            raise StoreError(f"credential already exists: {self.path}")
        ensure_dir(self.path, 0o755)
        return self

    def load_meta(self) -> dict[str, Any]:
        self.require()
        meta = load_json_object(self.meta)
        if meta.get("id") != self.id:
            raise StoreError(
                f"invalid {self.meta}: id {meta.get('id')!r} does not match the directory name"
            )
        if not isinstance(meta.get("certificates", []), list):
            raise StoreError(f"invalid {self.meta}: 'certificates' must be a list")
        return meta

    def write_meta(self, meta: object) -> None:
        """Atomically write ``credential.meta.json`` in the seed's key order
        (extra keys follow). ``id`` defaults to this credential's id and
        must match it; datetimes become ``YYYY-MM-DDTHH:MM:SSZ``; integer
        serials become ``0x<HEX>``."""
        if not isinstance(meta, dict):
            raise InputError(f"invalid metadata for {self.meta}: expected an object")
        data: dict[str, Any] = dict(meta)
        data.setdefault("id", self.id)
        if data["id"] != self.id:
            raise InputError(
                f"credential id {data['id']!r} does not match directory {self.path}"
            )
        for field in _TIME_FIELDS:
            if isinstance(data.get(field), datetime):
                data[field] = utc_text(data[field])
        if isinstance(data.get("subject"), dict):
            data["subject"] = ordered(data["subject"], SUBJECT_ORDER)
        if "certificates" in data:
            if not isinstance(data["certificates"], list):
                raise InputError(
                    f"invalid metadata for {self.meta}: 'certificates' must be a list"
                )
            data["certificates"] = [
                _order_certificate(cert) for cert in data["certificates"]
            ]
        dump_json(self.meta, ordered(data, META_ORDER))


def prepare_root(cred_root: StrPath) -> StrPath:
    """Create the credential root (mode 0755) if it is missing and check that
    only its owner can change it, before keys are written under it."""
    ensure_dir(cred_root, 0o755)
    check_secure_tree(cred_root)
    return cred_root


def list_credentials(cred_root: StrPath) -> list[str]:
    """Ids of the credentials under ``cred_root``, sorted (missing root: [])."""
    root = os.fspath(cred_root)
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return []
    except OSError as err:
        raise StoreError(f"cannot list {root}: {err.strerror or err}") from err
    ids: list[str] = []
    for name in names:
        try:
            cred = CredentialDir(root, name)
        except InputError:
            continue
        if cred.exists():
            ids.append(name)
    return ids
