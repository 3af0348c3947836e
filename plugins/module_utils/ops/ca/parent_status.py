"""A subordinate CA whose certificate its parent revoked issues nothing
(issue 13, item 16).

``ca init --parent DIR`` records the parent's directory in ``ca.meta.json``
(``parent``, relative to the CA directory). Before issuing, the CA looks
its own certificate up in that directory: a revoked line in the parent's
``index.txt``, or an entry in the parent's current CRL, stops it. The same
is asked of the parent about its own certificate, up to the root, since a
revoked CA anywhere above makes every certificate below it invalid. A
parent directory that is not there (an offline root, kept on another
machine) cannot be asked and is passed over; one that is there but cannot
be read stops issuance.
"""

from __future__ import annotations

import os

from ...dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ...errors import QpkiError, StoreError
from ...store.ca_dir import CaDir
from ...store.cert_store import find_certificate
from ...store.index import REVOKED, serial_hex
from ...store.metafile import utc_text

MAX_DEPTH = 16


def parent_reference(ca_path: str | os.PathLike, parent_path: str | os.PathLike) -> str:
    """What ``ca.meta.json`` stores for the parent: its path relative to the
    CA directory (both may move together)."""
    return os.path.relpath(os.path.abspath(parent_path), os.path.abspath(ca_path))


def _parent_of(ca: CaDir, meta: dict) -> CaDir | None:
    reference = meta.get("parent")
    if not isinstance(reference, str) or not reference:
        return None
    return CaDir(os.path.normpath(os.path.join(ca.path, reference)))


def refuse_if_revoked(ca: CaDir, meta: dict, cert: x509.Certificate) -> None:
    """StoreError when the parent recorded in ``meta`` (or a CA above it)
    lists ``cert`` (or its own certificate) as revoked."""
    child = ca
    for dummy in range(MAX_DEPTH):
        parent = _parent_of(child, meta)
        if parent is None or not parent.exists():
            return
        try:
            found = _revocation_in(parent, cert)
            if found is None:
                meta = parent.load_meta()
                cert = x509.load_pem_x509_certificate(parent.read_cert_pem())
        except (QpkiError, ValueError) as exc:
            raise StoreError(f"{ca.path}: cannot check whether parent CA {parent.path} "
                             f"revoked {child.path}: {exc}") from None
        if found is not None:
            whose = "this CA's certificate" if child is ca else f"the certificate of CA {child.path}"
            raise StoreError(f"{ca.path}: {whose} (serial {serial_hex(cert.serial_number)}) is "
                             f"revoked by its parent CA {parent.path} ({found}); refusing to "
                             "issue")
        child = parent


def _revocation_in(parent: CaDir, cert: x509.Certificate) -> str | None:
    """Where ``parent`` records ``cert`` as revoked, or None."""
    entry = find_certificate(parent, cert.serial_number)
    if entry is not None and entry.status == REVOKED:
        reason = entry.reason.value if entry.reason else "no reason given"
        return f"{parent.index.name}: {reason}, since {utc_text(entry.revoked_at)}"
    for path in (parent.crl_path(der=True), parent.crl_path()):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        crl = (x509.load_der_x509_crl(data) if path.suffix == ".der"
               else x509.load_pem_x509_crl(data))
        if crl.issuer == cert.issuer and \
                crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            return f"its CRL {path.name}"
        return None
    return None
