"""Signing and recording a validated batch of CSRs.

``prepare`` validates one CSR for a profile (parse, self-signature, key
type, a catalyst CSR's alternative key, profile rendering); it needs no CA.
``Signing`` holds what the certificates of one batch share, worked out once
with the CA open and locked (issuer checks, validity windows, the
AuthorityKeyIdentifier, the serials in use). The signed certificates
(``issued.Issued``) are recorded together by ``issued.record_issued``: one
database transaction for the batch, then the files.

``sign_and_record`` (and ``issue_many``) signs and records Prepared items
for callers that hold an opened ``Authority`` and its lock: batch issuance
in one process (``batch``), ``cert_state.cert_ensure`` (the module's batch
form) and ``credential_batch``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ...dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ...errors import InputError
from ...progress import ProgressCallback, counted
from ...store.cert_store import SerialsInUse
from ...store.serials import fresh_serials
from ...x509.certificate import utcnow
from ...x509.keyid import authority_key_identifier
from .commands import check_key_algorithm, csr_request, csr_sans
from ..keys.hybrid import check_alt_key, csr_alt_public_key
from .issuance import check_issuer, sign_new, validity_window
from .issued import Issued, record_issued

if TYPE_CHECKING:
    from ...profiles.profile import Profile, Rendered
    from ..ca.authority import Authority

# The stages of a batch, as its progress callback is told them.
CHECKING, SIGNING, RECORDING = "checking CSRs", "signing certificates", "recording"

# One CSR of a batch: (profile, CSR bytes, where it came from, variables, output path).
WorkItem = tuple["Profile", bytes, str, "dict | None", "str | None"]


class Prepared:
    """A validated CSR, ready to be signed."""

    __slots__ = ("profile", "rendered", "public_key", "alt_public_key", "where", "out")

    def __init__(self, profile: Profile, rendered: Rendered, public_key: Any,
                 alt_public_key: Any = None, where: str | None = "CSR",
                 out: str | None = None) -> None:
        self.profile = profile
        self.rendered = rendered
        self.public_key = public_key
        self.alt_public_key = alt_public_key
        self.where = where
        self.out = out


def prepare(profile: Profile, csr_data: bytes, where: str = "CSR", values: dict | None = None,
            out: str | None = None) -> Prepared:
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


def prepare_all(items: Sequence[WorkItem], progress: ProgressCallback | None = None
                ) -> list[Prepared]:
    """``prepare`` each ``(profile, data, where, values, out)`` of ``items``,
    in order; the first bad CSR raises its InputError (nothing is signed
    before every CSR has been validated)."""
    return [prepare(*item) for item in counted(items, progress, CHECKING, len(items))]


class Signing:
    """What every certificate of a batch shares, worked out once with the
    CA open and locked: the issuer checks per profile, the validity windows,
    the AuthorityKeyIdentifier and the serials already used."""

    def __init__(self, authority: Authority, profiles: Iterable[Profile],
                 now: datetime.datetime | None = None) -> None:
        self.authority = authority
        self.now = now or utcnow()
        for profile in {id(p): p for p in profiles}.values():
            check_issuer(authority, profile)
        self._windows: dict[datetime.timedelta, tuple[datetime.datetime, datetime.datetime]] = {}
        self.aki = authority_key_identifier(authority.key_id)
        self._used = SerialsInUse(authority.store)
        self.certs_dir = str(authority.dir.certs_dir)

    def new_serials(self, count: int) -> list[int]:
        return fresh_serials(self._used, count)

    def sign_cert(self, item: Prepared, serial: int) -> x509.Certificate:
        """Sign one Prepared item with ``serial``: its Certificate; nothing
        is written."""
        validity = item.rendered.validity
        window = self._windows.get(validity)
        if window is None:
            window = self._windows[validity] = validity_window(self.authority, validity,
                                                               self.now)
        return sign_new(self.authority, item.profile, item.rendered, item.public_key, serial,
                        window, item.alt_public_key, issuer_key_id=self.aki)

    def sign(self, item: Prepared, serial: int) -> Issued:
        """``sign_cert`` as an Issued."""
        return Issued(self.sign_cert(item, serial), self.certs_dir, item.rendered.subject,
                      rendered_sans(item.rendered))


def rendered_sans(rendered: Rendered) -> list:
    """The subjectAltName entries of a rendered profile: those of the
    certificate ``sign_new`` builds from it (the CA's URLs and a catalyst
    key's extensions add none)."""
    for extension in rendered.extensions:
        if isinstance(extension.value, x509.SubjectAlternativeName):
            return list(extension.value)
    return []


def issue_many(authority: Authority, prepared: Iterable[Prepared],
               now: datetime.datetime | None = None) -> list[x509.Certificate]:
    """Sign and record one certificate per Prepared item; the caller holds
    the CA lock. Returns the certificates in the order given.

    Nothing is written until every certificate is signed; then they are
    recorded together (see the module docstring) and audited in one append.
    """
    return [issued.cert for issued in sign_and_record(authority, prepared, now)]


def sign_and_record(authority: Authority, prepared: Iterable[Prepared],
                    now: datetime.datetime | None = None,
                    progress: ProgressCallback | None = None) -> list[Issued]:
    """``issue_many`` returning ``Issued`` objects (the certificates with
    their PEM bytes, CA path and record fields). ``progress`` is told of
    the certificates signed, then of the recording."""
    items = list(prepared)
    if not items:
        return []
    profiles = [item.profile for item in items]
    signing = Signing(authority, profiles, now)
    serials = signing.new_serials(len(items))
    issued = [signing.sign(item, serial) for item, serial in counted(
        zip(items, serials, strict=False), progress, SIGNING, len(items))]
    if progress:
        progress(RECORDING, 0, 1)
    record_issued(authority, authority.store, profiles, issued)
    if progress:
        progress(RECORDING, 1, 1)
    return issued
