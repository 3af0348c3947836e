"""Declarative certificate issuance: issue from a CSR only when needed.

``cert_ensure`` takes one or more requests (CSR + output path + profile +
variables) for one CA. For each it decides, without touching the CA key,
whether the certificate already in ``path`` is still right:

- issued by this CA (issuer name and signature checked with the CA key),
- for the CSR's public key,
- with the subject, subjectAltName and other extensions the profile renders
  now for this CSR and these variables (a changed profile shows up here),
- not revoked in the CA's index (a revoked certificate is not re-issued for the
  same key unless ``force``: the key may be compromised), and
- not expired nor within ``renew_before`` of its notAfter.

Only the requests that fail a check are signed, all under one opening of the
CA (one HSM login for the whole batch) and one hold of the CA lock. Check
mode reports the same decisions and signs nothing.

A CA profile (``ec/issuing-ca``...) is accepted: this is how the
certificate of a subordinate CA whose key lives on another host is issued
from its CSR (see ``ca_state.ca_request`` / ``ca_state.ca_install``).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ...errors import InputError, StoreError
from ...profiles.loader import as_profile
from ...store.atomic import write_file
from ...store.ca_dir import CaDir
from ...store.cert_store import revoked_serials
from ...store.lock import ca_lock
from ...store.metafile import utc_text
from ...x509.parse import load_certificate, load_certificates, public_key_of_certificate
from ..ca.authority import Authority
from .commands import check_key_algorithm, csr_request, csr_sans
from ..keys.hybrid import alt_extensions, check_alt_key, csr_alt_public_key
from .batch_sign import Prepared, sign_and_record
from ..ca.urls import CaUrls, with_ca_urls
from .issuance import check_can_issue, fingerprint, pem
from .results import CertEnsured, CertsEnsured
from ..ensure import (abspath, now_utc, parse_renew_before, read_optional, reissue_reasons,
                      same_public_key, san_list)

if TYPE_CHECKING:
    from cryptography import x509

    from ...profiles.profile import Profile, Rendered


class CertRequest:
    """One certificate to ensure: ``csr_data`` (PEM/DER bytes) for ``path``."""

    def __init__(self, profile: Profile | str, csr_data: bytes | str, path: str | None = None,
                 values: dict | None = None, csr_where: str = "CSR") -> None:
        if not csr_data:
            raise InputError("%s is empty (a CSR is required)" % csr_where)
        self.profile = as_profile(profile)
        self.csr_data = csr_data if isinstance(csr_data, bytes) else str(csr_data).encode()
        self.path = abspath(path) if path else None
        self.values = dict(values or {})
        self.csr_where = csr_where
        self.alt_public_key: Any = None  # a catalyst subject's PQC key, set when planned


def _plan(request: CertRequest, ca_cert: x509.Certificate, ca_public_key: Any, revoked: set[int],
          renew_before: datetime.timedelta | None, force: bool, now: datetime.datetime,
          urls: CaUrls | None = None
          ) -> tuple[Any, Rendered, x509.Certificate | None, list[str]]:
    """(public key, rendered, existing cert or None, reasons to issue).
    ``urls``: the CA's CRL / OCSP URLs, which issuance adds (ops.ca.urls)."""
    profile = request.profile
    csr, public_key = csr_request(request.csr_data, request.csr_where)
    check_key_algorithm(profile, public_key, request.csr_where)
    # A catalyst CSR proves possession of its PQC key too; a catalyst profile needs it.
    request.alt_public_key = check_alt_key(
        profile, csr_alt_public_key(csr, request.csr_where), request.csr_where)
    rendered = profile.render(request.values, csr_subject=csr.subject, csr_sans=csr_sans(csr))
    existing = None
    reasons: list[str] = []
    data = read_optional(request.path) if request.path else None
    if data is None:
        reasons.append("no certificate at %s" % request.path if request.path
                       else "no output path: always issued")
    else:
        try:
            existing = load_certificate(data, request.path)
        except InputError as exc:
            reasons.append("existing file is not a certificate (%s)" % exc)
    if existing is not None:
        wanted = with_ca_urls(list(rendered.extensions), urls or CaUrls()) \
            + alt_extensions(request.alt_public_key)
        reasons.extend(_differences(existing, public_key, rendered, wanted, ca_cert,
                                    ca_public_key, revoked, renew_before, now))
        if existing.serial_number in revoked and not force and _same_key(existing, public_key):
            raise InputError(
                "the certificate in %s (serial %X) is revoked and the CSR is for the same key; "
                "refusing to certify that key again (use a new key, or force: true)"
                % (request.path, existing.serial_number))
    if force and not reasons:
        reasons.append("force: true")
    return public_key, rendered, existing, reasons


def _same_key(cert: x509.Certificate, public_key: Any) -> bool:
    try:
        return same_public_key(public_key_of_certificate(cert), public_key)
    except InputError:
        return False


def _differences(cert: x509.Certificate, public_key: Any, rendered: Rendered,
                 wanted: list[x509.Extension], ca_cert: x509.Certificate, ca_public_key: Any,
                 revoked: set[int], renew_before: datetime.timedelta | None,
                 now: datetime.datetime) -> list[str]:
    try:
        cert_key = public_key_of_certificate(cert)
    except InputError:
        cert_key = None
    key_differs = None
    if cert_key is None or not same_public_key(cert_key, public_key):
        key_differs = "public key differs from the CSR's"
    return reissue_reasons(cert, rendered, wanted, ca_cert, ca_public_key, revoked, renew_before,
                           now, key_differs=key_differs)


def _describe(cert: x509.Certificate, path: str | None, changed: bool, reasons: list[str],
              chain_pem: str) -> CertEnsured:
    return CertEnsured(
        changed, path, "%X" % cert.serial_number, cert.subject.rfc4514_string(),
        cert.issuer.rfc4514_string(), utc_text(cert.not_valid_before_utc),
        utc_text(cert.not_valid_after_utc), fingerprint(cert), san_list(cert.extensions),
        reasons, pem(cert).decode(), chain_pem)


def _predicted(request: CertRequest, rendered: Rendered | None, reasons: list[str],
               ca_present: bool = True) -> CertEnsured:
    return CertEnsured(
        True, request.path, None,
        rendered.subject.rfc4514_string() if rendered is not None else None, None, None, None,
        None, san_list(rendered.extensions) if rendered is not None else [],
        reasons if ca_present else reasons + ["CA does not exist yet (check mode)"], None, None)


def cert_ensure(ca_dir: str | os.PathLike, requests: Iterable[CertRequest],
                renew_before: Any = "30d", force: bool = False, check_mode: bool = False,
                passphrase: bytes | None = None, on_replace: Callable[[str], Any] | None = None,
                now: datetime.datetime | None = None) -> CertsEnsured:
    """Ensure every CertRequest in ``requests`` has a current certificate.

    Returns ``CertsEnsured``: one ``CertEnsured`` a request (the certificate
    facts, ``changed`` and the ``reasons`` it was, or in check mode would
    be, issued) and the number signed. ``on_replace(path)`` is called before an
    existing file is overwritten (backups).
    """
    renew_before = parse_renew_before(renew_before)
    now = now_utc(now)
    requests = list(requests)
    if not requests:
        raise InputError("no certificate requests given")
    paths = [r.path for r in requests if r.path]
    if len(paths) != len(set(paths)):
        raise InputError("two certificate requests write the same path")

    if not CaDir(ca_dir).exists():
        if check_mode:
            predicted = []
            for request in requests:
                csr, public_key = csr_request(request.csr_data, request.csr_where)
                rendered = request.profile.render(request.values, csr_subject=csr.subject,
                                                  csr_sans=csr_sans(csr))
                predicted.append(_predicted(request, rendered, [], ca_present=False))
            return CertsEnsured(True, 0, predicted)
        CaDir(ca_dir).require()

    with Authority(ca_dir, need_signers=False) as authority:
        ca_cert = authority.cert
        ca_public_key = authority.issuer_keys()
        urls = authority.urls
        chain_pem = b"".join(pem(c) for c in authority.chain_certificates()).decode()
        for profile in {id(r.profile): r.profile for r in requests}.values():
            check_can_issue(authority, profile)  # what signing would refuse, also in check mode
        revoked = revoked_serials(authority.dir)
    plans = []
    for request in requests:
        plans.append((request,) + _plan(request, ca_cert, ca_public_key, revoked,
                                        renew_before, force, now, urls))

    results: dict[int, CertEnsured] = {}
    todo = []
    for number, (request, dummy_key, dummy_rendered, existing, reasons) in enumerate(plans):
        if reasons or existing is None:  # (no certificate there is always a reason)
            todo.append(number)
        else:
            results[number] = _describe(existing, request.path, False, [], chain_pem)
    for number in todo if not check_mode else ():
        path = plans[number][0].path
        if path:  # a bad output path fails before anything is signed
            _check_output(path)
    if todo and check_mode:
        for number in todo:
            request, _key, rendered, _existing, reasons = plans[number]
            results[number] = _predicted(request, rendered, reasons)
    elif todo:
        with Authority(ca_dir, passphrase) as authority:  # one login for the batch
            with ca_lock(authority.dir.path):
                # all signed, then recorded at once (one index rewrite, one audit append)
                issued = sign_and_record(authority, [
                    Prepared(plans[n][0].profile, plans[n][2], plans[n][1],
                             plans[n][0].alt_public_key, plans[n][0].csr_where)
                    for n in todo], now)
                for number, done in zip(todo, issued, strict=False):
                    request, _key, _rendered, existing, reasons = plans[number]
                    if request.path:
                        _write_output(request.path, done.pem, existing is not None
                                      or os.path.exists(request.path), on_replace)
                    results[number] = _describe(done.cert, request.path, True, reasons,
                                                chain_pem)
    return CertsEnsured(bool(todo), 0 if check_mode else len(todo),
                        [results[number] for number in range(len(plans))])


def _check_output(path: str) -> None:
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        raise StoreError("cannot write %s: directory %s does not exist" % (path, directory))
    if os.path.isdir(path):
        raise StoreError("cannot write %s: it is a directory" % path)


def _write_output(path: str, data: bytes, replacing: bool,
                  on_replace: Callable[[str], Any] | None) -> None:
    _check_output(path)
    if replacing and on_replace is not None:
        on_replace(path)
    write_file(path, data)


def chain_of(ca_dir: str | os.PathLike) -> str:
    """PEM of ``ca_dir``'s chain (its certificate, then its parents)."""
    with Authority(ca_dir, need_signers=False) as authority:
        return b"".join(pem(c) for c in authority.chain_certificates()).decode()


def certificates_in(data: bytes, where: str) -> list[x509.Certificate]:
    return load_certificates(data, where)
