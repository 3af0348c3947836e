"""The signer interface shared by software keys and PKCS#11 keys.

A signer holds one private key for one registry algorithm (see
``algorithms.registry``). The algorithm is always the one the profile or the
CA metadata asks for; back ends check that the key they hold matches it and
never pick the algorithm from the key itself.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..algorithms.key_types import PrivateKey, PublicKey

# A profile's signature options, e.g. {"scheme": "pss"} for RSA-PSS.
SignatureOptions = Mapping[str, str]


class Signer(abc.ABC):
    """One private key able to sign for one algorithm.

    ``algorithm`` is the registry name (``ecdsa-p384``, ``ml-dsa-65``...).
    ``options`` are the profile's signature options (``{"scheme": "pss"}`` for
    RSA-PSS; empty otherwise).
    """

    fork_safe = True  # a forked process may sign with its copy of the key

    def __init__(self, algorithm: str, options: SignatureOptions | None = None) -> None:
        from ..algorithms.registry import get_algorithm

        self.algorithm = get_algorithm(algorithm)
        self.options: dict[str, str] = dict(options or {})

    @abc.abstractmethod
    def public_key(self) -> PublicKey:
        """The public key, as a ``cryptography`` public key object or a
        ``qpki`` PQC public key object (same duck-typed API)."""

    @abc.abstractmethod
    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` (the full message; hashing is the signer's job) with
        the algorithm and options, returning the X.509 signature value."""

    def crypto_key(self) -> PrivateKey | None:
        """An object that ``cryptography``'s X.509 builders accept as the
        signing key, or None when the builders cannot sign with this
        algorithm (SLH-DSA, composite): callers then assemble the structure
        themselves and call ``sign``."""
        return None

    @contextlib.contextmanager
    def using_options(self, options: SignatureOptions) -> Iterator[Signer]:
        """Sign with ``options`` (a profile's) inside the ``with`` block;
        the signer's own options are back afterwards."""
        saved, self.options = self.options, dict(options)
        try:
            yield self
        finally:
            self.options = saved

    def close(self) -> None:  # noqa: B027 - optional hook: a key file holds nothing to release
        """Release whatever the signer holds (HSM session, login)."""

    def __enter__(self) -> Signer:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.close()
        return False
