"""What a verification checks, described once for both engines.

A VerifyPolicy holds everything the caller decides: the trust anchors, the
intermediate candidates, the moment, the purpose, the names the leaf must
carry, the CRLs, the depth and the work allowed. cryptography's verifier
(engine_pyca) and our own RFC 5280 path validation (engine_native) both
take their whole configuration from it, and both judge with the same rule
functions (cert_rules, names, name_constraints, purpose, revocation), so
that the two cannot drift apart.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass, field

from ..errors import InputError, UsageError
from .purpose import PURPOSES

DEFAULT_MAX_DEPTH = 8


@dataclass(frozen=True)
class Budget:
    """The work one verification may do before it gives up (and fails).

    signatures        signature checks while building paths
    candidates        issuer candidates considered while building paths
    paths             complete signature-checked paths judged
    name_checks       names times name-constraint subtrees, per CA
    path_certificates certificates in one path, self-issued ones included
    """

    signatures: int = 64
    candidates: int = 512
    paths: int = 8
    name_checks: int = 1 << 20
    path_certificates: int = 24


@dataclass(frozen=True)
class VerifyPolicy:
    """One verification, fully described.

    trusted        trust anchors (a path ends at one of them)
    intermediates  untrusted candidates for the certificates in between
    at             the moment to judge at (UTC)
    check_time     False skips notBefore/notAfter and CRL nextUpdate
    purpose        a key of purpose.PURPOSES, or None for no purpose check
    host / ip / email  a name the leaf must carry in subjectAltName
    crls           CRLs to consult
    max_depth      intermediate CAs allowed, self-issued ones not counted
    classical_only skip catalyst alternative signatures (a legacy client)
    web_pki        add the CA/Browser Forum Baseline Requirements (webpki_rules)
    """

    trusted: tuple
    intermediates: tuple = ()
    at: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.timezone.utc))
    check_time: bool = True
    purpose: str | None = None
    host: str | None = None
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    email: str | None = None
    crls: tuple = ()
    max_depth: int = DEFAULT_MAX_DEPTH
    budget: Budget = Budget()
    classical_only: bool = False
    web_pki: bool = False

    def __post_init__(self) -> None:
        # Certificates carry whole seconds: a moment within the second of
        # notAfter is still within the validity period.
        object.__setattr__(self, "at", utc_moment(self.at).replace(microsecond=0))
        if self.purpose is not None and self.purpose not in PURPOSES:
            raise UsageError(f"unknown purpose {self.purpose!r} (use one of "
                             f"{', '.join(PURPOSES)})")
        if not 0 <= self.max_depth <= 255:
            raise UsageError(f"max depth must be between 0 and 255, got {self.max_depth}")

    @property
    def server_names(self) -> bool:
        """True when the leaf is checked as a server (a host or IP is asked
        for, or the purpose is serverAuth): the CN rule applies then."""
        return self.host is not None or self.ip is not None or self.purpose == "serverAuth"


def utc_moment(at: datetime.datetime | None) -> datetime.datetime:
    """``at`` in UTC (naive means UTC); now when None."""
    if at is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if not isinstance(at, datetime.datetime):
        raise InputError(f"verification time must be a datetime, got {at!r}")
    if at.tzinfo is None:
        return at.replace(tzinfo=datetime.timezone.utc)
    return at.astimezone(datetime.timezone.utc)


def parse_ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An --ip value; only the canonical textual forms are accepted (no
    leading zeros, no hexadecimal or shortened IPv4)."""
    if text is None:
        return None
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise UsageError(f"IP address {text!r} is not an IPv4 or IPv6 address") from None
