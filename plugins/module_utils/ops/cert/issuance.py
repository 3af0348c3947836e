"""Issuing one certificate from an opened CA (the caller holds the CA lock)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from ...dependencies import missing

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:
    serialization = missing()

from ...errors import InputError
from ...x509.certificate import certificate_builder, sign_certificate, utcnow
from ...x509.path_length import check_path_length
from ..ca.urls import with_ca_urls

if TYPE_CHECKING:
    from cryptography import x509

    from ...algorithms.base import Algorithm
    from ...profiles.profile import Profile, Rendered
    from ..ca.authority import Authority


# RFC 5280 §4.1.2.5: the validity period runs from notBefore to notAfter
# *inclusive*, so a period of exactly ``validity`` ends one second (the
# resolution of the encoded times) before notBefore + validity.
_LAST_SECOND = datetime.timedelta(seconds=1)


def validity_window(authority: Authority | None, validity: datetime.timedelta,
                    now: datetime.datetime | None = None
                    ) -> tuple[datetime.datetime, datetime.datetime]:
    """(notBefore, notAfter): a period of ``validity`` that starts now, never
    past the CA's own notAfter (a certificate cannot outlive its issuer)."""
    now = now or utcnow()
    not_after = now + validity - _LAST_SECOND
    if authority is not None:
        ca_end = authority.cert.not_valid_after_utc
        if ca_end <= now:
            raise InputError("CA certificate %s expired on %s"
                             % (authority.cert.subject.rfc4514_string(), ca_end.isoformat()))
        not_after = min(not_after, ca_end)
    return now, not_after


def signature_options(authority_algorithm: Algorithm, profile: Profile) -> dict[str, Any]:
    """Signature options of the issuing profile that apply to the CA key."""
    options = dict(profile.signature or {})
    if authority_algorithm.family != "rsa":
        options.pop("scheme", None)
    if authority_algorithm.family not in ("rsa", "ec"):
        options.pop("hash", None)
    return options


def check_issuer(authority: Authority, profile: Profile) -> None:
    """``check_can_issue``, then the audit log's readiness: the gate of
    every signature, called under the CA lock."""
    check_can_issue(authority, profile)
    from ..audit.trail import audit_ready  # a damaged audit.log stops signing before anything changes
    audit_ready(authority.dir.path)


def check_can_issue(authority: Authority, profile: Profile) -> None:
    """Refuse to sign when the CA certificate is not a CA (basicConstraints,
    keyCertSign), when a certificate of ``profile`` would break a pathLen
    constraint of the CA's chain (x509.path_length), or when the CA's
    parent revoked it. Reads only."""
    from cryptography import x509

    cert, where = authority.cert, str(authority.dir.path)
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        basic = None
    if basic is None or not basic.ca:
        raise InputError("%s: CA certificate %s is not a CA (basicConstraints cA is not true)"
                         % (where, cert.subject.rfc4514_string()))
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.key_cert_sign:
        raise InputError("%s: CA certificate %s lacks keyCertSign in keyUsage"
                         % (where, cert.subject.rfc4514_string()))
    check_path_length(authority.chain_certificates(), profile.is_ca, profile.path_len,
                      f"profile {profile.name}", where)
    from ..ca.parent_status import refuse_if_revoked  # a CA its parent revoked issues nothing

    refuse_if_revoked(authority.dir, authority.meta, cert)


def issue(authority: Authority, profile: Profile, rendered: Rendered, subject_public_key: Any,
          now: datetime.datetime | None = None, alt_public_key: Any = None) -> x509.Certificate:
    """Sign, store and index a certificate; returns it. The caller holds the
    CA lock. A batch of one (``batch_sign.sign_and_record``): the same
    checks, record and audit line as every certificate of a batch.

    ``alt_public_key``: a catalyst subject's PQC key (subjectAltPublicKeyInfo).
    A catalyst CA (one with a ``pqc`` key) adds its alternative signature to
    whatever it issues.
    """
    from .batch_sign import Prepared, sign_and_record  # it builds on this module

    (issued,) = sign_and_record(authority, [Prepared(profile, rendered, subject_public_key,
                                                     alt_public_key)], now)
    return issued.cert


def sign_new(authority: Authority, profile: Profile, rendered: Rendered,
             subject_public_key: Any, serial: int,
             window: tuple[datetime.datetime, datetime.datetime], alt_public_key: Any = None,
             *, issuer_key_id: x509.AuthorityKeyIdentifier) -> x509.Certificate:
    """Build and sign one certificate (nothing is written). ``window`` is
    (notBefore, notAfter) from ``validity_window``. ``issuer_key_id``: the
    CA's AuthorityKeyIdentifier extension value, built once per batch."""
    not_before, not_after = window
    extensions = with_ca_urls(list(rendered.extensions), authority.urls)
    if alt_public_key is not None:
        from ..keys.hybrid import alt_extensions

        extensions += alt_extensions(alt_public_key)
    builder = certificate_builder(
        subject=rendered.subject, issuer=authority.cert.subject, serial=serial,
        not_before=not_before, not_after=not_after, extensions=extensions,
        subject_public_key=subject_public_key,
        issuer_key_id=issuer_key_id)
    signer = authority.signer
    with signer.using_options(signature_options(signer.algorithm, profile)):
        return sign_certificate(builder, signer, subject_public_key,
                                alt_signer=authority.alt_signer)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def fingerprint(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import hashes

    return cert.fingerprint(hashes.SHA256()).hex().upper()
