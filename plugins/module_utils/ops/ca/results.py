"""Results of the CA commands (init, info, export, rotate, set-urls, check)
and of the declarative CA state (the modules' qpki_ca)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..result import Pem, Result, Verdict, optional


@dataclass
class CaSummary(Result):
    """A CA's certificate, keys and files."""

    changed: bool
    ca_dir: str
    subject: str
    issuer: str
    serial: str
    not_before: str
    not_after: str
    fingerprint_sha256: str
    profile: str | None
    keys: list[dict[str, Any]]
    cert_path: str
    chain_path: str | None
    paths: list[str]


@dataclass
class CaCreated(CaSummary):
    """ca init: ``unprotected_keys`` names key files written without a passphrase."""

    unprotected_keys: list[str] = field(default_factory=list)


@dataclass
class CaInfo(CaSummary):
    """ca info: the summary, the CA's URLs and counters and its versions."""

    expires_in_seconds: int
    urls: dict[str, str]
    counters: dict[str, Any]
    qpki_version: str
    metadata_shape: str
    active_version: str
    versions: list[dict[str, Any]]


@dataclass
class CaState(CaInfo):
    """A complete CA as the declarative state reports it; ``rotated`` and
    ``rotation_reason`` when a new version was (or would be) made."""

    state: str = "complete"
    csr: str | None = None
    csr_path: str | None = None
    rotated: str | None = optional()
    rotation_reason: str | None = optional()
    unprotected_keys: list[str] | None = optional()


@dataclass
class CaPlanned(Result):
    """A CA that is pending (key and CSR made, certificate to come) or, in
    check mode, would be made: what is known of it before its certificate."""

    changed: bool
    state: str
    ca_dir: str
    subject: str | None
    issuer: str | None
    profile: str | None
    keys: list[dict[str, Any]]
    serial: str | None
    not_before: None
    not_after: None
    fingerprint_sha256: str | None
    cert_path: str | None
    chain_path: None
    csr: str | None
    csr_path: str | None
    paths: list[str]
    unprotected_keys: list[str] | None = optional()


@dataclass
class CaVersions(Result):
    changed: bool
    metadata_shape: str
    active_version: str
    versions: list[dict[str, Any]]


@dataclass
class CaExport(Pem):
    """Certificates of the CA as PEM; ``paths`` when written to a file."""

    changed: bool
    bundle: str
    count: int
    pem: str
    paths: list[str] | None = optional()


@dataclass
class CaRotated(Result):
    changed: bool
    ca_dir: str
    version: str
    previous_version: str
    active_version: str
    profile: str
    serial: str
    not_after: str
    cross_certificates: list[str]
    unprotected_keys: list[str]
    paths: list[str]


@dataclass
class CaActivated(Result):
    changed: bool
    ca_dir: str
    active_version: str
    previous_version: str | None = optional()
    paths: list[str] | None = optional()


@dataclass
class CaUrlsSet(Result):
    """The URLs recorded for the CA's certificates (``previous_urls`` when changed)."""

    changed: bool
    ca_dir: str
    urls: dict[str, str]
    previous_urls: dict[str, str] | None = optional()


@dataclass
class CaCheck(Verdict):
    """ca check [--repair]: what is inconsistent, and what was repaired."""

    changed: bool
    valid: bool
    reason: str
    ca_dir: str
    problems: list[str]
    repaired: list[str]
    notes: list[str]
