"""The outcome of a verification, and what is gathered while judging a path."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field

from .verify_rules import Failure, most_telling


def stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class VerifyResult:
    """Outcome of a verification.

    valid     every rule held
    reason    one line: "ok", or the message of the most telling failure
    rule      "ok", or that failure's rule (verify_rules.RULES)
    failures  every broken rule found on the path reported (rule + message)
    path      subjects (RFC 4514), leaf first, trust anchor last
    engine    "cryptography" or "qpki": which engine built and judged the path
    revoked   a certificate of the path is listed on a CRL
    details   one line per failure and per CRL consulted
    revocation_reason / revocation_date   from the CRL entry, when revoked
    legacy    one line per object of the path (or CRL) in the legacy,
              pre-draft-13 composite form (x509/legacy.py)
    """

    valid: bool
    reason: str
    rule: str = "ok"
    failures: list[Failure] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    engine: str = "qpki"
    revoked: bool = False
    details: list[str] = field(default_factory=list)
    revocation_reason: str | None = None
    revocation_date: datetime.datetime | None = None
    legacy: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["failures"] = [failure.as_dict() for failure in self.failures]
        if self.revocation_date is not None:
            data["revocation_date"] = stamp(self.revocation_date)
        return data


# Codes used by the catalyst hooks (catalyst_verify.add_*_findings).
_LEGACY_CODES = {"signature": "signature.alternative", "crl_signature": "crl.invalid"}


class Findings:
    """Failures and notes gathered while judging one path."""

    def __init__(self) -> None:
        self.failures: list[Failure] = []
        self.notes: list[str] = []
        self.revocation: tuple[str, datetime.datetime] | None = None
        self.legacy: list[str] = []

    def add(self, failures: list[Failure] | Failure | None) -> None:
        if isinstance(failures, Failure):
            failures = [failures]
        for failure in failures or []:
            if failure not in self.failures:
                self.failures.append(failure)

    def fail(self, code: str, message: str) -> None:
        """The interface of the catalyst hooks."""
        self.add(Failure(_LEGACY_CODES[code], message))

    def result(self, subjects: list[str], engine: str) -> VerifyResult:
        details = [failure.message for failure in self.failures] + self.notes
        if not self.failures:
            return VerifyResult(True, "ok", "ok", [], subjects, engine, False, details,
                                legacy=self.legacy)
        worst = most_telling(self.failures)
        reason, date = self.revocation if self.revocation is not None else (None, None)
        return VerifyResult(False, worst.message, worst.rule, list(self.failures), subjects,
                            engine, self.revocation is not None, details, reason, date,
                            self.legacy)
