"""Credential directories: ``<cred_root>/<credential id>/``.

::

    credential.meta.json        seed shape (see ``write_meta``)
    <role>.<algorithm>.crt      certificate (PEM), e.g. signature.ecdsa-p384.crt
    <role>.<algorithm>.key      software private key (PEM, mode 0600)
    chain.crt                   issuing CA chain (PEM)
    audit.log, audit.pending    the credential's audit log (ops/credential_audit.py)

A software key's metadata ``storage`` entry is ``{"type": "software",
"path": "<role>.<algorithm>.key"}``, relative to the credential directory.
Ids, roles and algorithm names are checked by ``names.safe_component`` before
they become path components.
"""

import os
import secrets
from datetime import datetime, timezone
from pathlib import Path

from ..errors import InputError, StoreError
from .atomic import ensure_dir
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


def make_credential_id(common_name, now=None):
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


def format_serial(serial):
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


def _order_certificate(cert):
    if not isinstance(cert, dict):
        raise InputError(f"invalid certificate entry {cert!r}: expected an object")
    cert = dict(cert)
    if "serial" in cert:
        cert["serial"] = format_serial(cert["serial"])
    if isinstance(cert.get("storage"), list):
        cert["storage"] = [order_storage(item) for item in cert["storage"]]
    return ordered(cert, CERTIFICATE_ORDER)


class CredentialDir:
    """Paths and metadata of one credential. Nothing is touched on disk
    until a method that says so is called."""

    def __init__(self, cred_root, cred_id):
        self.root = Path(os.fspath(cred_root))
        self.id = safe_component(cred_id, "credential id")
        self.path = self.root / self.id

    def __fspath__(self):
        return os.fspath(self.path)

    def __repr__(self):
        return f"CredentialDir({os.fspath(self.root)!r}, {self.id!r})"

    @property
    def meta(self):
        return self.path / META_NAME

    @property
    def chain(self):
        return self.path / "chain.crt"

    def cert_path(self, role, algorithm):
        """``<role>.<algorithm>.crt``."""
        return self.path / f"{self._stem(role, algorithm)}.crt"

    def key_path(self, role, algorithm):
        """``<role>.<algorithm>.key``."""
        return self.path / self.key_relpath(role, algorithm)

    def key_relpath(self, role, algorithm):
        """The key path as the metadata stores it (relative)."""
        return f"{self._stem(role, algorithm)}.key"

    def resolve(self, relpath):
        """Absolute path of a path stored in the metadata (relative ones may
        not leave the credential directory)."""
        if os.path.isabs(relpath):
            return Path(relpath)
        return self.path / safe_relative_path(
            relpath, "path in " + os.fspath(self.meta)
        )

    @staticmethod
    def _stem(role, algorithm):
        return (
            f"{safe_component(role, 'role')}.{safe_component(algorithm, 'algorithm')}"
        )

    def exists(self):
        """True if ``credential.meta.json`` is present."""
        return self.meta.is_file()

    def require(self):
        """Raise StoreError unless this is a credential directory that only
        its owner (or root) can change; return self."""
        if not self.exists():
            raise StoreError(
                f"not a credential directory: {self.path} (no {META_NAME})"
            )
        check_secure_tree(self.root)
        check_secure_tree(self.path, files=os.listdir(self.path))
        return self

    def create(self):
        """Create the directory; StoreError if the credential exists."""
        if self.exists():
            raise StoreError(f"credential already exists: {self.path}")
        ensure_dir(self.path, 0o755)
        return self

    def load_meta(self):
        self.require()
        meta = load_json_object(self.meta)
        if meta.get("id") != self.id:
            raise StoreError(
                f"invalid {self.meta}: id {meta.get('id')!r} does not match the directory name"
            )
        if not isinstance(meta.get("certificates", []), list):
            raise StoreError(f"invalid {self.meta}: 'certificates' must be a list")
        return meta

    def write_meta(self, meta):
        """Atomically write ``credential.meta.json`` in the seed's key order
        (extra keys follow). ``id`` defaults to this credential's id and
        must match it; datetimes become ``YYYY-MM-DDTHH:MM:SSZ``; integer
        serials become ``0x<HEX>``."""
        if not isinstance(meta, dict):
            raise InputError(f"invalid metadata for {self.meta}: expected an object")
        meta = dict(meta)
        meta.setdefault("id", self.id)
        if meta["id"] != self.id:
            raise InputError(
                f"credential id {meta['id']!r} does not match directory {self.path}"
            )
        for field in _TIME_FIELDS:
            if isinstance(meta.get(field), datetime):
                meta[field] = utc_text(meta[field])
        if isinstance(meta.get("subject"), dict):
            meta["subject"] = ordered(meta["subject"], SUBJECT_ORDER)
        if "certificates" in meta:
            if not isinstance(meta["certificates"], list):
                raise InputError(
                    f"invalid metadata for {self.meta}: 'certificates' must be a list"
                )
            meta["certificates"] = [
                _order_certificate(cert) for cert in meta["certificates"]
            ]
        dump_json(self.meta, ordered(meta, META_ORDER))


def prepare_root(cred_root):
    """Create the credential root (mode 0755) if it is missing and check that
    only its owner can change it, before keys are written under it."""
    ensure_dir(cred_root, 0o755)
    check_secure_tree(cred_root)
    return cred_root


def list_credentials(cred_root):
    """Ids of the credentials under ``cred_root``, sorted (missing root: [])."""
    root = os.fspath(cred_root)
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return []
    except OSError as err:
        raise StoreError(f"cannot list {root}: {err.strerror or err}") from err
    ids = []
    for name in names:
        try:
            cred = CredentialDir(root, name)
        except InputError:
            continue
        if cred.exists():
            ids.append(name)
    return ids
