"""Signed certificates and the one way they are recorded.

``Issued`` is a certificate just signed with what is derived from it, each
computed once: DER and PEM bytes, the CA's copy path, the audit and result
fields, the database row. ``record_issued`` commits a list of them to the
CA's store (rows, counters and audit records in one transaction, see
``store.cert_store``) and then writes their files. Single issuance
(``issuance.issue``) and every batch (``batch_sign``, the parallel batch)
record through it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ...dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ...der import pem_armor
from ...store.atomic import StagedFiles
from ...store.cert_db import CertRow
from ...store.cert_store import CertStore
from ...store.dn_oneline import oneline
from ...store.index import valid_entry
from ...x509.certificate import with_signature
from ...x509.names import general_name_text, san_texts
from ..audit import trail as audit
from .results import IssuedEntry

if TYPE_CHECKING:
    from ..ca.authority import Authority


class Issued:
    """A signed certificate and what is derived from it.

    ``parts()`` / ``from_parts()`` carry it from a batch worker to the
    parent; the cryptography Certificate is then loaded only if asked for.
    """

    _cert: x509.Certificate | None

    __slots__ = ("_cert", "der", "pem", "ca_path", "fields", "serial", "not_after",
                 "subject_oneline", "not_before", "sans")

    def __init__(self, cert: x509.Certificate, certs_dir: str | os.PathLike,
                 subject: x509.Name | None = None,
                 sans: list[x509.GeneralName] | None = None) -> None:
        """``subject`` and ``sans`` (subjectAltName entries): what ``cert``
        was built with, when the caller has them (reading them back from
        the certificate parses its extensions again)."""
        self._cert = cert
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.pem = pem_armor(self.der, "CERTIFICATE")
        self.serial = cert.serial_number
        if subject is None:
            subject = cert.subject
        self.not_after = cert.not_valid_after_utc
        self.not_before = cert.not_valid_before_utc
        self.sans = tuple(san_texts(cert) if sans is None
                          else (general_name_text(name) for name in sans))
        self.fields = audit.issued_fields(self.serial, subject, self.not_after, self.der)
        self.ca_path = os.path.join(certs_dir, self.fields["serial"] + ".crt")
        # For the index line: worked out here (in the worker for a parallel
        # batch) so that recording needs no Certificate.
        self.subject_oneline = oneline(subject)

    def parts(self) -> tuple:
        return (self.der, self.pem, self.ca_path, self.fields, self.serial, self.not_after,
                self.subject_oneline, self.not_before, self.sans)

    @classmethod
    def from_parts(cls, parts: tuple) -> Issued:
        issued = cls.__new__(cls)
        issued._cert = None
        (issued.der, issued.pem, issued.ca_path, issued.fields, issued.serial,
         issued.not_after, issued.subject_oneline, issued.not_before, issued.sans) = parts
        return issued

    def replace_signature(self, signature: bytes) -> None:
        """Put ``signature`` in place of the certificate's placeholder one
        (a batch worker signed with a DeferredSigner); the fields derived
        from the to-be-signed part stay as they are."""
        self._cert = None
        self.der = with_signature(self.der, signature)
        self.pem = pem_armor(self.der, "CERTIFICATE")
        self.fields["fingerprint"] = audit.sha256_hex(self.der)

    def row(self, profile: str | None) -> CertRow:
        """Its database row (issued by ``profile``)."""
        return CertRow(valid_entry(self.serial, self.not_after, self.subject_oneline),
                       self.not_before, self.sans, profile, self.fields["fingerprint"],
                       self.der)

    @property
    def cert(self) -> x509.Certificate:
        if self._cert is None:
            self._cert = x509.load_der_x509_certificate(self.der)
        return self._cert

    def result(self, paths: list[str], csr: str | None = None) -> IssuedEntry:
        """What a batch reports of this certificate, written at ``paths``."""
        return IssuedEntry("%X" % self.serial, self.fields["subject"], self.fields["not_after"],
                           self.fields["fingerprint"], paths, csr)


def record_issued(authority: Authority, store: CertStore, profiles: list, issued: list[Issued],
                  ca_files: StagedFiles | None = None) -> None:
    """Commit ``issued`` (signed with ``profiles``, same order) with their
    audit records, then write the CA's copies (``ca_files`` when a batch
    staged them while signing; else made from the rows after the commit),
    the index lines, the serial file and the audit log."""
    if not issued:
        return
    records = audit.issue_records(authority, profiles, [i.fields for i in issued])
    names = [audit.profile_name(profile) for profile in profiles]
    store.record_issued([i.row(name) for i, name in zip(issued, names, strict=True)],
                        records, ca_files)
