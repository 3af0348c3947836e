"""Signer over a private key held in memory (loaded from a key file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InputError
from .base import Signer
from .keyfile import read_private_key

if TYPE_CHECKING:
    import os

    from ..algorithms.key_types import PrivateKey, PublicKey
    from .base import SignatureOptions


class SoftwareSigner(Signer):
    def __init__(self, key: PrivateKey, algorithm: str, options: SignatureOptions | None = None) -> None:
        super().__init__(algorithm, options)
        self.algorithm.check_options(self.options)
        if not self.algorithm.can_sign:
            raise InputError("algorithm %s cannot sign" % self.algorithm.name)
        public = key.public_key()
        if not self.algorithm.matches_public_key(public):
            raise InputError(
                "key is a %s but the profile algorithm is %s"
                % (self.algorithm.describe_public_key(public), self.algorithm.name))
        self._key = key

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], algorithm: str, passphrase: bytes | None = None,
                  options: SignatureOptions | None = None) -> SoftwareSigner:
        return cls(read_private_key(path, passphrase), algorithm, options)

    def public_key(self) -> PublicKey:
        return self._key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.algorithm.sign(self._key, data, self.options)

    def crypto_key(self) -> PrivateKey | None:
        if self.algorithm.family in ("ec", "rsa", "ed25519", "ml-dsa"):
            return self._key
        return None
