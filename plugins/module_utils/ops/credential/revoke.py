"""credential revoke: revoke every certificate of a credential at its CA (the
current one and those of its earlier versions that the CA still lists as
valid) and mark the credential revoked. Each certificate's revocation is a
``cert.revoke`` record in the CA's log (``cert_revoke``), the credential's a
``credential.revoke`` record in its own (``credential_audit``).

Re-running after a run that was cut short revokes only what is still valid
and then marks the credential, so the command converges.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from ...revocation import RevocationReason
from ...store.ca_dir import CaDir
from ...store.cert_store import find_certificate
from ...store.credential_dir import CredentialDir
from ...store.index import REVOKED
from ...store.lock import ca_lock
from . import audit as credential_audit
from .read import credential_certificate, open_credential
from ..cert.revoke import cert_revoke, parse_serial
from ..cert.revoke_target import serial_issued_here
from .results import CredentialRevoked


def _earlier_serials(meta: dict[str, Any], current: int) -> list[int]:
    """Serials of the certificates of the credential's other versions
    (renewed or rotated): revoking a credential revokes them too."""
    serials = []
    for entry in (meta.get("versions") or {}).values():
        for cert in entry.get("certificates") or []:
            serial = parse_serial(cert.get("serial", 0))
            if serial and serial != current and serial not in serials:
                serials.append(serial)
    return serials


def credential_revoke(ca_dir: str | os.PathLike, cred_root: str | os.PathLike, cred_id: str,
                      reason: RevocationReason | str = RevocationReason.unspecified,
                      invalidity_date: datetime.datetime | None = None) -> CredentialRevoked:
    with credential_audit.locked(CredentialDir(cred_root, cred_id)):
        return _revoke(ca_dir, cred_root, cred_id, reason, invalidity_date)


def _revoke(ca_dir: str | os.PathLike, cred_root: str | os.PathLike, cred_id: str,
            reason: RevocationReason | str, invalidity_date: datetime.datetime | None
            ) -> CredentialRevoked:
    files = open_credential(cred_root, cred_id)
    if files.meta.get("status") == "revoked":
        return CredentialRevoked(changed=False, id=files.cred.id, revoked=[])
    cert = credential_certificate(files)
    serial_issued_here(ca_dir, cert, f"credential {files.cred.id}")
    reason_name = RevocationReason.parse(reason).value
    done = []
    ca = CaDir(ca_dir)
    with ca_lock(ca.path):
        for serial in [cert.serial_number] + _earlier_serials(files.meta, cert.serial_number):
            entry = find_certificate(ca, serial)
            if entry is not None and entry.status != REVOKED:
                cert_revoke(ca_dir, serial, reason, invalidity_date=invalidity_date)
                done.append(f"{serial:X}")
        ca_head = credential_audit.ca_audit_head(ca.path)
    record = credential_audit.event(
        credential_audit.REVOKE, files.cred.id, version=files.meta.get("active") or "v1",
        serial=f"{cert.serial_number:X}", revoked=done,
        reason=reason_name,
        ca=cert.issuer.rfc4514_string(), ca_audit=ca_head)
    meta = dict(files.meta, status="revoked")
    credential_audit.recorded(files.cred, record, lambda: files.cred.write_meta(meta))
    return CredentialRevoked(changed=True, id=files.cred.id, revoked=done,
                             paths=[os.fspath(files.cred.meta)])
