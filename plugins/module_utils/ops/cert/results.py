"""Results of the read side of ``cert`` and ``csr``: cert list, cert info
--ca-dir, cert revoke and unhold, cert verify, csr info and verify, and the
qpki_cert_info module's report.

A certificate's description (``ops.describe.objects.describe_certificate``)
stays a dict spread at the top level: which hybrid keys it has, and in
which order, depends on the certificate (composite, catalyst, legacy form),
and each extension's value is shaped like that extension.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..result import SPREAD, Listing, Result, Verdict, optional, optional_spread


@dataclass
class Revocation(Result):
    """When and why a certificate was revoked, as its CA's records say
    (``reason`` None for a record without one)."""

    revoked_at: str | None
    reason: str | None
    invalidity_date: str | None = optional()


@dataclass
class CertificateStatus(Result):
    """Where a certificate stands at the CA that issued it: ``status`` good,
    revoked (with ``revocation``) or unknown (with a ``note`` saying why)."""

    status: str
    serial: str
    revocation: Revocation | None = optional_spread()
    note: str | None = optional()


@dataclass
class StoredFields(Result):
    """What the CA's database keeps of a certificate besides its index entry."""

    not_before: str | None
    sans: list[str]
    profile: str | None
    fingerprint_sha256: str | None


@dataclass
class CertListed(Result):
    """One certificate of ``cert list``; ``stored`` when the CA has a database."""

    serial: str
    status: str
    subject: str
    not_after: str
    revocation: Revocation | None = optional_spread()
    stored: StoredFields | None = optional_spread()


@dataclass
class CertList(Listing):
    ca_dir: str
    certificates: list[CertListed]
    count: int


@dataclass
class CertInfo(Result):
    """cert info: the certificate's description."""

    description: dict[str, Any] = field(metadata=SPREAD)


@dataclass
class CertRecordInfo(Result):
    """cert info --ca-dir: the certificate's description and its status in
    the CA's records."""

    description: dict[str, Any] = field(metadata=SPREAD)
    status: str
    revocation: Revocation | None = optional_spread()


@dataclass
class CertRevoked(Result):
    changed: bool
    serial: str
    reason: str
    revoked_at: str
    paths: list[Path]
    invalidity_date: str | None = optional()


@dataclass
class CertReleased(Result):
    """cert unhold: the certificate is valid again; it was on hold since ``held_since``."""

    changed: bool
    serial: str
    status: str
    held_since: str
    paths: list[Path]


@dataclass(kw_only=True)  # fields that may be absent stand between others
class PathVerdict(Verdict):
    """A certificate checked against trust anchors
    (x509.verify_result.VerifyResult) as the front ends show it; ``changed``
    is left out (None) where the verification is part of a report."""

    changed: bool | None = optional()
    valid: bool
    reason: str
    rule: str
    failures: list[dict[str, str]]
    path: list[str]
    engine: str
    revoked: bool
    details: list[str]
    revocation_reason: str | None = optional()
    revocation_date: str | None = optional()


@dataclass(kw_only=True)
class ChainVerification(PathVerdict):
    """The verification of qpki_cert_info's report: the legacy findings, when
    (``at``) and for what it was checked (``purpose``, ``host``, ``ip``,
    ``email`` when asked)."""

    legacy: list[str]
    at: str
    purpose: str | None = optional()
    host: str | None = optional()
    ip: str | None = optional()
    email: str | None = optional()


@dataclass(kw_only=True)
class CertVerdict(PathVerdict):
    """cert verify: the verification, how it was made (``classical_only``,
    ``web_pki``) and, under ``strict``, the legacy composite form refused."""

    at: str
    classical_only: bool
    web_pki: bool
    purpose: str | None = optional()
    host: str | None = optional()
    ip: str | None = optional()
    email: str | None = optional()
    legacy_composite: list[str]
    strict: bool


@dataclass
class ExtensionFields(Result):
    """The extensions a playbook tests, as values (qpki_cert_info)."""

    subject_alt_name: list[str]
    subject_alt_name_critical: bool
    key_usage: list[str] | None
    extended_key_usage: list[str] | None
    basic_constraints: dict[str, Any] | None
    name_constraints: dict[str, Any] | None
    subject_key_identifier: str | None
    authority_key_identifier: str | None


@dataclass
class CertDetails(Result):
    """qpki_cert_info: the description, the names attribute by attribute, the
    extensions as values, the validity now and at the moments asked
    (``valid_at``); ``verification`` when trust anchors were given,
    ``revocation`` when the issuing CA's directory was."""

    description: dict[str, Any] = field(metadata=SPREAD)
    version: int
    serial_number: int
    subject_ordered: list[list[str]]
    issuer_ordered: list[list[str]]
    extension_fields: ExtensionFields = field(metadata=SPREAD)
    expired: bool
    expires_in_seconds: int
    valid_at: dict[str, bool]
    verification: ChainVerification | None = optional()
    revocation: CertificateStatus | None = optional()


@dataclass
class CsrInfo(Result):
    """csr info: what a request holds. The catalyst fields when it carries
    catalyst attributes (``catalyst_problem`` when they cannot be read), the
    composite form when its key is composite; ``non_standard`` names what
    is not standard apart from the legacy composite form."""

    changed: bool
    subject: str
    public_key_algorithm: str
    signature_algorithm: str
    extensions: list[dict[str, Any]]
    attributes: list[dict[str, str]]
    encoding: str
    hybrid: str | None = optional()
    catalyst_convention: str | None = optional()
    catalyst_standard: bool | None = optional()
    catalyst_attribute_oids: list[str] | None = optional()
    alt_signature_algorithm: str | None = optional()
    alt_public_key_algorithm: str | None = optional()
    catalyst_problem: str | None = optional()
    composite_form: str | None = optional()
    legacy_composite: list[str] | None = optional()
    non_standard: list[str] = field(default_factory=list)


@dataclass
class CsrVerdict(Verdict):
    changed: bool
    valid: bool
    reason: str
    subject: str
    details: list[str]
    legacy_composite: list[str]
    strict: bool
    non_standard: list[str]


@dataclass
class IssuedEntry(Result):
    """One certificate a batch issued: its facts, the files written for it
    (the CA's copy, then the output copy) and the CSR it came from."""

    serial: str
    subject: str
    not_after: str
    fingerprint_sha256: str
    paths: list[str]
    csr: str | None = optional()


@dataclass
class CertIssued(IssuedEntry):
    """``cert issue --csr``: the one certificate issued (``changed`` first,
    as in every changing command's result)."""

    changed: bool = True

    def to_dict(self) -> dict[str, Any]:
        fields = super().to_dict()
        return {"changed": fields.pop("changed"), **fields}


@dataclass
class BatchIssued(Result):
    """A batch: how many certificates, the worker processes used, each
    certificate and every file written."""

    changed: bool
    count: int
    workers: int
    certificates: list[IssuedEntry]
    paths: list[str]


@dataclass
class CertEnsured(Result):
    """The declarative form's answer for one request: the certificate now at
    ``path`` (or, in check mode, what would be issued: the facts only known
    once signed are None) and the ``reasons`` it was, or would be, issued."""

    changed: bool
    path: str | None
    serial: str | None
    subject: str | None
    issuer: str | None
    not_before: str | None
    not_after: str | None
    fingerprint_sha256: str | None
    sans: list[str]
    reasons: list[str]
    certificate: str | None
    chain: str | None


@dataclass
class CertsEnsured(Result):
    """``cert_ensure``: one ``CertEnsured`` a request, in their order, and how
    many certificates were signed."""

    changed: bool
    signed: int
    results: list[CertEnsured]
