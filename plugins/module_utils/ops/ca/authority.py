"""An opened CA directory: metadata, certificate, chain and signers."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ...errors import InputError, StoreError
from ...store.cert_store import CertStore, write_store
from ...store.ca_dir import CaDir
from ...store.ca_meta import FLAT
from ...store.lock import ca_lock
from ...x509.keyid import certificate_key_id
from ...x509.parse import load_certificate, load_certificates, public_key_of_certificate
from .keys import open_signer
from ..ensure import same_public_key

if TYPE_CHECKING:
    from ...signer.base import Signer
    from .urls import CaUrls


class Authority:
    """A CA ready to sign. Use as a context manager so HSM sessions close.

    With signers, the CA lock is taken first (before a PIN or passphrase is
    read, so a second process waits rather than prompting or logging in),
    and every key is checked against ``ca.crt`` (the classical or single
    key against its SubjectPublicKeyInfo, a catalyst CA's PQC key against
    its subjectAltPublicKeyInfo) before the caller can sign or write.
    """

    def __init__(self, ca_dir: str | os.PathLike, passphrase: bytes | None = None,
                 need_signers: bool = True, version: str | None = None) -> None:
        self.dir = CaDir(ca_dir)
        self.dir.require()
        self.ca_meta = self.dir.load_ca_meta()  # every version; ``meta``: the one opened
        self.version = version or self.ca_meta.active
        if self.version not in self.ca_meta.versions:
            raise InputError(f"CA {self.dir.path} has no version {self.version!r} (versions: "
                             f"{', '.join(self.ca_meta.versions)})")
        self.meta = self.ca_meta.version_meta(self.version)
        cert_path = self._certificate_path()
        self.cert = load_certificate(_read(cert_path), cert_path)
        self.public_key = public_key_of_certificate(self.cert)
        self.key_id = certificate_key_id(self.cert, self.public_key)
        self._stack = contextlib.ExitStack()
        self._urls: CaUrls | None = None
        self._store: CertStore | None = None
        self.signers: dict[str, Signer] = {}
        if need_signers:
            try:
                self._stack.enter_context(ca_lock(self.dir.path))
                self.dir.check_private_key_modes()
                for entry in self.meta.get("keys", []):
                    signer = open_signer(entry["storage"], entry["algorithm"], self.dir.path,
                                         passphrase)
                    self._stack.callback(signer.close)
                    self.signers[entry["id"]] = signer
                    self._check_key(entry, signer)
            except BaseException:
                self._stack.close()
                raise
            if not self.signers:
                raise StoreError("%s lists no keys" % self.dir.meta)
            if self.version == self.ca_meta.active:
                self._publish_active()

    def _certificate_path(self) -> Path:
        """A rotated CA's version certificate (``versions/<v>/certs``); ca.crt
        for a flat CA, and for a versioned one whose version has no file
        there (QPKI's own directories keep ca.crt for the active one)."""
        if self.ca_meta.shape == FLAT:
            return self.dir.cert
        own = self.dir.version_cert(self.version, self.ca_meta.versions[self.version].algorithms[0])
        if own.is_file() or self.version != self.ca_meta.active:
            return own
        return self.dir.cert

    def _publish_active(self) -> None:
        """Re-make ca.crt and chain.crt from the active version when a
        rotation or activation was cut off after its metadata was written
        (the metadata is what decides; these files follow it)."""
        from .publish import publish_version

        publish_version(self.dir, self.ca_meta, self.version, self.cert)

    def _check_key(self, entry: dict, signer: Signer) -> None:
        """StoreError naming the key and ca.crt unless the key is the one the
        certificate holds."""
        if entry["id"] == "pqc":
            from ...x509.catalyst_verify import alt_public_key

            expected, where = alt_public_key(self.cert), "subjectAltPublicKeyInfo"
        else:
            expected, where = self.public_key, "public key"
        if expected is not None and same_public_key(signer.public_key(), expected):
            return
        raise StoreError(
            f"CA key {_key_name(entry)} does not match {self.dir.cert} (its {where} is another "
            "key): the key file or token key, or the certificate, was replaced; nothing was "
            "signed")

    @property
    def urls(self) -> CaUrls:
        """The CA-level CRL, OCSP and CA-issuers URLs (ops.ca.urls), as
        this version's certificates carry them."""
        if self._urls is None:
            from .urls import CaUrls

            self._urls = CaUrls.from_meta(self.meta).for_version(self.version)
        return self._urls

    @property
    def store(self) -> CertStore:
        """The CA's certificate store, for a change (``audit_ready`` made
        it): opened on first use, closed with the Authority."""
        if self._store is None:
            self._store = write_store(self.dir)
            self._stack.callback(self._store.close)
        return self._store

    @property
    def profile(self) -> Any:
        return self.meta.get("profile")

    @property
    def signer(self) -> Signer:
        """The signer of a single-key CA (``default``) or the classical one."""
        return self.signers.get("default") or self.signers.get("classical") \
            or next(iter(self.signers.values()))

    @property
    def alt_signer(self) -> Signer | None:
        """The PQC signer of a catalyst CA (key id ``pqc``), else None."""
        return self.signers.get("pqc")

    def issuer_keys(self) -> list:
        """The public keys of every version of this CA, this one first: any
        of them may have signed a certificate the CA issued."""
        from .publish import version_public_keys

        return version_public_keys(self.dir, self.cert)

    def chain_certificates(self) -> list[Any]:
        """This CA's certificate followed by its parents up to the root (for
        an earlier version of a rotated CA, that version's chain)."""
        path = self.dir.chain
        if self.version != self.ca_meta.active:
            from .publish import version_chain_path

            path = version_chain_path(self.dir, self.version)
        try:
            return load_certificates(_read(path), path)
        except FileNotFoundError:
            return [self.cert]

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Authority:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.close()
        return False


def _read(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _key_name(entry: dict) -> str:
    """How ca.meta.json names a key: its file, or its token label / id."""
    storage = entry.get("storage", {})
    if storage.get("type") == "software":
        return f"{entry['id']} ({storage.get('path')})"
    token_name = " ".join(f"{field} {storage[field]!r}" for field in ("label", "key_id")
                          if storage.get(field))
    return f"{entry['id']} (token key {token_name})"
