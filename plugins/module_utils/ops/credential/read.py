"""credential list / info: what a credential directory holds, read-only."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import StoreError
from ...store.credential_dir import CredentialDir, list_credentials
from ...store.metafile import utc_text
from ...x509.certificate import utcnow
from ...x509.parse import load_certificates_file
from .results import CredentialInfo, CredentialList

if TYPE_CHECKING:
    from cryptography import x509


@dataclass(frozen=True)
class CredentialFiles:
    """The active certificate of a credential, its chain and its key storage."""

    cred: CredentialDir
    meta: dict[str, Any]
    cert_path: str
    chain_path: str
    storage: list[dict[str, Any]]
    role: str
    algorithm: str


def open_credential(cred_root: str | os.PathLike, cred_id: str) -> CredentialFiles:
    """The credential ``cred_id`` under ``cred_root`` (StoreError if it is not one)."""
    cred = CredentialDir(cred_root, cred_id)
    meta = cred.load_meta()
    certificates = meta.get("certificates") or []
    if not certificates or not isinstance(certificates[0], dict):
        raise StoreError(f"invalid {cred.meta}: no certificate entry")
    entry = certificates[0]
    role, algorithm = str(entry.get("role", "")), str(entry.get("algorithm", ""))
    storage = entry.get("storage") or []
    if isinstance(storage, dict):
        storage = [storage]
    return CredentialFiles(cred, meta, os.fspath(cred.cert_path(role, algorithm)),
                           os.fspath(cred.chain), list(storage), role, algorithm)


def credential_certificate(files: CredentialFiles) -> x509.Certificate:
    return load_certificates_file(files.cert_path)[0]


def storage_view(cred: CredentialDir, storage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Key storage as the user reads it: file paths from the credential
    directory as given (like every other path of a result), token keys by
    label/id."""
    view = []
    for item in storage:
        item = dict(item)
        if item.get("type") == "software" and item.get("path"):
            item["path"] = os.fspath(cred.resolve(item["path"]))
        view.append(item)
    return view


def version_summaries(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """id, status, serial and dates of each version of a renewed or rotated credential."""
    active = meta.get("active") or "v1"
    rows = []
    for version, entry in (meta.get("versions") or {}).items():
        certificates = entry.get("certificates") or [{}]
        rows.append({"id": version, "status": "active" if version == active else "archived",
                     "serial": certificates[0].get("serial"), "not_after": entry.get("not_after"),
                     "activated_at": entry.get("activated_at"),
                     "archived_at": entry.get("archived_at") if version != active else None})
    return rows


def credential_info(cred_root: str | os.PathLike, cred_id: str) -> CredentialInfo:
    files = open_credential(cred_root, cred_id)
    cert = credential_certificate(files)
    remaining = cert.not_valid_after_utc - utcnow()
    return CredentialInfo(
        id=files.cred.id,
        status=files.meta.get("status", "valid"),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=f"{cert.serial_number:X}",
        profiles=files.meta.get("profiles", []),
        algorithm=files.algorithm,
        not_before=utc_text(cert.not_valid_before_utc),
        not_after=utc_text(cert.not_valid_after_utc),
        expires_in_seconds=max(0, int(remaining.total_seconds())),
        cert_path=files.cert_path,
        chain_path=files.chain_path,
        key_storage=storage_view(files.cred, files.storage),
        active_version=files.meta.get("active") or "v1",
        versions=version_summaries(files.meta),
    )


def credential_list(cred_root: str | os.PathLike) -> CredentialList:
    """One line per credential: id, status, subject CN, expiry, profile."""
    rows = []
    for cred_id in list_credentials(cred_root):
        files = open_credential(cred_root, cred_id)
        rows.append({"id": cred_id, "status": files.meta.get("status", "valid"),
                     "common_name": (files.meta.get("subject") or {}).get("common_name", ""),
                     "not_after": files.meta.get("not_after"),
                     "profiles": files.meta.get("profiles", []),
                     "key_storage": [item.get("type") for item in files.storage]})
    return CredentialList(credentials=rows, count=len(rows))
