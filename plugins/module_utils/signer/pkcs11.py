"""Signing with a private key that stays in a PKCS#11 token.

The signer opens one session (one login) for its whole life, or borrows the
session it is given, finds the key by label and/or id, and checks the
security invariant before anything is signed: the token key's type and size
must be exactly what the profile's algorithm needs. The algorithm always
comes from the profile, never from the key.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import HsmError, UsageError
from .base import Signer

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.padding import AsymmetricPadding
    from cryptography.hazmat.primitives.hashes import HashAlgorithm

    from ..algorithms.base import Algorithm
    from ..algorithms.key_types import PrivateKey, PublicKey
    from ..hsm.config import HsmConfig
    from ..hsm.pubkey import TokenPublicKey
    from ..hsm.session import HsmSession
    import pkcs11
    from .base import SignatureOptions

_PQC_FAMILIES = ("ml-dsa", "slh-dsa", "ml-kem")


def _article(text: str) -> str:
    """``a`` or ``an`` before a key description (``an EC ...``, ``an RSA-...``)."""
    first = text[:1]
    if first.isupper():
        return "an" if first in "AEFHILMNORSX" else "a"
    return "an" if first in "aeiou" else "a"


def _needed_key(algorithm: Algorithm) -> str:
    from ..algorithms.classical import EcdsaAlgorithm, RsaAlgorithm

    if isinstance(algorithm, EcdsaAlgorithm):
        return "EC %s key" % algorithm.curve.name
    if isinstance(algorithm, RsaAlgorithm):
        return "RSA-%d key" % algorithm.key_size
    return "%s key" % algorithm.name


def require_hsm_capable(algorithm: Algorithm) -> None:
    """Refuse algorithms that have no HSM implementation."""
    if getattr(algorithm, "hsm_capable", False):
        return
    if algorithm.family in _PQC_FAMILIES:
        reason = "PQC keys are software-only"
    else:
        reason = "HSM mode supports ecdsa-p256/p384/p521 and rsa-2048/3072/4096"
    raise HsmError("algorithm %s is not available in HSM mode (%s)" % (algorithm.name, reason))


class Pkcs11Signer(Signer):
    """A :class:`Signer` whose key lives in a PKCS#11 token.

    ``config`` is an :class:`~qpki.hsm.config.HsmConfig` or the path of an
    HSM YAML file; ``label`` and/or ``key_id`` (hex) name the key; ``session``
    is an open :class:`~qpki.hsm.session.HsmSession` to reuse (the signer then
    leaves it open on ``close()``).
    """

    fork_safe = False  # the session is this process's: a fork must not use it

    def __init__(self, config: HsmConfig | str | os.PathLike[str], algorithm: str, label: str | None = None,
                 key_id: str | None = None, options: SignatureOptions | None = None,
                 session: HsmSession | None = None) -> None:
        super().__init__(algorithm, options)
        require_hsm_capable(self.algorithm)
        self.algorithm.check_options(self.options)
        if not label and key_id in (None, ""):
            raise UsageError("an HSM key needs a key label or a key id")
        if isinstance(config, (str, os.PathLike)):
            from ..hsm.config import load_hsm_config

            config = load_hsm_config(config)
        self.config = config
        self.label = label or None
        self.key_id = key_id
        self._owns_session = session is None
        self._session: HsmSession | None = None
        self._private_key: pkcs11.SignMixin | None = None
        self._crypto_key: PrivateKey | None = None
        if session is None:
            from ..hsm.session import connect

            session = connect(config)
        self._session = session
        try:
            self._bind_key(session)
            hash_algorithm, pad = self.hash_and_padding()
            self._mechanism(hash_algorithm, self._is_pss(pad))
        except BaseException:
            self.close()
            raise

    # ----------------------------------------------------------------- set-up

    def _bind_key(self, session: HsmSession) -> None:
        from ..hsm.keys import find_private_key, public_key_of
        from ..hsm.lookup import key_name

        private_key = find_private_key(session, self.label, self.key_id)
        self.key_name = key_name(private_key)
        public_key = public_key_of(session, private_key)
        if not self.algorithm.matches_public_key(public_key):
            found = self.algorithm.describe_public_key(public_key)
            needed = _needed_key(self.algorithm)
            raise HsmError(
                "token key %s is %s %s but profile algorithm %s needs %s %s"
                % (self.key_name, _article(found), found, self.algorithm.name,
                   _article(needed), needed))
        self._private_key = private_key
        self._public_key: TokenPublicKey = public_key
        self._mechanisms: dict[tuple[str, bool], str] = {}

    def _mechanism(self, hash_algorithm: HashAlgorithm, pss: bool) -> str:
        """The token mechanism for this hash and scheme, chosen once per
        session from what the token offers (raw over our digest first)."""
        key = (hash_algorithm.name, pss)
        if key not in self._mechanisms:
            from ..hsm.capabilities import require_signing

            session, dummy = self._check_open()
            self._mechanisms[key] = require_signing(session, self.algorithm,
                                                    hash_algorithm.name, pss)
        return self._mechanisms[key]

    # --------------------------------------------------------------- Signer

    @property
    def session(self) -> HsmSession | None:
        return self._session

    def public_key(self) -> PublicKey:
        return self._public_key

    def sign(self, data: bytes) -> bytes:
        """Signature of ``data`` with the profile's hash and scheme."""
        from ..hsm.signing import digest_of

        hash_algorithm, pad = self.hash_and_padding()
        data = bytes(data)
        return self.sign_digest(digest_of(data, hash_algorithm), hash_algorithm, pad, data)

    def hash_and_padding(self) -> tuple[HashAlgorithm, AsymmetricPadding | None]:
        """The hash and (RSA only, else None) the padding the options ask for."""
        pad = self.algorithm.padding(self.options) if self.algorithm.family == "rsa" else None
        return self.algorithm.hash_algorithm(self.options), pad

    @staticmethod
    def _is_pss(pad: AsymmetricPadding | None) -> bool:
        from cryptography.hazmat.primitives.asymmetric import padding

        return isinstance(pad, padding.PSS)

    def sign_digest(self, digest: bytes, hash_algorithm: HashAlgorithm, pad: AsymmetricPadding | None = None,
                    data: bytes | None = None) -> bytes:
        """Sign an already computed ``digest``; ``pad`` is a ``cryptography``
        padding object for RSA (PKCS1v15 or PSS); ``data``, the message, is
        needed only on a token that hashes and signs by itself."""
        from cryptography.hazmat.primitives.asymmetric import ec, padding

        from ..hsm import signing

        dummy, private_key = self._check_open()
        public_key = self._public_key
        mechanism = self._mechanism(hash_algorithm, isinstance(pad, padding.PSS))
        needs = self.algorithm.hsm_mechanisms
        if mechanism not in (needs.sign_raw, needs.pss_raw):
            return signing.hash_and_sign(private_key, data, mechanism, self.algorithm,
                                         hash_algorithm, pad, self.key_name)
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            return signing.ecdsa_sign_digest(private_key, digest, public_key.curve.key_size, self.key_name)
        if isinstance(pad, padding.PSS):
            mgf_hash = getattr(pad.mgf, "_algorithm", hash_algorithm)
            salt = signing.pss_salt_length(pad._salt_length, hash_algorithm,
                                           public_key.key_size)
            return signing.rsa_pss_sign_digest(private_key, digest, hash_algorithm,
                                               mgf_hash, salt, self.key_name)
        return signing.rsa_pkcs1_sign_digest(private_key, digest, hash_algorithm,
                                             self.key_name)

    def crypto_key(self) -> PrivateKey | None:
        """The token key as a ``cryptography`` private key for X.509 builders
        (made once per signer: a batch asks for it for every certificate;
        each signature still checks that the signer is open)."""
        self._check_open()
        if self._crypto_key is None:
            from ..hsm.crypto_keys import token_private_key

            self._crypto_key = token_private_key(self.algorithm.family, self._public_key,
                                                 self.sign_digest, self.key_name)
        return self._crypto_key

    def close(self) -> None:
        """Close the session when this signer opened it (logging out)."""
        session, self._session = self._session, None
        self._private_key = None
        self._crypto_key = None
        if session is not None and self._owns_session:
            session.close()

    def _check_open(self) -> tuple[HsmSession, pkcs11.SignMixin]:
        """The session and the token key, when the signer is still open."""
        if self._session is None or self._session.closed or self._private_key is None:
            raise HsmError("the signer for token key %s is closed"
                           % getattr(self, "key_name", self.label))
        return self._session, self._private_key

    def __repr__(self) -> str:
        return "<Pkcs11Signer %s key %s>" % (self.algorithm.name,
                                             getattr(self, "key_name", self.label))
