"""Writing a private key file: PKCS#8 PEM, mode 0600, atomically."""

from __future__ import annotations

import os
from typing import Any

from ..signer.keyfile import encode_private_key
from .atomic import write_file


def write_private_key(path: str | os.PathLike[str], key: Any,
                      passphrase: bytes | None = None) -> None:
    write_file(path, encode_private_key(key, passphrase), mode=0o600)
