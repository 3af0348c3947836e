"""The files of a rotated CA's versions.

``ca.crt`` and ``chain.crt`` are copies of the active version's certificate
and chain, made again whenever they differ from it (and a CRL an earlier
version signed moves out of ``crl/ca.crl`` into that version's folder).
Also here: each version's certificate and public key (what a certificate
of this CA may be signed with), its cross-certificates, and the renewal of
the active version's certificate."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ...store.atomic import ensure_dir, write_file
from ...store.ca_dir import CaDir
from ...store.ca_meta import FLAT, CaMeta
from ...x509.keyid import certificate_key_id
from ...x509.parse import load_certificate_file, public_key_of_certificate
from ..cert.issuance import pem


def version_chain_path(ca: CaDir, version_id: str) -> Path:
    """``versions/<v>/chain.crt``: a subordinate version's chain up to the root."""
    return ca.version_certs_dir(version_id).parent / "chain.crt"


def publish_version(ca: CaDir, meta: CaMeta, version_id: str,
                    cert: x509.Certificate) -> list[str]:
    """Write ca.crt (and chain.crt) of ``version_id`` where they differ, and
    move a CRL that another version signed out of ``crl/ca.crl`` into that
    version's ``crl/<v>/``; the paths written."""
    if meta.shape == FLAT:
        return []
    wanted = pem(cert)
    written = []
    if not ca.cert.is_file() or ca.cert.read_bytes() != wanted:
        # The CRL moves before ca.crt is written: with ca.crt current, it has
        # moved already, and every later opening of the key skips the CRL.
        written = _retire_current_crl(ca, meta, cert)
        write_file(ca.cert, wanted)
        written.append(str(ca.cert))
    chain = version_chain_path(ca, version_id)
    if chain.is_file():
        data = chain.read_bytes()
        if not ca.chain.is_file() or ca.chain.read_bytes() != data:
            write_file(ca.chain, data)
            written.append(str(ca.chain))
    return written


def install_version_files(ca: CaDir, cert: x509.Certificate, chain_pem: bytes) -> None:
    """A renewed certificate of a rotated CA's active version replaces that
    version's certificate and chain (ca.crt follows them)."""
    meta = ca.load_ca_meta()
    if meta.shape == FLAT:
        return
    version = meta.active_version
    write_file(ca.version_cert(version.id, version.algorithms[0]), pem(cert))
    write_file(version_chain_path(ca, version.id), chain_pem)


def version_public_keys(ca: CaDir, active_cert: x509.Certificate) -> list:
    """The public keys of every version of the CA, the active one first:
    what a certificate or CRL it issued may be signed with."""
    keys = [public_key_of_certificate(active_cert)]
    meta = ca.load_ca_meta()
    if meta.shape == FLAT:
        return keys
    for dummy, cert in version_certificates(ca, meta):
        key = public_key_of_certificate(cert)
        if all(key != known for known in keys):
            keys.append(key)
    return keys


def _retire_current_crl(ca: CaDir, meta: CaMeta, active_cert: x509.Certificate) -> list[str]:
    """``crl/ca.crl`` is the active version's CRL: one an earlier version
    signed (the CA was just rotated) becomes that version's own CRL."""
    der_path = ca.crl_path(der=True)
    try:
        crl = x509.load_der_x509_crl(der_path.read_bytes())
        signed_by = crl.extensions.get_extension_for_class(
            x509.AuthorityKeyIdentifier).value.key_identifier
    except (OSError, ValueError, x509.ExtensionNotFound):
        return []
    if signed_by == certificate_key_id(active_cert):
        return []
    for version_id, cert in version_certificates(ca, meta):
        if certificate_key_id(cert) != signed_by:
            continue
        moved = []
        for der in (False, True):
            source, target = ca.crl_path(der=der), ca.crl_path(der=der, version=version_id)
            if source.is_file():
                ensure_dir(target.parent, 0o755)
                os.replace(source, target)
                moved.append(str(target))
        return moved
    return []


def version_certificates(ca: CaDir, meta: CaMeta) -> list[tuple[str, Any]]:
    """(version id, its own CA certificate) for each version that has one on file."""
    found = []
    for version in meta.versions.values():
        path = ca.version_cert(version.id, version.algorithms[0]) if version.algorithms else None
        if path is not None and path.is_file():
            found.append((version.id, load_certificate_file(path)))
    return found


def cross_certificates(ca: CaDir, version_id: str) -> list:
    """The cross-certificates of a version's key that earlier versions signed."""
    folder = ca.version_certs_dir(version_id)
    if not folder.is_dir():
        return []
    return [load_certificate_file(path) for path in sorted(folder.glob("cross-from-*.pem"))]
