"""How many more CA certificates a chain allows below its first certificate,
and the refusal of a certificate that would break that (one rule for
``ca init --parent``, ``cert issue`` with any profile, credentials and the
installation of a subordinate CA signed elsewhere).

RFC 5280 §4.2.1.9 and §6.1.4 (l)-(m): a CA certificate's pathLenConstraint
is the largest number of non-self-issued intermediate CA certificates that
may follow it in a path; every constraint along the chain applies, so the
tightest one decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..dependencies import missing
from ..errors import InputError

try:
    from cryptography import x509
except ImportError:
    x509 = missing()


@dataclass(frozen=True)
class PathLimit:
    """The tightest pathLenConstraint of a chain, seen from the chain's first
    certificate (the CA that is about to issue)."""

    holder: "x509.Certificate"  # the CA certificate that carries the constraint
    path_len: int  # its pathLenConstraint
    below: int  # CA certificates of the chain that already count against it

    @property
    def room(self) -> int:
        """How many more CA certificates may be issued below the chain's
        first certificate; negative when the chain already breaks the limit."""
        return self.path_len - self.below


def path_limit(chain: Sequence["x509.Certificate"]) -> PathLimit | None:
    """The tightest constraint of ``chain`` (the issuing CA's certificate
    first, then its issuers up to the root), or None when no certificate of
    the chain has a pathLenConstraint."""
    tightest = None
    below = 0
    for cert in chain:
        constraint = _path_len(cert)
        if constraint is not None:
            limit = PathLimit(cert, constraint, below)
            if tightest is None or limit.room < tightest.room:
                tightest = limit
        if cert.subject != cert.issuer:  # self-issued certificates do not count
            below += 1
    return tightest


def check_path_length(chain: Sequence["x509.Certificate"], is_ca: bool, path_len: int | None,
                      what: str, where: str) -> None:
    """InputError for a certificate issued by ``chain[0]`` (its issuers
    follow, up to the root) that a path validator would reject because of a
    pathLen constraint of the chain: any certificate when the chain already
    breaks one (a hierarchy made before this check existed); a CA
    certificate (``is_ca``) when no room is left, or when its own
    ``path_len`` (None: unlimited) promises more levels than the chain
    allows. ``what`` names the certificate's source (``profile ec/root-ca``).
    A pathLen is never lowered silently: the certificate would not say what
    the operator reviewed."""
    limit = path_limit(chain)
    if limit is None:
        return
    holder = f"CA {limit.holder.subject.rfc4514_string()} (pathLen {limit.path_len})"
    if limit.room < 0:
        raise InputError(f"{where}: {holder} already has {limit.below} CA certificates below "
                         "it: nothing this CA issues would verify")
    if not is_ca:
        return
    room = limit.room - 1  # the new CA certificate counts too
    if room < 0:
        below = ("it" if limit.holder is chain[0]
                 else f"{chain[0].subject.rfc4514_string()}, {limit.below} level(s) below it,")
        raise InputError(f"{where}: {holder} allows no CA certificate below {below} "
                         f"so {what}, a CA, is refused")
    if path_len is None or path_len > room:
        wanted = "no pathLen (unlimited)" if path_len is None else f"pathLen {path_len}"
        raise InputError(f"{where}: {what} gives {wanted} but {holder} allows at most "
                         f"pathLen {room} here")


def _path_len(cert: "x509.Certificate") -> int | None:
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None
    return basic.path_length if basic.ca else None
