"""A copy of the CA's CRL at a path of the user's choice, in PEM or DER.

The CA keeps writing its own ``crl/ca.crl`` and ``crl/ca.crl.der`` (the
OCSP responder and ``ca check`` read them); a ``CrlCopy`` is one more file
holding the same CRL, written when the CRL is signed, or when the file is
missing or holds another CRL (which needs no signature).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from ...der import pem_armor
from ...errors import InputError
from ..ensure import read_optional

CRL_FORMATS = ("pem", "der")


@dataclass(frozen=True)
class CrlCopy:
    """Where the CRL is written besides the CA's own files, and how."""

    path: Path
    format: str = "pem"

    def encode(self, der: bytes) -> bytes:
        return pem_armor(der, "X509 CRL") if self.format == "pem" else der

    def is_current(self, der: bytes) -> bool:
        """The file holds exactly this CRL, in this format."""
        return read_optional(self.path) == self.encode(der)

    def write(self, der: bytes) -> None:
        from ...store.atomic import ensure_dir, write_file

        ensure_dir(self.path.parent, 0o755)
        write_file(self.path, self.encode(der))


def check_crl_format(crl_format: object) -> str:
    """``pem`` or ``der`` (any case); InputError otherwise."""
    value = str(crl_format or "pem").lower()
    if value not in CRL_FORMATS:
        raise InputError(f"CRL format {str(crl_format)[:20]!r} is not one of pem, der")
    return value


def crl_copy(path: str | os.PathLike | None, crl_format: str | None,
             own_pem: Path, own_der: Path) -> CrlCopy | None:
    """The copy asked for, or None when ``path`` is one of the CA's own CRL
    files in its own format (or no path is given): those are written anyway.
    ``own_pem`` / ``own_der``: the CA's ``crl/ca.crl`` and ``crl/ca.crl.der``."""
    crl_format = check_crl_format(crl_format)
    if path is None or os.fspath(path) == "":
        return None
    wanted = Path(os.path.abspath(os.fspath(path)))
    own = {Path(os.path.abspath(own_pem)): "pem", Path(os.path.abspath(own_der)): "der"}
    if wanted in own:
        if own[wanted] != crl_format:
            raise InputError(f"{wanted} is the CA's own {own[wanted].upper()} CRL; a "
                             f"{crl_format.upper()} CRL cannot be written there")
        return None
    if wanted.is_dir():
        raise InputError(f"the CRL path {path} is a directory, not a file")
    return CrlCopy(Path(os.fspath(path)), crl_format)  # as given, like the CA's paths


def crl_text(data: bytes, crl_format: str) -> str:
    """A CRL file's content as a module returns it: the PEM text, or the DER
    in base64 (community.crypto's convention)."""
    if crl_format == "der":
        return base64.b64encode(data).decode("ascii")
    return data.decode("ascii")
