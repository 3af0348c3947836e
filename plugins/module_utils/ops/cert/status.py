"""Where a certificate stands at the CA that issued it: good, revoked (when,
why) or unknown (not this CA's, or not in its records)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...store.ca_dir import CaDir
from ...store.cert_store import find_certificate
from ...store.index import REVOKED
from ...store.metafile import utc_text
from ...x509.parse import load_certificate_file
from ..ca.publish import version_public_keys
from ..ensure import issued_by

if TYPE_CHECKING:
    from cryptography import x509

GOOD, REVOKED_STATUS, UNKNOWN = "good", "revoked", "unknown"


@dataclass(frozen=True)
class CertificateStatus:
    status: str  # good, revoked or unknown
    serial: str
    revoked_at: datetime | None = None
    reason: str | None = None
    invalidity_date: datetime | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "serial": self.serial}
        if self.status == REVOKED_STATUS:
            data["revoked_at"] = utc_text(self.revoked_at) if self.revoked_at else None
            data["reason"] = self.reason
            if self.invalidity_date is not None:
                data["invalidity_date"] = utc_text(self.invalidity_date)
        if self.note:
            data["note"] = self.note
        return data


def certificate_status(ca_dir: str | os.PathLike, cert: x509.Certificate) -> CertificateStatus:
    """The status of ``cert`` in the records of the CA at ``ca_dir``."""
    ca = CaDir(ca_dir).require()
    serial = f"{cert.serial_number:X}"
    ca_cert = load_certificate_file(ca.cert)
    if not issued_by(cert, ca_cert, version_public_keys(ca, ca_cert)):
        return CertificateStatus(UNKNOWN, serial, note=f"not issued by the CA in {ca.path}")
    entry = find_certificate(ca, cert.serial_number)
    if entry is None:
        return CertificateStatus(UNKNOWN, serial, note="not in the CA's records")
    if entry.status != REVOKED:
        return CertificateStatus(GOOD, serial)
    return CertificateStatus(REVOKED_STATUS, serial, entry.revoked_at,
                             entry.reason.value if entry.reason else None, entry.invalidity_date)
