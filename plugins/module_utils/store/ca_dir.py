"""The layout of a CA directory (DESIGN §4) and its metadata file.

::

    ca.meta.json            profile, created, keys[{id, algorithm, storage}] (seed), or
                            QPKI's versioned shape (active, versions): see ``ca_meta``
    versions/<id>/certs/    a version's CA certificate(s) (versioned shape)
    ca.crt                  CA certificate (PEM); chain.crt for a subordinate CA
    index.txt (+ .attr)     certificate database, see ``index``
    serial, crlnumber       hex counters, see ``serials``
    certs/<SERIAL>.crt      issued certificates
    crl/ca.crl, crl/ca.crl.der, crl/ca.<algorithm>.crl[.der]
    private/ca.<algorithm>.key   software keys, mode 0600 (directory 0700)
    .lock                   see ``lock``

``ca.meta.json`` is written last when a CA is created: its presence is what
makes a directory a CA directory. Opening one checks who may change it
(``secure_dir``: owned by this user or root, not writable by group or
others, no symbolic link among the sub-directories and files qpki writes).
"""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import StoreError
from .atomic import StrPath, ensure_dir, write_file
from .ca_meta import CaMeta, flat_ca_meta, is_versioned, versioned_ca_meta
from .index import attr_path, serial_hex, write_index
from .lock import LOCK_NAME, create_lock_file
from .metafile import dump_json, load_json_object, ordered, utc_text
from .names import safe_component, safe_relative_path
from .secure_dir import check_owner_and_mode, check_secure_tree

META_ORDER = ("profile", "created", "keys")
KEY_ORDER = ("id", "algorithm", "storage")
STORAGE_ORDER = ("type", "path", "config", "label", "key_id")
STORAGE_TYPES = ("software", "pkcs11")
SUBDIRS = ("certs", "crl", "private", "versions")
# Files qpki writes at the top of a CA directory (none may be a symbolic link).
META_NAME = "ca.meta.json"
# A CA whose certificate is to be signed elsewhere: its request and its CSR.
REQUEST_NAME = "ca.request.json"
CSR_NAME = "ca.csr"
TOP_FILES = (META_NAME, "ca.crt", "chain.crt", "index.txt", "index.txt.attr", "serial",
             "crlnumber", "audit.log", LOCK_NAME, CSR_NAME, REQUEST_NAME, "ca.db", "ca.db-wal",
             "ca.db-shm")


def ca_dir_state(path: str | os.PathLike[str]) -> str:
    """"complete" (ca.meta.json exists: the CA was made), "pending" (a request
    waits for its certificate) or "absent"."""
    if os.path.exists(os.path.join(path, META_NAME)):
        return "complete"
    if os.path.exists(os.path.join(path, REQUEST_NAME)):
        return "pending"
    return "absent"


def order_storage(storage: object) -> object:
    return ordered(storage, STORAGE_ORDER) if isinstance(storage, dict) else storage


def check_storage(storage: object, where: str, path: object) -> None:
    """StoreError unless ``storage`` is a software or pkcs11 reference."""
    if not isinstance(storage, dict):
        raise StoreError(f"invalid {path}: {where} must be an object")
    kind = storage.get("type")
    if kind not in STORAGE_TYPES:
        raise StoreError(
            f"invalid {path}: {where}.type must be 'software' or 'pkcs11', not {kind!r}"
        )
    needed = ("path",) if kind == "software" else ("config",)
    for field in needed:
        if not isinstance(storage.get(field), str) or not storage[field]:
            raise StoreError(f"invalid {path}: {where}.{field} is missing")
    if kind == "pkcs11" and not (storage.get("label") or storage.get("key_id")):
        raise StoreError(f"invalid {path}: {where} needs a label or a key_id")


def check_ca_meta(meta: object, path: object) -> None:
    """StoreError naming ``path`` unless ``meta`` has the seed's shape."""
    if not isinstance(meta, dict):
        raise StoreError(f"invalid {path}: expected a JSON object")
    for field in ("profile", "created"):
        if not isinstance(meta.get(field), str) or not meta[field]:
            raise StoreError(f"invalid {path}: '{field}' is missing")
    keys = meta.get("keys")
    if not isinstance(keys, list) or not keys:
        raise StoreError(f"invalid {path}: 'keys' must be a non-empty list")
    check_keys(keys, path)


def check_keys(keys: list[Any], path: object, name: str = "keys") -> None:
    """StoreError naming ``path`` unless every entry of the list ``keys``
    is a key reference {id, algorithm, storage} with a unique id."""
    seen: set[str] = set()
    for number, key in enumerate(keys):
        where = f"{name}[{number}]"
        if not isinstance(key, dict):
            raise StoreError(f"invalid {path}: {where} must be an object")
        for field in ("id", "algorithm"):
            if not isinstance(key.get(field), str) or not key[field]:
                raise StoreError(f"invalid {path}: {where}.{field} is missing")
        if key["id"] in seen:
            raise StoreError(f"invalid {path}: key id {key['id']!r} appears twice")
        seen.add(key["id"])
        check_storage(key.get("storage"), f"{where}.storage", path)


class CaDir:
    """Paths and metadata of one CA directory. Nothing is touched on disk
    until a method that says so is called."""

    def __init__(self, path: StrPath) -> None:
        self.path = Path(os.fspath(path))

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __repr__(self) -> str:
        return f"CaDir({os.fspath(self.path)!r})"

    # --- paths -----------------------------------------------------------

    @property
    def meta(self) -> Path:
        return self.path / META_NAME

    @property
    def cert(self) -> Path:
        return self.path / "ca.crt"

    @property
    def chain(self) -> Path:
        return self.path / "chain.crt"

    @property
    def index(self) -> Path:
        return self.path / "index.txt"

    @property
    def index_attr(self) -> Path:
        return Path(attr_path(self.index))

    @property
    def serial(self) -> Path:
        return self.path / "serial"

    @property
    def crlnumber(self) -> Path:
        return self.path / "crlnumber"

    @property
    def certs_dir(self) -> Path:
        return self.path / "certs"

    @property
    def crl_dir(self) -> Path:
        return self.path / "crl"

    @property
    def private_dir(self) -> Path:
        return self.path / "private"

    def crl_path(self, algorithm: str | None = None, der: bool = False, version: str | None = None) -> Path:
        """``crl/ca.crl`` (``.crl.der`` with ``der``), or
        ``crl/ca.<algorithm>.crl`` for one key of a multi-key CA;
        ``crl/<version>/...`` for an earlier version of a rotated CA."""
        stem = (
            "ca"
            if algorithm is None
            else f"ca.{safe_component(algorithm, 'algorithm')}"
        )
        folder = self.crl_dir / safe_component(version, "version") if version else self.crl_dir
        return folder / (stem + (".crl.der" if der else ".crl"))

    def delta_crl_path(self, der: bool = False) -> Path:
        """``crl/ca-delta.crl`` (``.crl.der`` with ``der``): the current delta CRL."""
        return self.crl_dir / ("ca-delta.crl.der" if der else "ca-delta.crl")

    def key_path(self, algorithm: str, version: str | None = None) -> Path:
        """``private/ca.<algorithm>.key`` (``private/<version>/...`` for a
        rotated CA's later versions)."""
        return self.path / self.key_relpath(algorithm, version)

    @staticmethod
    def key_relpath(algorithm: str, version: str | None = None) -> str:
        """The key path as stored in the metadata: ``private/ca.<alg>.key``,
        or ``private/<version>/ca.<alg>.key``."""
        folder = f"private/{safe_component(version, 'version')}/" if version else "private/"
        return f"{folder}ca.{safe_component(algorithm, 'algorithm')}.key"

    def cert_path(self, serial: int) -> Path:
        """``certs/<SERIAL>.crt``, serial in upper-case hex, even length."""
        if not isinstance(serial, int) or serial < 0:
            raise StoreError(
                f"invalid serial {serial!r} for a file under {self.certs_dir}"
            )
        return self.certs_dir / f"{serial_hex(serial)}.crt"

    def resolve(self, relpath: str) -> Path:
        """An absolute path for a path stored in the metadata: relative ones
        are taken from the CA directory and may not leave it."""
        if os.path.isabs(relpath):
            return Path(relpath)
        return self.path / safe_relative_path(
            relpath, "path in " + os.fspath(self.meta)
        )

    # --- state -----------------------------------------------------------

    def exists(self) -> bool:
        """True if the directory holds a CA (``ca.meta.json`` is present)."""
        return self.meta.is_file()

    def require(self) -> CaDir:
        """Raise StoreError unless this is a CA directory that only its owner
        (or root) can change; return self."""
        if not self.exists():
            raise StoreError(f"not a CA directory: {self.path} (no ca.meta.json)")
        check_secure_tree(self.path, SUBDIRS, TOP_FILES)
        return self

    def create_layout(self) -> CaDir:
        """Create the directory tree, an empty index and its ``.attr`` file.

        Refuses a directory that already holds a CA. Works on a missing or
        a partly set-up directory (from an interrupted ``ca init``);
        ``private/`` is made 0700, tightened if it already exists.
        """
        if self.exists():
            raise StoreError(f"CA directory already exists: {self.path}")
        ensure_dir(self.path, 0o755)
        ensure_dir(self.certs_dir, 0o755)
        ensure_dir(self.crl_dir, 0o755)
        ensure_dir(self.private_dir, 0o700)
        try:
            if stat.S_IMODE(os.stat(self.private_dir).st_mode) & 0o077:
                os.chmod(self.private_dir, 0o700)
        except OSError as err:
            raise StoreError(
                f"cannot restrict {self.private_dir}: {err.strerror or err}"
            ) from err
        if not self.index.exists():
            write_index(self.index, [])
        create_lock_file(self.path)  # exists from the start: locking never adds a file
        return self

    def load_meta(self) -> dict[str, Any]:
        """The seed-shaped view of ``ca.meta.json`` (profile, created, keys)
        for the active version; StoreError if missing or malformed."""
        return self.load_ca_meta().active_meta()

    def load_ca_meta(self) -> CaMeta:
        """The CaMeta model of ``ca.meta.json``, flat (seed) or versioned
        (QPKI) shape; StoreError if missing or malformed."""
        self.require()
        meta = load_json_object(self.meta)
        if is_versioned(meta):
            return versioned_ca_meta(meta, self.meta)
        check_ca_meta(meta, self.meta)
        return flat_ca_meta(meta)

    def version_certs_dir(self, version_id: str) -> Path:
        """``versions/<id>/certs`` (QPKI's place for a version's certificates)."""
        return self.path / "versions" / safe_component(version_id, "version") / "certs"

    def version_cert(self, version_id: str, algorithm: str) -> Path:
        """``versions/<id>/certs/ca.<algorithm>.pem``: a version's own CA certificate."""
        return self.version_certs_dir(version_id) / f"ca.{safe_component(algorithm, 'algorithm')}.pem"

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Atomically write ``ca.meta.json``: the seed's keys first, in the
        seed's order, then any extra keys (subject, parent...). A versioned
        (rotated) CA's metadata is checked as such and written as given."""
        if isinstance(meta, dict) and isinstance(meta.get("created"), datetime):
            meta = dict(meta, created=utc_text(meta["created"]))
        if isinstance(meta, dict) and is_versioned(meta):
            versioned_ca_meta(meta, self.meta)
            dump_json(self.meta, meta)
            return
        check_ca_meta(meta, self.meta)
        keys = [
            ordered(dict(key, storage=order_storage(key["storage"])), KEY_ORDER)
            for key in meta["keys"]
        ]
        dump_json(self.meta, ordered(dict(meta, keys=keys), META_ORDER))

    def read_cert_pem(self) -> bytes:
        """The bytes of ``ca.crt``."""
        return self._read(self.cert, "CA certificate")

    def read_chain_pem(self) -> bytes | None:
        """The bytes of ``chain.crt``, or None for a root CA."""
        if not self.chain.exists():
            return None
        return self._read(self.chain, "CA chain")

    def write_cert_pem(self, data: bytes) -> None:
        write_file(self.cert, data, 0o644)

    def check_private_key_modes(self) -> None:
        """StoreError if a file under ``private/`` is open to group/others,
        belongs to another user, or is a symbolic link."""
        if not self.private_dir.is_dir():
            return
        for root, _dirs, files in os.walk(self.private_dir):
            for name in sorted(files):
                full = os.path.join(root, name)
                try:
                    info = os.lstat(full)
                except FileNotFoundError:
                    continue
                except OSError as err:
                    raise StoreError(
                        f"cannot check {full}: {err.strerror or err}"
                    ) from err
                if stat.S_ISLNK(info.st_mode):
                    raise StoreError(
                        f"refusing to use {full}: it is a symbolic link (keep the key file "
                        "itself in private/)"
                    )
                mode = stat.S_IMODE(info.st_mode)
                if mode & 0o044:
                    raise StoreError(
                        f"refusing to use {full}: mode {mode:04o} lets group/others "
                        "read the private key (chmod 600)"
                    )
                if mode & 0o022:
                    raise StoreError(
                        f"refusing to use {full}: mode {mode:04o} lets group/others "
                        "replace the private key (chmod 600)"
                    )
                check_owner_and_mode(full, info)

    def _read(self, path: Path, what: str) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"missing {what}: {path}") from None
        except OSError as err:
            raise StoreError(f"cannot read {path}: {err.strerror or err}") from err
