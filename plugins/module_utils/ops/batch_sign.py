"""Signing and recording a validated batch of CSRs.

``prepare`` validates one CSR for a profile (parse, self-signature, key
type, a catalyst CSR's alternative key, profile rendering); it needs no CA.
``Signing`` holds what the certificates of one batch share, worked out once
with the CA open and locked (issuer checks, validity windows, the
AuthorityKeyIdentifier, the serials in use). ``Issued`` is a signed
certificate with what is derived from it, each computed once: DER and PEM
bytes, the CA's copy path, the audit and result fields, the index line.
``record`` writes the audit records ahead (``audit_journal``), then the
files with one flush per kind: the CA's copies, the index lines in one
atomic rewrite, the serial file; then it appends the audit records at once.

``sign_and_record`` (and ``issue_many``) signs and records Prepared items
for callers that hold an opened ``Authority`` and its lock: batch issuance
in one process (``batch``), ``cert_state.cert_ensure`` (the module's batch
form) and ``credential_batch``.
"""

import os

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ..der import pem_armor
from ..errors import InputError
from ..store.atomic import staged_files
from ..store.dn_oneline import oneline
from ..store.index import valid_entry
from ..store.serials import fresh_serials, used_serials
from ..x509.certificate import utcnow, with_signature
from ..x509.keyid import authority_key_identifier
from . import audit
from .audit_journal import journaled
from .cert import check_key_algorithm, csr_request, csr_sans
from .hybrid import check_alt_key, csr_alt_public_key
from .issuance import check_issuer, record_issued, sign_new, validity_window


class Prepared:
    """A validated CSR, ready to be signed."""

    __slots__ = ("profile", "rendered", "public_key", "alt_public_key", "where", "out")

    def __init__(self, profile, rendered, public_key, alt_public_key=None, where="CSR",
                 out=None):
        self.profile = profile
        self.rendered = rendered
        self.public_key = public_key
        self.alt_public_key = alt_public_key
        self.where = where
        self.out = out


def prepare(profile, csr_data, where="CSR", values=None, out=None):
    """Validate one CSR for ``profile`` (a Profile) and render it; InputError
    naming ``where`` when anything is wrong. Needs no CA."""
    csr, public_key = csr_request(csr_data, where)
    check_key_algorithm(profile, public_key, where)
    alt_public_key = check_alt_key(profile, csr_alt_public_key(csr, where), where)
    try:
        rendered = profile.render(values or {}, csr_subject=csr.subject,
                                  csr_sans=csr_sans(csr))
    except InputError as exc:  # a variable taken from this CSR breaks the profile
        raise type(exc)("%s: %s" % (where, exc)) from None
    return Prepared(profile, rendered, public_key, alt_public_key, where, out)


def prepare_all(items):
    """``prepare`` each ``(profile, data, where, values, out)`` of ``items``,
    in order; the first bad CSR raises its InputError (nothing is signed
    before every CSR has been validated)."""
    return [prepare(*item) for item in items]


class Issued:
    """A signed certificate of a batch and what is derived from it, each
    computed once: its DER and PEM bytes (the CA's copy and the output
    copy), the path of the CA's copy and the fields shared by the audit
    record and the result (serial, subject, notAfter, SHA-256 fingerprint).

    ``parts()`` / ``from_parts()`` carry it from a batch worker to the
    parent; the cryptography Certificate is then loaded only if asked for.
    """

    __slots__ = ("_cert", "der", "pem", "ca_path", "fields", "serial", "not_after",
                 "subject_oneline")

    def __init__(self, cert, certs_dir, subject=None):
        """``subject``: the Name ``cert`` was built with, when the caller has
        it (reading it back from the certificate parses it again)."""
        self._cert = cert
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.pem = pem_armor(self.der, "CERTIFICATE")
        self.serial = cert.serial_number
        if subject is None:
            subject = cert.subject
        self.not_after = cert.not_valid_after_utc
        self.fields = audit.issued_fields(self.serial, subject, self.not_after, self.der)
        self.ca_path = os.path.join(certs_dir, self.fields["serial"] + ".crt")
        # For the index line: worked out here (in the worker for a parallel
        # batch) so that recording needs no Certificate.
        self.subject_oneline = oneline(subject)

    def parts(self):
        return (self.der, self.pem, self.ca_path, self.fields, self.serial, self.not_after,
                self.subject_oneline)

    @classmethod
    def from_parts(cls, parts):
        issued = cls.__new__(cls)
        issued._cert = None
        (issued.der, issued.pem, issued.ca_path, issued.fields, issued.serial,
         issued.not_after, issued.subject_oneline) = parts
        return issued

    def replace_signature(self, signature):
        """Put ``signature`` in place of the certificate's placeholder one
        (a batch worker signed with a DeferredSigner); the fields derived
        from the to-be-signed part stay as they are."""
        self._cert = None
        self.der = with_signature(self.der, signature)
        self.pem = pem_armor(self.der, "CERTIFICATE")
        self.fields["fingerprint"] = audit.sha256_hex(self.der)

    def index_entry(self):
        """Its ``index.txt`` line (an IndexEntry)."""
        return valid_entry(self.serial, self.not_after, self.subject_oneline)

    @property
    def cert(self):
        if self._cert is None:
            self._cert = x509.load_der_x509_certificate(self.der)
        return self._cert

    def result(self, paths):
        """The entry of a single ``cert issue`` result (without changed)."""
        return {"serial": "%X" % self.serial, "subject": self.fields["subject"],
                "not_after": self.fields["not_after"],
                "fingerprint_sha256": self.fields["fingerprint"], "paths": paths}


class Signing:
    """What every certificate of a batch shares, worked out once with the
    CA open and locked: the issuer checks per profile, the validity windows,
    the AuthorityKeyIdentifier and the serials already used."""

    def __init__(self, authority, profiles, now=None):
        self.authority = authority
        self.now = now or utcnow()
        for profile in {id(p): p for p in profiles}.values():
            check_issuer(authority, profile)
        self._windows = {}
        self.aki = authority_key_identifier(authority.key_id)
        self._used = used_serials(authority.dir)
        self.certs_dir = str(authority.dir.certs_dir)

    def new_serials(self, count: int) -> list[int]:
        return fresh_serials(self._used, count)

    def sign_cert(self, item, serial):
        """Sign one Prepared item with ``serial``: its Certificate; nothing
        is written."""
        validity = item.rendered.validity
        window = self._windows.get(validity)
        if window is None:
            window = self._windows[validity] = validity_window(self.authority, validity,
                                                               self.now)
        return sign_new(self.authority, item.profile, item.rendered, item.public_key, serial,
                        window, item.alt_public_key, issuer_key_id=self.aki)

    def sign(self, item, serial):
        """``sign_cert`` as an Issued."""
        return Issued(self.sign_cert(item, serial), self.certs_dir, item.rendered.subject)


def issue_many(authority, prepared, now=None):
    """Sign and record one certificate per Prepared item; the caller holds
    the CA lock. Returns the certificates in the order given.

    Nothing is written until every certificate is signed; then they are
    recorded together (see the module docstring) and audited in one append.
    """
    return [issued.cert for issued in sign_and_record(authority, prepared, now)]


def sign_and_record(authority, prepared, now=None):
    """``issue_many`` returning ``Issued`` objects (the certificates with
    their PEM bytes, CA path and record fields)."""
    prepared = list(prepared)
    if not prepared:
        return []
    profiles = [item.profile for item in prepared]
    signing = Signing(authority, profiles, now)
    serials = signing.new_serials(len(prepared))
    issued = [signing.sign(item, serial) for item, serial in zip(prepared, serials, strict=False)]
    record(authority, profiles, issued)
    return issued


def record(authority, profiles, issued, ca_files=None):
    """Write the CA's copies (``ca_files`` when already staged), index lines
    and serial, then the audit records of ``issued`` (signed with
    ``profiles``, same order)."""
    if ca_files is None:
        ca_files = staged_files([(i.ca_path, i.pem) for i in issued])
    records = audit.issue_records(authority, profiles, [i.fields for i in issued])
    journaled(authority.dir.path, records, lambda: record_issued(
        authority.dir, ca_files, [i.index_entry() for i in issued]))
