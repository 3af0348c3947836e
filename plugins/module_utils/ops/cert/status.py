"""Where a certificate stands at the CA that issued it: good, revoked (when,
why) or unknown (not this CA's, or not in its records)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ...store.ca_dir import CaDir
from ...store.cert_store import find_certificate
from ...store.index import REVOKED
from ...store.metafile import utc_text
from ...x509.parse import load_certificate_file
from ..ca.publish import version_public_keys
from ..ensure import issued_by
from .results import CertificateStatus, Revocation

if TYPE_CHECKING:
    from cryptography import x509

GOOD, REVOKED_STATUS, UNKNOWN = "good", "revoked", "unknown"


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
    return CertificateStatus(REVOKED_STATUS, serial, Revocation(
        utc_text(entry.revoked_at) if entry.revoked_at else None,
        entry.reason.value if entry.reason else None,
        utc_text(entry.invalidity_date) if entry.invalidity_date is not None else None))
