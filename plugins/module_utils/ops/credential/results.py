"""Results of the credential commands and of the declarative credential state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..result import SPREAD, Result, optional


@dataclass
class EnrolledCredential(Result):
    """A credential just enrolled: its certificate and where its keys are
    (a catalyst credential's PQC key as ``alt_key_storage``)."""

    id: str
    serial: str
    subject: str
    not_after: str
    cert_path: str
    key_storage: dict[str, Any]
    alt_algorithm: str | None = optional()
    alt_key_storage: dict[str, Any] | None = optional()
    paths: list[str] = field(default_factory=list)


@dataclass
class Enrolled(Result):
    changed: bool
    credential: EnrolledCredential = field(metadata=SPREAD)


@dataclass
class EnrolledBatch(Result):
    changed: bool
    count: int
    credentials: list[EnrolledCredential]


@dataclass
class CredentialInfo(Result):
    id: str
    status: str
    subject: str
    issuer: str
    serial: str
    profiles: list[str]
    algorithm: str
    not_before: str
    not_after: str
    expires_in_seconds: int
    cert_path: str
    chain_path: str | None
    key_storage: list[dict[str, Any]]
    active_version: str
    versions: list[dict[str, Any]]


@dataclass
class CredentialList(Result):
    credentials: list[dict[str, Any]]
    count: int


@dataclass
class CredentialExported(Result):
    changed: bool
    id: str
    format: str
    path: str
    certificates: int
    key_exported: bool
    note: str | None = optional()


@dataclass
class CredentialRenewed(Result):
    """A new version of a credential (``rotated``: with a new key)."""

    changed: bool
    id: str
    version: str
    previous_version: str
    rotated: bool
    serial: str
    not_after: str
    cert_path: str
    key_storage: dict[str, Any]


@dataclass
class CredentialActivated(Result):
    """``version`` is the active one; the rest is there when it was not already."""

    changed: bool
    id: str
    version: str
    previous_version: str | None = optional()
    serial: str | None = optional()


@dataclass
class CredentialRevoked(Result):
    """The serials revoked now (the active certificate's and any earlier
    version's still valid); none when the credential was revoked already."""

    changed: bool
    id: str
    revoked: list[str]
    paths: list[str] | None = optional()


@dataclass
class CredentialState(Result):
    """A credential that matches the request: kept, enrolled or renewed
    (``version``, ``rotated``) by credential_ensure."""

    changed: bool
    id: str
    cred_path: str
    profile: str | None
    serial: str | None
    subject: str | None
    sans: list[str]
    not_after: str | None
    fingerprint_sha256: str | None
    cert_path: str | None
    chain_path: str
    key_path: str | None
    key_storage: dict[str, Any] | None
    certificate: str | None
    reasons: list[str]
    paths: list[str] | None = optional()
    version: str | None = optional()
    rotated: bool | None = optional()


@dataclass
class CredentialPredicted(Result):
    """What check mode predicts: a credential to enroll or renew, nothing written."""

    changed: bool
    id: str | None
    subject: str
    profile: str
    reasons: list[str]
    cred_path: None = None
    cert_path: None = None
    key_path: None = None
    certificate: None = None
    sans: list[str] = field(default_factory=list)


@dataclass
class CredentialWithoutCa(Result):
    """Check mode before the CA exists: the credential would be enrolled."""

    changed: bool
    id: str | None
    subject: str
    profile: str
    reasons: list[str]


@dataclass
class CredentialsState(Result):
    """credential_ensure for many requests: one result per request, in order."""

    changed: bool
    enrolled: int
    renewed: int | None = optional()
    results: list[CredentialState | CredentialPredicted] = field(default_factory=list)
