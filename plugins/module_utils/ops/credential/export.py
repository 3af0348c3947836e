"""credential export: a credential's certificate, chain and (software) key
as PKCS#12 or as a PEM bundle.

A key in a token never leaves it: such a credential exports its certificate
chain only, and the result says so. A key is written only encrypted under
the export passphrase, and the file is then mode 0600.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, TypeGuard

from ...dependencies import missing

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
except ImportError:
    serialization = ec = ed448 = ed25519 = rsa = pkcs12 = missing()

from ...errors import InputError
from ...signer.keyfile import encode_private_key, read_private_key
from ...store.atomic import write_file
from ...store.credential_dir import CredentialDir
from ...x509.parse import load_certificates_file
from . import audit as credential_audit
from .read import CredentialFiles, credential_certificate, open_credential
from ..cert.issuance import pem
from .results import CredentialExported

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.serialization.pkcs12 import PKCS12PrivateKeyTypes

    from ...algorithms.key_types import PrivateKey

FORMATS = ("pkcs12", "pem")


def _pkcs12_capable(key: object) -> TypeGuard[PKCS12PrivateKeyTypes]:
    """PKCS#12 as cryptography writes it holds RSA, EC and EdDSA keys only."""
    return isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey,
                            ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey))


def _chain(files: CredentialFiles) -> list:
    if not os.path.isfile(files.chain_path):
        return []
    return load_certificates_file(files.chain_path)


def _software_key(files: CredentialFiles, key_passphrase: bytes | None) -> PrivateKey | None:
    """The credential's first key when it is a file; None when it is in a token."""
    first = files.storage[0] if files.storage else {}
    if first.get("type") != "software":
        return None
    return read_private_key(files.cred.resolve(first["path"]), key_passphrase)


def credential_export(cred_root: str | os.PathLike, cred_id: str, out: str | os.PathLike,
                      fmt: str = "pkcs12", export_passphrase: bytes | None = None,
                      key_passphrase: bytes | None = None,
                      include_key: bool = True) -> CredentialExported:
    """Write the credential to ``out``; return what went into it."""
    if fmt not in FORMATS:
        raise InputError(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    with credential_audit.locked(CredentialDir(cred_root, cred_id)):
        return _export(cred_root, cred_id, out, fmt, export_passphrase, key_passphrase, include_key)


def _export(cred_root: str | os.PathLike, cred_id: str, out: str | os.PathLike, fmt: str,
            export_passphrase: bytes | None, key_passphrase: bytes | None,
            include_key: bool) -> CredentialExported:
    files = open_credential(cred_root, cred_id)
    cert, chain = credential_certificate(files), _chain(files)
    key = _software_key(files, key_passphrase) if include_key else None
    in_token = include_key and key is None
    if key is not None and not export_passphrase:
        raise InputError(f"credential {files.cred.id}: exporting its private key needs an "
                         "export passphrase (or leave the key out)")
    if fmt == "pkcs12":
        pkcs12_key = None
        if key is not None:
            if not _pkcs12_capable(key):
                raise InputError(f"credential {files.cred.id}: a {files.algorithm} key cannot go "
                                 "into PKCS#12 with this cryptography build; export as pem")
            pkcs12_key = key
        encryption = (serialization.BestAvailableEncryption(export_passphrase)
                      if export_passphrase else serialization.NoEncryption())
        data = pkcs12.serialize_key_and_certificates(
            files.cred.id.encode(), pkcs12_key, cert, chain or None, encryption)
    else:
        data = pem(cert) + b"".join(pem(item) for item in chain)
        if key is not None:
            data += encode_private_key(key, export_passphrase)
    record = credential_audit.event(
        credential_audit.EXPORT, files.cred.id, version=files.meta.get("active") or "v1",
        serial=f"{cert.serial_number:X}", format=fmt, path=os.path.abspath(out),
        sha256=hashlib.sha256(data).hexdigest().upper(), key_exported=key is not None,
        certificates=1 + len(chain))
    credential_audit.recorded(files.cred, record, lambda: write_file(
        out, data, mode=0o600 if key is not None else 0o644))
    result = CredentialExported(
        changed=True, id=files.cred.id, format=fmt, path=os.fspath(out),
        certificates=1 + len(chain), key_exported=key is not None)
    if in_token:
        result.note = ("the key is in the token and cannot leave it: "
                       "exported the certificate chain only")
    extra = len(files.storage) - 1
    if key is not None and extra > 0:
        result.note = (f"{extra} further key file(s) of this credential (catalyst "
                       "alternative key) were not exported")
    return result
