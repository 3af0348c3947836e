"""The key objects the registry's algorithms hand out, as types.

A key is a ``cryptography`` key object (EC, RSA, Ed25519, ML-DSA, ML-KEM) or
one of qpki's own (SLH-DSA, composite) with the same duck-typed API; these
protocols name the part of that API the signers and the token code rely on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


class PublicKey(Protocol):
    def public_bytes(self, encoding: Encoding, format: PublicFormat) -> bytes: ...  # noqa: A002


class PrivateKey(Protocol):
    def public_key(self) -> PublicKey: ...


class RawPrivateKey(PrivateKey, Protocol):
    """qpki's own private keys (SLH-DSA, composite), which PKCS#8 holds as raw bytes."""

    def private_bytes_raw(self) -> bytes: ...
