"""Private key files: PKCS#8 PEM, optionally passphrase-encrypted, mode 0600."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, cast

from ..dependencies import missing

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
except ImportError:
    UnsupportedAlgorithm = serialization = missing()  # type: ignore[misc]  # placeholders when a library is absent

from ..algorithms.registry import get_algorithm
from ..errors import InputError, StoreError

if TYPE_CHECKING:
    from ..algorithms.key_types import PrivateKey, RawPrivateKey

_PLAIN = "PRIVATE KEY"
_ENCRYPTED = "ENCRYPTED PRIVATE KEY"


def _pem(label: str, der: bytes) -> bytes:
    import base64
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN %s-----\n%s\n-----END %s-----\n"
            % (label, "\n".join(lines), label)).encode()


def _unpem(data: bytes, where: str) -> tuple[str, bytes]:
    import base64
    import binascii
    text = data.decode("ascii", "replace")
    for label in (_ENCRYPTED, _PLAIN):
        begin, end = "-----BEGIN %s-----" % label, "-----END %s-----" % label
        if begin in text and end in text:
            body = text.split(begin, 1)[1].split(end, 1)[0]
            try:
                return label, base64.b64decode("".join(body.split()), validate=True)
            except binascii.Error:
                break
    raise InputError("%s: not a PKCS#8 PEM private key" % where)


def encode_private_key(key: PrivateKey, passphrase: bytes | None = None) -> bytes:
    """PKCS#8 PEM bytes of ``key``; encrypted when a passphrase is given."""
    if hasattr(key, "private_bytes") and not hasattr(key, "private_bytes_raw_pkcs8"):
        try:
            encryption = (serialization.BestAvailableEncryption(passphrase)
                          if passphrase else serialization.NoEncryption())
            return key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8, encryption)
        except (UnsupportedAlgorithm, TypeError):
            pass
    from . import pkcs8  # pyasn1's PKCS#8 modules: only for keys cryptography cannot write

    oid = _oid_of(key)
    der = pkcs8.encode_private_key_info(oid, cast("RawPrivateKey", key).private_bytes_raw())
    if passphrase:
        return _pem(_ENCRYPTED, pkcs8.encrypt_private_key_info(der, passphrase))
    return _pem(_PLAIN, der)


def _oid_of(key: PrivateKey) -> str:
    name = getattr(key, "algorithm_name", None)
    if name is None and hasattr(key, "params"):
        return key.params.oid
    return get_algorithm(name).key_oid


def decode_private_key(data: bytes, passphrase: bytes | None = None, where: str = "private key") -> PrivateKey:
    """A private key object from PKCS#8 PEM bytes."""
    try:
        return serialization.load_pem_private_key(data, password=passphrase)
    except TypeError as exc:
        if "encrypted" in str(exc) and not passphrase:
            raise InputError("%s is encrypted: a passphrase is required" % where) from None
        if "not encrypted" in str(exc):
            raise InputError("%s is not encrypted but a passphrase was given" % where) from None
        raise InputError("%s: %s" % (where, exc)) from None
    except ValueError as exc:
        if "password" in str(exc).lower() or "decrypt" in str(exc).lower():
            raise InputError("%s: wrong passphrase or corrupted key" % where) from None
        fallback_reason = str(exc)
    except UnsupportedAlgorithm as exc:
        fallback_reason = str(exc)
    from . import pkcs8  # only for keys cryptography cannot read (slow to import)

    label, der = _unpem(data, where)
    if label == _ENCRYPTED:
        if not passphrase:
            raise InputError("%s is encrypted: a passphrase is required" % where)
        der = pkcs8.decrypt_private_key_info(der, passphrase, where)
    oid, raw = pkcs8.decode_private_key_info(der)
    key = _raw_private_key(oid, raw)
    if key is None:
        raise InputError("%s: unsupported key (%s)" % (where, fallback_reason.split("\n", maxsplit=1)[0]))
    return key


def _raw_private_key(oid: str, raw: bytes) -> PrivateKey | None:
    from ..algorithms.registry import algorithm_for_oid

    algorithm = algorithm_for_oid(oid)
    if algorithm is not None and hasattr(algorithm, "load_private_raw"):
        return algorithm.load_private_raw(raw)
    return None


def check_key_file_mode(path: str | os.PathLike[str]) -> None:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise StoreError(
            "refusing to use %s: mode %04o lets group or others read the private key (chmod 600)"
            % (path, mode))


def read_private_key(path: str | os.PathLike[str], passphrase: bytes | None = None) -> PrivateKey:
    try:
        check_key_file_mode(path)
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise InputError("private key file not found: %s" % path) from None
    except OSError as exc:
        raise InputError("cannot read private key %s: %s" % (path, exc.strerror)) from None
    return decode_private_key(data, passphrase, where=os.fspath(path))
