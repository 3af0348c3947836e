"""Which serial a revocation names when it is given a certificate rather
than a serial: the certificate's own, after checking that this CA issued it
(issuer name and signature, by any version of a rotated CA), so a look-alike from another CA cannot revoke
an unrelated certificate that happens to share its serial."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ...errors import InputError
from ...store.ca_dir import CaDir
from ...x509.parse import load_certificate_file
from ..ca.publish import version_public_keys
from ..ensure import issued_by

if TYPE_CHECKING:
    from cryptography import x509


def serial_issued_here(ca_dir: str | os.PathLike, cert: x509.Certificate, where: str) -> int:
    ca = CaDir(ca_dir).require()
    ca_cert = load_certificate_file(ca.cert)
    if not issued_by(cert, ca_cert, version_public_keys(ca, ca_cert)):
        raise InputError(f"{where} was not issued by the CA in {ca.path}")
    return cert.serial_number


def serial_of_certificate_file(ca_dir: str | os.PathLike, data: bytes, where: str) -> int:
    from ...x509.parse import load_certificate

    return serial_issued_here(ca_dir, load_certificate(data, where), where)
