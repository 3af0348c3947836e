"""A stand-in for a signer that a forked batch worker must not use.

A PKCS#11 session belongs to the process that opened it. A batch worker
(``ops.batch_workers``) signs with a ``DeferredSigner`` in its place: each
signature cryptography asks for is recorded (the digest, the signature
options and the message, which a token that only hashes and signs by
itself needs) and answered with a placeholder. The parent process then makes
the real signatures in its own session (``sign_deferred``) and puts them in
the signed structures (``x509.certificate.with_signature``).

Only a structure whose one signature by this key is its outer signature can
be completed that way, so callers use it for a CA with this single key.
"""

from .base import Signer

PLACEHOLDER = b"\x00"


class DeferredSigner(Signer):
    """Records what ``original`` (the parent's signer) would have signed."""

    def __init__(self, original):
        super().__init__(original.algorithm.name, original.options)
        self._public_key = original.public_key()
        self._name = getattr(original, "key_name", original.algorithm.name)
        self._crypto_key = None
        self.pending = []  # (digest, options, message) in the order signatures were asked for

    def public_key(self):
        return self._public_key

    def sign(self, data):
        from ..hsm.signing import digest_of

        data = bytes(data)
        return self.sign_digest(digest_of(data, self.algorithm.hash_algorithm(self.options)),
                                data=data)

    def sign_digest(self, digest, hash_algorithm=None, pad=None, data=None):
        """Record ``digest``, made with the hash the options ask for (the
        parent derives the hash and padding from the same options), and the
        message when it is known."""
        self.pending.append((bytes(digest), dict(self.options), data))
        return PLACEHOLDER

    def crypto_key(self):
        if self._crypto_key is None and self.algorithm.family in ("ec", "rsa"):
            from ..hsm.crypto_keys import token_private_key

            self._crypto_key = token_private_key(self.algorithm.family, self._public_key,
                                                 self.sign_digest, self._name)
        return self._crypto_key

    def take(self):
        """The recorded (digest, options, message) since the last call."""
        pending, self.pending = self.pending, []
        return pending


def sign_deferred(signer, digest, options, data=None):
    """The signature the real ``signer`` makes of a recorded digest (and
    message)."""
    with signer.using_options(options):
        return signer.sign_digest(digest, *signer.hash_and_padding(), data=data)
