"""credential revoke: revoke every certificate of a credential at its CA and
mark the credential revoked. Each revocation is audited by ``cert_revoke``.

Re-running after a run that was cut short revokes only what is still valid
and then marks the credential, so the command converges.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from ..revocation import RevocationReason
from ..store.ca_dir import CaDir
from ..store.index import REVOKED, find_entry
from .credential_read import credential_certificate, open_credential
from .revoke import cert_revoke
from .revoke_target import serial_issued_here


def credential_revoke(ca_dir: str | os.PathLike, cred_root: str | os.PathLike, cred_id: str,
                      reason: RevocationReason | str = RevocationReason.unspecified,
                      invalidity_date: datetime.datetime | None = None) -> dict[str, Any]:
    files = open_credential(cred_root, cred_id)
    if files.meta.get("status") == "revoked":
        return {"changed": False, "id": files.cred.id, "revoked": []}
    cert = credential_certificate(files)
    serial_issued_here(ca_dir, cert, f"credential {files.cred.id}")
    done = []
    entry = find_entry(CaDir(ca_dir).index, cert.serial_number)
    if entry is None or entry.status != REVOKED:
        cert_revoke(ca_dir, cert.serial_number, reason, invalidity_date=invalidity_date)
        done.append(f"{cert.serial_number:X}")
    meta = dict(files.meta, status="revoked")
    files.cred.write_meta(meta)
    return {"changed": True, "id": files.cred.id, "revoked": done,
            "paths": [os.fspath(files.cred.meta)]}
