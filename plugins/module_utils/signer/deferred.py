"""A stand-in for a signer that a forked batch worker must not use.

A PKCS#11 session belongs to the process that opened it. A batch worker
(``ops.cert.batch_workers``) signs with a ``DeferredSigner`` in its place: each
signature cryptography asks for is recorded (the digest, the signature
options and the message, which a token that only hashes and signs by
itself needs) and answered with a placeholder. The parent process then makes
the real signatures in its own session (``sign_deferred``) and puts them in
the signed structures (``x509.certificate.with_signature``).

Only a structure whose one signature by this key is its outer signature can
be completed that way, so callers use it for a CA with this single key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Signer

if TYPE_CHECKING:
    from ..algorithms.key_types import PrivateKey, PublicKey
    from .base import SignatureOptions
    from .pkcs11 import Pkcs11Signer

# (digest, signature options, message when known) of one signature asked for
PendingSignature = tuple[bytes, dict[str, str], "bytes | None"]

PLACEHOLDER = b"\x00"


class DeferredSigner(Signer):
    """Records what ``original`` (the parent's signer) would have signed."""

    def __init__(self, original: Signer) -> None:
        super().__init__(original.algorithm.name, original.options)
        self._public_key = original.public_key()
        self._name = getattr(original, "key_name", original.algorithm.name)
        self._crypto_key: PrivateKey | None = None
        self.pending: list[PendingSignature] = []  # (digest, options, message) in the order signatures were asked for

    def public_key(self) -> PublicKey:
        return self._public_key

    def sign(self, data: bytes) -> bytes:
        from ..hsm.signing import digest_of

        data = bytes(data)
        return self.sign_digest(digest_of(data, self.algorithm.hash_algorithm(self.options)),
                                data=data)

    def sign_digest(self, digest: bytes, hash_algorithm: object = None, pad: object = None,
                    data: bytes | None = None) -> bytes:
        """Record ``digest``, made with the hash the options ask for (the
        parent derives the hash and padding from the same options), and the
        message when it is known."""
        self.pending.append((bytes(digest), dict(self.options), data))
        return PLACEHOLDER

    def crypto_key(self) -> PrivateKey | None:
        if self._crypto_key is None and self.algorithm.family in ("ec", "rsa"):
            from ..hsm.crypto_keys import token_private_key

            self._crypto_key = token_private_key(self.algorithm.family, self._public_key,
                                                 self.sign_digest, self._name)
        return self._crypto_key

    def take(self) -> list[PendingSignature]:
        """The recorded (digest, options, message) since the last call."""
        pending, self.pending = self.pending, []
        return pending


def sign_deferred(signer: Pkcs11Signer, digest: bytes, options: SignatureOptions,
                  data: bytes | None = None) -> bytes:
    """The signature the real ``signer`` makes of a recorded digest (and
    message)."""
    with signer.using_options(options):
        return signer.sign_digest(digest, *signer.hash_and_padding(), data=data)
