"""Enrolling many credentials under one opening of the CA.

``credential_enroll_many`` is the enrolment half of
``credential_state.credential_ensure_many`` (the module's ``credentials``
batch form and ``qpki credential enroll --batch``). For N credentials it
opens the CA once (one HSM login for the CA key), takes its lock once and
signs every certificate through ``batch_sign.issue_many`` (one index rewrite, one
serial update, one audit append for the lot). The credential directories are
assembled in one private staging directory under ``cred_dir``: the files are
written with one flush to disk per kind (keys 0600, then certificates,
chains and metadata), and each directory is renamed into place, so a
credential directory is either complete or absent.

As for a single enrolment, the certificates are recorded by the CA before
the credential directories are renamed into place: a crash in between leaves
issued certificates without a credential (visible in the CA's index), never
a credential whose certificate the CA does not know.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import datetime
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple

from ...algorithms.registry import get_algorithm
from ...errors import InputError
from ...signer.keyfile import encode_private_key
from ...store.atomic import fsync_dir, write_files
from ...store.credential_dir import CredentialDir, make_credential_id, prepare_root
from ...store.lock import ca_lock
from ...x509.certificate import utcnow
from . import audit as credential_audit
from ..ca.authority import Authority
from ..cert.batch_sign import Prepared, issue_many
from ..ca.keys import KeyRequest, open_hsm_key
from .enroll import (_common_name, _role, credential_meta, enrolled_credential, enroll_record,
                     staging_log)
from .results import EnrolledBatch, EnrolledCredential

if TYPE_CHECKING:
    from ...profiles.profile import Profile
from ..keys.hybrid import alt_algorithm, subject_algorithm
from ..cert.issuance import pem


class EnrollItem:
    """One credential to enroll: a loaded Profile, its rendered request, the
    id (None: a new one from the common name), the KeyRequest and the text
    naming the item in errors."""

    __slots__ = ("profile", "rendered", "credential_id", "key", "where")

    def __init__(self, profile: Profile, rendered: Any, credential_id: str | None = None,
                 key: KeyRequest | None = None, where: str | None = "credential") -> None:
        self.profile = profile
        self.rendered = rendered
        self.credential_id = credential_id
        self.key = key or KeyRequest()
        self.where = where


class BatchEnrolled(NamedTuple):
    """One credential enrolled by ``credential_enroll_many``, with its
    metadata and certificate (for the caller's description)."""

    credential: EnrolledCredential
    meta: dict[str, Any]
    cert: Any


class _Work:
    """An item being enrolled: its keys, files and certificate."""

    def __init__(self, item: EnrollItem, cred_id: str, staging: CredentialDir) -> None:
        self.item = item
        self.id = cred_id
        self.staging = staging
        self.algorithm = get_algorithm(subject_algorithm(item.profile))
        alt = alt_algorithm(item.profile)
        self.alt = get_algorithm(alt) if alt else None
        self.role = _role(self.algorithm)
        self.key_files: list[tuple[Any, bytes]] = []  # (path, PEM bytes), written 0600
        self.storages: list[dict[str, Any]] = []
        self.public_key: Any = None
        self.alt_public_key: Any = None
        self.signer: Any = None
        self.cert: Any = None
        self.meta: dict[str, Any] = {}


def _ids(items: list[EnrollItem], cred_dir: str | os.PathLike) -> list[str]:
    ids: list[str] = []
    seen: dict[str, str | None] = {}
    for item in items:
        cred_id = item.credential_id or make_credential_id(_common_name(item.rendered.subject))
        if cred_id in seen:
            raise InputError("%s and %s both enroll credential %s"
                             % (seen[cred_id], item.where, cred_id))
        seen[cred_id] = item.where
        if CredentialDir(cred_dir, cred_id).exists():
            raise InputError("%s: credential %s already exists in %s"
                             % (item.where, cred_id, cred_dir))
        ids.append(cred_id)
    return ids


def _make_keys(work: _Work) -> None:
    """Generate the item's key(s): a software key in memory (written later),
    or a key generated in the token (one session for it)."""
    key = work.item.key
    staging = work.staging
    if key.in_hsm:
        # As for a single enrolment: the end-entity key is generated in the token.
        request = KeyRequest(hsm_config=key.hsm_config, key_label=key.key_label,
                             key_id=key.key_id, generate_key=True)
        work.signer, storage = open_hsm_key(request, work.algorithm.name, {})
        work.public_key = work.signer.public_key()
    else:
        private_key = work.algorithm.generate()
        work.key_files.append((staging.key_path(work.role, work.algorithm.name),
                               encode_private_key(private_key, key.passphrase)))
        work.public_key = private_key.public_key()
        storage = {"type": "software",
                   "path": staging.key_relpath(work.role, work.algorithm.name)}
    work.storages.append(storage)
    if work.alt is not None:
        alt_key = work.alt.generate()
        work.key_files.append((staging.key_path(work.role, work.alt.name),
                               encode_private_key(alt_key, key.passphrase)))
        work.alt_public_key = alt_key.public_key()
        work.storages.append({"type": "software",
                              "path": staging.key_relpath(work.role, work.alt.name)})


def credential_enroll_many(ca_dir: str | os.PathLike, cred_dir: str | os.PathLike,
                           items: Iterable[EnrollItem], ca_passphrase: bytes | None = None,
                           now: datetime.datetime | None = None) -> list[BatchEnrolled]:
    """Enroll one credential per EnrollItem; returns one BatchEnrolled per
    item, in order."""
    items = list(items)
    if not items:
        return []
    now = now or utcnow()
    ids = _ids(items, cred_dir)
    prepare_root(cred_dir)
    staging_root = tempfile.mkdtemp(prefix=".enroll-", dir=cred_dir)
    works = []
    try:
        for item, cred_id in zip(items, ids, strict=False):
            work = _Work(item, cred_id, CredentialDir(staging_root, cred_id).create())
            works.append(work)
            _make_keys(work)
        with Authority(ca_dir, ca_passphrase) as authority:
            prepared = [Prepared(w.item.profile, w.item.rendered, w.public_key,
                                 w.alt_public_key, w.item.where) for w in works]
            with ca_lock(authority.dir.path):
                certs = issue_many(authority, prepared, now)
                ca_head = credential_audit.ca_audit_head(authority.dir.path)
            chain = b"".join(pem(c) for c in authority.chain_certificates())
        write_files([entry for w in works for entry in w.key_files], mode=0o600)
        files: list[tuple[Any, bytes]] = []
        for work, cert in zip(works, certs, strict=False):
            work.cert = cert
            work.meta = credential_meta(work.id, cert, work.item.profile, work.role,
                                        work.algorithm, work.alt, work.storages, now)
            files.append((work.staging.cert_path(work.role, work.algorithm.name), pem(cert)))
            files.append((work.staging.chain, chain))
            files.append((staging_log(work.staging), credential_audit.first_line(enroll_record(
                work.id, cert, work.item.profile, work.storages, ca_head))))
        write_files(files)
        for work in works:
            work.staging.write_meta(work.meta)
        for work in works:
            os.rename(work.staging.path, CredentialDir(cred_dir, work.id).path)
        fsync_dir(cred_dir)
        os.rmdir(staging_root)
    except BaseException:
        shutil.rmtree(staging_root, ignore_errors=True)
        raise
    finally:
        for work in works:
            if work.signer is not None:
                work.signer.close()
    return [BatchEnrolled(enrolled_credential(CredentialDir(cred_dir, work.id), work.cert,
                                              work.role, work.algorithm, work.alt, work.storages),
                          work.meta, work.cert) for work in works]


_ITEM_KEYS = ("credential_id", "vars", "profile", "key_label", "key_id")


def read_batch_file(path: str) -> list[dict[str, Any]]:
    """The items of a ``--batch`` file: a YAML (or JSON) list of mappings with
    ``credential_id``, ``vars``, ``profile``, ``key_label``, ``key_id``."""
    from ...safe_yaml import read_yaml

    data = read_yaml(path, "batch file")
    if not isinstance(data, list) or not data:
        raise InputError('batch file "%s": expected a non-empty list of credentials' % path)
    for number, item in enumerate(data):
        if not isinstance(item, dict):
            raise InputError('batch file "%s": item %d is not a mapping' % (path, number))
        unknown = sorted(str(k) for k in item if k not in _ITEM_KEYS)
        if unknown:
            raise InputError('batch file "%s": item %d: unknown key(s) %s (use %s)'
                             % (path, number, ", ".join(unknown), ", ".join(_ITEM_KEYS)))
        if not isinstance(item.get("vars") or {}, dict):
            raise InputError('batch file "%s": item %d: vars must be a mapping' % (path, number))
    return data


def credential_enroll_batch(ca_dir: str | os.PathLike, cred_dir: str | os.PathLike,
                            profile: str, items: list[dict[str, Any]],
                            values: dict[str, Any] | None = None, key: KeyRequest | None = None,
                            ca_passphrase: bytes | None = None,
                            where: str = "credentials") -> EnrolledBatch:
    """``qpki credential enroll --batch FILE``: enroll every item (dicts as
    ``read_batch_file`` returns them) under one opening of the CA. Unlike the
    module's batch form this is not declarative: an item whose credential
    already exists is an error, raised before anything is signed.

    ``profile`` and ``values`` are the defaults of every item (an item's
    ``vars`` are merged over ``values``); ``key`` gives the HSM configuration
    and the key passphrase (an item's ``key_label``/``key_id`` name its token
    key). Returns ``{"changed", "count", "credentials": [...]}``.
    """
    from ...profiles.loader import load_profile
    from ..keys.hybrid import check_key_request

    key = key or KeyRequest()
    profiles: dict[str, Profile] = {}
    enroll: list[EnrollItem] = []
    for number, entry in enumerate(items):
        label = "%s[%d]" % (where, number)
        merged = dict(values or {})
        merged.update(entry.get("vars") or {})
        name = entry.get("profile") or profile
        try:
            item_key = KeyRequest(hsm_config=key.hsm_config,
                                  key_label=entry.get("key_label") or None,
                                  key_id=entry.get("key_id") or None,
                                  generate_key=True, passphrase=key.passphrase)
            if item_key.in_hsm and not (item_key.key_label or item_key.key_id):
                raise InputError("a key in a token needs a key_label and/or key_id per item")
            item_profile = profiles.get(name) or profiles.setdefault(name, load_profile(name))
            if item_profile.is_ca:
                raise InputError("profile %s is a CA profile: use qpki ca init"
                                 % item_profile.name)
            check_key_request(item_profile, item_key)
            rendered = item_profile.render({k: v for k, v in merged.items() if v is not None})
        except InputError as exc:
            raise type(exc)("%s: %s" % (label, exc)) from None
        enroll.append(EnrollItem(item_profile, rendered, entry.get("credential_id") or None,
                                 item_key, label))
    results = credential_enroll_many(ca_dir, cred_dir, enroll, ca_passphrase)
    return EnrolledBatch(changed=True, count=len(results),
                         credentials=[result.credential for result in results])
