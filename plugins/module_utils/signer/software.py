"""Signer over a private key held in memory (loaded from a key file)."""

from ..errors import InputError
from .base import Signer
from .keyfile import read_private_key


class SoftwareSigner(Signer):
    def __init__(self, key, algorithm, options=None):
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
    def from_file(cls, path, algorithm, passphrase=None, options=None):
        return cls(read_private_key(path, passphrase), algorithm, options)

    def public_key(self):
        return self._key.public_key()

    def sign(self, data):
        return self.algorithm.sign(self._key, data, self.options)

    def crypto_key(self):
        if self.algorithm.family in ("ec", "rsa", "ed25519", "ml-dsa"):
            return self._key
        return None
