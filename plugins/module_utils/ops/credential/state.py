"""Declarative credential enrollment.

A credential is looked up by ``credential_id`` when one is given, otherwise
by profile and subject common name among the valid credentials of
``cred_dir``. An existing credential is kept (``changed`` false) when its
certificate was issued by this CA with the subject, subjectAltName and
extensions the profile renders now, is not revoked and is not within
``renew_before`` of expiry.

Without ``credential_id`` a credential that no longer fits is superseded by
a new enrollment (new id); with an explicit ``credential_id`` a mismatch is
an error (a credential directory is never rewritten).
"""

from __future__ import annotations

import datetime
import os
from typing import TYPE_CHECKING, Any, Iterable, Tuple, cast

from ...errors import InputError, QpkiError
from ...profiles.loader import as_profile
from ...store.ca_dir import CaDir
from ...store.credential_dir import CredentialDir, list_credentials
from ...store.cert_store import revoked_serials
from ...store.metafile import parse_utc_text
from ...x509.parse import load_certificate
from ..ca.authority import Authority
from ..ca.keys import KeyRequest
from ..keys.hybrid import check_key_request
from .enroll import _common_name, credential_enroll
from .read import storage_view
from .results import (CredentialPredicted, CredentialState, CredentialsState,
                      CredentialWithoutCa)
from ..cert.issuance import fingerprint, pem
from ..ca.urls import CaUrls, with_ca_urls
from ..ensure import (abspath, now_utc, parse_renew_before, read_optional, reissue_reasons,
                      san_list)

if TYPE_CHECKING:
    from cryptography import x509

    from ...profiles.profile import Profile

# What _decide needs of the CA: its certificate, its keys (every version's),
# the serials it revoked and its URLs.
CaFacts = Tuple[Any, list, "set[int]", CaUrls]


def _load(cred: CredentialDir) -> tuple[dict[str, Any], x509.Certificate | None, Any]:
    """(meta, certificate, cert path) of a credential's first certificate."""
    meta = cred.load_meta()
    certificates = meta.get("certificates") or []
    if not certificates:
        return meta, None, None
    first = certificates[0]
    path = cred.cert_path(first.get("role", "signature"), first.get("algorithm", ""))
    data = read_optional(path)
    if data is None:
        return meta, None, path
    return meta, load_certificate(data, os.fspath(path)), path


def _differences(meta: dict[str, Any], cert: x509.Certificate | None, profile: Profile,
                 rendered: Any, ca_cert: x509.Certificate, ca_public_key: Any, revoked: set[int],
                 renew_before: datetime.timedelta | None, now: datetime.datetime,
                 urls: CaUrls | None = None) -> list[str]:
    reasons: list[str] = []
    if profile.name not in (meta.get("profiles") or []):
        reasons.append("profiles are %s (requested %s)"
                       % (", ".join(meta.get("profiles") or []) or "none", profile.name))
    if meta.get("status", "valid") != "valid":
        reasons.append("status is %s" % meta.get("status"))
    if cert is None:
        reasons.append("certificate file is missing")
        return reasons
    # A catalyst credential's PQC key is its own: its subjectAltPublicKeyInfo is not compared.
    wanted = with_ca_urls(list(rendered.extensions), urls or CaUrls())
    return reasons + reissue_reasons(cert, rendered, wanted, ca_cert, ca_public_key,
                                     revoked, renew_before, now, what="certificate",
                                     ignore_alt_key=True)


def _describe(cred: CredentialDir, meta: dict[str, Any], cert: Any, cert_path: Any,
              changed: bool, reasons: list[str]) -> CredentialState:
    storage: list[dict[str, Any]] = []
    for entry in meta.get("certificates") or []:
        storage.extend(entry.get("storage") or [])
    key_path = None
    for item in storage:
        if item.get("type") == "software":
            key_path = os.fspath(cred.resolve(item["path"]))
    return CredentialState(
        changed=changed,
        id=cred.id,
        cred_path=os.fspath(cred.path),
        profile=(meta.get("profiles") or [None])[0],
        serial="%X" % cert.serial_number if cert is not None else None,
        subject=cert.subject.rfc4514_string() if cert is not None else None,
        sans=san_list(cert.extensions) if cert is not None else [],
        not_after=meta.get("not_after"),
        fingerprint_sha256=fingerprint(cert) if cert is not None else None,
        cert_path=os.fspath(cert_path) if cert_path else None,
        chain_path=os.fspath(cred.chain),
        key_path=key_path,
        key_storage=storage_view(cred, storage)[0] if storage else None,
        certificate=pem(cert).decode() if cert is not None else None,
        reasons=reasons,
    )


class _Scan:
    """The valid credentials of ``cred_dir`` by (profile, common name),
    newest first; the directory is read once however many requests ask."""

    def __init__(self, cred_dir: str | os.PathLike) -> None:
        self.cred_dir = cred_dir
        self.found: dict[tuple[str, str | None], list[tuple[datetime.datetime, str]]] | None = None

    def candidates(self, profile: Profile, common_name: str | None) -> list[CredentialDir]:
        if self.found is None:
            self.found = {}
            for cred_id in list_credentials(self.cred_dir):
                cred = CredentialDir(self.cred_dir, cred_id)
                try:
                    meta = cred.load_meta()
                except Exception:  # an unreadable credential is not a candidate
                    continue
                if meta.get("status", "valid") != "valid":
                    continue
                try:
                    when = parse_utc_text(meta.get("not_after") or "")
                except ValueError:
                    continue
                name = (meta.get("subject") or {}).get("common_name")
                for profile_name in meta.get("profiles") or []:
                    self.found.setdefault((profile_name, name), []).append((when, cred_id))
        found = self.found.get((profile.name, common_name), [])
        return [CredentialDir(self.cred_dir, cred_id)
                for _w, cred_id in sorted(found, reverse=True)]


def _candidates(cred_dir: str | os.PathLike, profile: Profile,
                common_name: str | None) -> list[CredentialDir]:
    """Valid credentials of ``profile`` for ``common_name``, newest first."""
    return _Scan(cred_dir).candidates(profile, common_name)


class CredentialRequest:
    """One credential to ensure (an item of the batch form): its profile
    (name, YAML path or Profile), variables, optional id and KeyRequest, and
    the text naming it in errors (``credentials[3]``)."""

    def __init__(self, profile: Profile | str, values: dict[str, Any] | None = None,
                 credential_id: str | None = None, key: KeyRequest | None = None,
                 where: str | None = None) -> None:
        self.profile: Any = profile  # a Profile once prepare() has loaded it
        self.values = dict(values or {})
        self.credential_id = credential_id
        self.key = key or KeyRequest()
        self.where = where
        self.rendered: Any = None
        self.common_name: str | None = None

    def prepare(self, profiles: dict[str, Profile] | None = None) -> CredentialRequest:
        """Load the profile (``profiles``: a cache by name), check the key
        request and render the subject; errors name the item."""
        try:
            self.profile = as_profile(self.profile, profiles)
            if self.profile.is_ca:
                raise InputError("profile %s is a CA profile: use qpki_ca / qpki ca init"
                                 % self.profile.name)
            # HSM keys: classical only (a catalyst PQC key is a file)
            check_key_request(self.profile, self.key)
            self.rendered = self.profile.render(self.values)
        except QpkiError as exc:
            if self.where:
                raise type(exc)("%s: %s" % (self.where, exc)) from None
            raise
        self.common_name = _common_name(self.rendered.subject)
        return self


def _ca_facts(ca_dir: str | os.PathLike) -> CaFacts:
    with Authority(ca_dir, need_signers=False) as authority:
        revoked = revoked_serials(authority.dir)
        return authority.cert, authority.issuer_keys(), revoked, authority.urls


def _decide(request: CredentialRequest, cred_dir: str | os.PathLike, ca_facts: CaFacts,
            renew_before: datetime.timedelta | None, now: datetime.datetime, scan: _Scan
            ) -> tuple[CredentialState | None, list[str], bool]:
    """(result of the credential kept, or None; the reasons to enroll or
    renew; whether the named credential is to be renewed in place)."""
    ca_cert, ca_public_key, revoked, urls = ca_facts
    profile, rendered, credential_id = request.profile, request.rendered, request.credential_id
    if credential_id:
        candidates = [c for c in [CredentialDir(cred_dir, credential_id)] if c.exists()]
    else:
        candidates = scan.candidates(profile, request.common_name)
    reasons = ["no credential %s in %s" % (credential_id, cred_dir) if credential_id
               else "no valid %s credential for %s in %s" % (profile.name, request.common_name,
                                                             cred_dir)]
    for cred in candidates:
        meta, cert, cert_path = _load(cred)
        reasons = _differences(meta, cert, profile, rendered, ca_cert, ca_public_key, revoked,
                               renew_before, now, urls)
        if not reasons:
            return _describe(cred, meta, cert, cert_path, False, []), [], False
        if credential_id and all(r.startswith("certificate expire") for r in reasons):
            return None, reasons, True  # same names and profile: a new version of it
        if credential_id:
            raise InputError("%scredential %s in %s does not match the request: %s; a "
                             "credential is never rewritten (use another credential_id, or "
                             "omit it to enroll a new one)"
                             % ("%s: " % request.where if request.where else "", credential_id,
                                cred_dir, "; ".join(reasons)))
        break  # the newest candidate decides; an older one is not revived
    return None, reasons, False


def _predicted(request: CredentialRequest, reasons: list[str]) -> CredentialPredicted:
    return CredentialPredicted(changed=True, id=request.credential_id,
                               subject=request.rendered.subject.rfc4514_string(),
                               profile=request.profile.name, reasons=reasons,
                               sans=san_list(request.rendered.extensions))


def credential_ensure(ca_dir: str | os.PathLike, cred_dir: str | os.PathLike,
                      profile: Profile | str, values: dict[str, Any] | None = None,
                      credential_id: str | None = None, key: KeyRequest | None = None,
                      ca_passphrase: bytes | None = None, renew_before: str | None = "30d",
                      check_mode: bool = False, now: datetime.datetime | None = None,
                      rotate: bool = False
                      ) -> CredentialState | CredentialPredicted | CredentialWithoutCa:
    """Enroll a credential unless a matching one exists; see the module doc."""
    request = CredentialRequest(profile, values, credential_id, key).prepare()
    window = parse_renew_before(renew_before)
    now = now_utc(now)

    if not CaDir(ca_dir).exists():
        if check_mode:
            return CredentialWithoutCa(changed=True, id=credential_id,
                                       subject=request.rendered.subject.rfc4514_string(),
                                       profile=request.profile.name,
                                       reasons=["CA does not exist yet (check mode)"])
        CaDir(ca_dir).require()
    kept, reasons, in_place = _decide(request, cred_dir, _ca_facts(ca_dir), window, now,
                                      _Scan(cred_dir))
    if kept is not None:
        return kept
    if check_mode:
        return _predicted(request, reasons)
    if in_place:
        return _renew_in_place(ca_dir, cred_dir, request, reasons, rotate, ca_passphrase, now)
    from ..ca.state import resolve_generate

    result = credential_enroll(ca_dir, cred_dir, request.profile, request.values,
                               credential_id=credential_id, key=resolve_generate(request.key),
                               ca_passphrase=ca_passphrase)
    cred = CredentialDir(cred_dir, result.credential.id)
    meta, cert, cert_path = _load(cred)
    described = _describe(cred, meta, cert, cert_path, True, reasons)
    described.paths = [os.fspath(p) for p in result.credential.paths]
    described.cred_path = abspath(described.cred_path)
    return described


def _renew_in_place(ca_dir: str | os.PathLike, cred_dir: str | os.PathLike,
                    request: CredentialRequest, reasons: list[str], rotate: bool,
                    ca_passphrase: bytes | None, now: datetime.datetime) -> CredentialState:
    """A named credential close to expiry gets a new version: its key again,
    or a new key with ``rotate``."""
    from .versions import credential_renew

    credential_id = cast(str, request.credential_id)  # _decide renews only a named credential
    result = credential_renew(ca_dir, cred_dir, credential_id, new_key=rotate,
                              key=request.key, ca_passphrase=ca_passphrase, now=now)
    cred = CredentialDir(cred_dir, credential_id)
    meta, cert, cert_path = _load(cred)
    described = _describe(cred, meta, cert, cert_path, True, reasons)
    described.version, described.rotated = result.version, rotate
    described.cred_path = abspath(described.cred_path)
    return described


def credential_ensure_many(ca_dir: str | os.PathLike, cred_dir: str | os.PathLike,
                           requests: Iterable[CredentialRequest],
                           ca_passphrase: bytes | None = None, renew_before: str | None = "30d",
                           check_mode: bool = False, now: datetime.datetime | None = None,
                           rotate: bool = False) -> CredentialsState:
    """``credential_ensure`` for many CredentialRequest at once (the module's
    ``credentials`` batch form).

    Every request is checked and rendered first (the first bad one stops the
    batch, naming it, before anything is written). The CA's public facts are
    read once and ``cred_dir`` is scanned once. The credentials that are
    missing or no longer fit are then enrolled together
    (``credential_batch.credential_enroll_many``: one opening of the CA, one
    HSM login for the CA key, one lock). Check mode decides the same way and
    writes nothing.

    Returns ``{"changed", "enrolled": <count>, "results": [...]}`` with one
    result per request, in order, as ``credential_ensure`` returns it.
    """
    from .batch import EnrollItem, credential_enroll_many

    requests = list(requests)
    if not requests:
        raise InputError("no credentials given")
    window = parse_renew_before(renew_before)
    now = now_utc(now)
    profiles: dict[str, Profile] = {}
    for number, request in enumerate(requests):
        if request.where is None:
            request.where = "credentials[%d]" % number
        request.prepare(profiles)
    _check_duplicates(requests)

    if not CaDir(ca_dir).exists():
        if check_mode:
            return CredentialsState(changed=True, enrolled=0, results=[
                _predicted(r, ["CA does not exist yet (check mode)"]) for r in requests])
        CaDir(ca_dir).require()
    facts, scan = _ca_facts(ca_dir), _Scan(cred_dir)
    results: list[CredentialState | CredentialPredicted | None] = []
    reasons: list[list[str]] = []
    todo: list[int] = []
    renewals: list[int] = []
    for number, request in enumerate(requests):
        kept, why, in_place = _decide(request, cred_dir, facts, window, now, scan)
        results.append(kept)
        reasons.append(why)
        if in_place:
            renewals.append(number)
        elif kept is None:
            todo.append(number)
    for number in renewals:
        results[number] = _predicted(requests[number], reasons[number]) if check_mode else \
            _renew_in_place(ca_dir, cred_dir, requests[number], reasons[number], rotate,
                            ca_passphrase, now)
    if todo and check_mode:
        for number in todo:
            results[number] = _predicted(requests[number], reasons[number])
    elif todo:
        from ..ca.state import resolve_generate

        items = [EnrollItem(requests[n].profile, requests[n].rendered, requests[n].credential_id,
                            resolve_generate(requests[n].key), requests[n].where) for n in todo]
        enrolled = credential_enroll_many(ca_dir, cred_dir, items, ca_passphrase, now)
        for number, done in zip(todo, enrolled, strict=False):
            cred = CredentialDir(cred_dir, done.credential.id)
            described = _describe(cred, done.meta, done.cert, done.credential.cert_path, True,
                                  reasons[number])
            described.paths = list(done.credential.paths)
            described.cred_path = abspath(described.cred_path)
            results[number] = described
    return CredentialsState(changed=bool(todo or renewals),
                            enrolled=0 if check_mode else len(todo),
                            renewed=0 if check_mode else len(renewals),
                            results=[result for result in results if result is not None])


def _check_duplicates(requests: list[CredentialRequest]) -> None:
    """Two items that would decide about the same credential are an error."""
    seen: dict[tuple[Any, ...], str | None] = {}
    for request in requests:
        key = (("id", request.credential_id) if request.credential_id
               else ("cn", request.profile.name, request.common_name))
        if key in seen:
            if request.credential_id:
                what = "credential_id %s" % request.credential_id
            else:
                what = "profile %s and common name %s" % (request.profile.name,
                                                          request.common_name)
            raise InputError("%s and %s both ask for %s" % (seen[key], request.where, what))
        seen[key] = request.where
