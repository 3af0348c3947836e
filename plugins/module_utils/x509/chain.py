"""Finding certification paths from a certificate up to a trust anchor.

A candidate issuer has the certificate's issuer name as its subject and,
when both carry key identifiers, the certificate's AKI as its SKI. A link is
kept only when the certificate's signature verifies with the candidate's
key, so every path yielded is cryptographically sound; CA flags, validity
and revocation are judged afterwards (engine_native).

The search is bounded, whatever the input: a path never holds the same
subject and key twice (RFC 4158 loop detection, which also collapses a pile
of certificates sharing one name and key), never more non-self-issued
intermediates than the policy's max_depth nor more certificates than
Budget.path_certificates, and the whole search stops after Budget.candidates
issuer candidates or Budget.signatures signature checks. Candidates are
tried in the order most likely to succeed: trust anchors first, then those
whose SKI is the certificate's AKI, then those valid at the verification
time.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ..der import content_bounds
from ..errors import InputError, QpkiError, VerificationError
from .parse import public_key_of_certificate
from .signature import describe_name, verify_certificate_signature


# What cryptography raises for extensions it cannot decode.
MALFORMED = (ValueError, TypeError, x509.DuplicateExtension)


def der_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def extension_value(obj, ext_class: type, what: str):
    """The value of extension ``ext_class`` of a certificate/CRL, or None."""
    try:
        return obj.extensions.get_extension_for_class(ext_class).value
    except x509.ExtensionNotFound:
        return None
    except ValueError as exc:
        raise InputError(f"{what}: malformed extensions ({exc})") from None


def find_extension(obj, ext_class: type) -> "x509.Extension | None":
    """The extension ``ext_class`` of a certificate/CRL, or None when it is
    absent or the extensions cannot be decoded (a rule reports that)."""
    try:
        return obj.extensions.get_extension_for_class(ext_class)
    except x509.ExtensionNotFound:
        return None
    except MALFORMED:
        return None


def subject_key_id(cert: x509.Certificate) -> bytes | None:
    ski = find_extension(cert, x509.SubjectKeyIdentifier)
    return ski.value.digest if ski is not None else None


def authority_key_id(obj, what: str) -> bytes | None:
    aki = extension_value(obj, x509.AuthorityKeyIdentifier, what)
    return aki.key_identifier if aki is not None else None


def key_ids_compatible(authority_id: bytes | None, subject_id: bytes | None) -> bool:
    """False only when both identifiers are present and differ."""
    return authority_id is None or subject_id is None or authority_id == subject_id


def is_self_issued(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def _authority_id(cert: x509.Certificate) -> bytes | None:
    aki = find_extension(cert, x509.AuthorityKeyIdentifier)
    return aki.value.key_identifier if aki is not None else None


def spki_bytes(cert: x509.Certificate) -> bytes:
    """The DER SubjectPublicKeyInfo, cut out of the TBSCertificate without
    decoding the key (the whole certificate if the TBS cannot be walked)."""
    tbs = cert.tbs_certificate_bytes
    try:
        offset, end = content_bounds(tbs)
        fields = []
        while offset < end and len(fields) < 7:
            fields.append((tbs[offset], offset, content_bounds(tbs, offset)[1]))
            offset = fields[-1][2]
        _tag, start, stop = fields[6 if fields[0][0] == 0xA0 else 5]
        return tbs[start:stop]
    except IndexError:
        return der_of(cert)


class SearchBudget:
    """Work left to a search; ``spent`` says which limit ran out, if one did."""

    _WORDS = {"candidates": "issuer candidates", "signatures": "signature checks"}

    def __init__(self, candidates: int, signatures: int) -> None:
        self.candidates = candidates
        self.signatures = signatures
        self.spent: str | None = None

    def take(self, what: str) -> bool:
        left = getattr(self, what) - 1
        setattr(self, what, left)
        if left < 0 and self.spent is None:
            self.spent = f"gave up after too many {self._WORDS[what]}"
        return left >= 0


class PathSearch:
    """Depth-first search for paths leaf -> ... -> trusted certificate.

    ``paths()`` yields each complete path (leaf first, anchor last) whose
    every signature verified. ``problems`` collects one-line reasons for
    rejected links, ``signature_problems`` and ``key_problems`` the
    signature failures and unreadable issuer keys among them, ``dead_ends``
    the certificates no issuer was found for, and ``budget.spent`` says
    whether the search was cut short. ``limits`` is a verify_policy.Budget
    (its defaults when None).
    """

    def __init__(self, leaf: x509.Certificate, trusted, untrusted=(), *,
                 at: datetime.datetime | None = None, max_depth: int = 8,
                 limits=None) -> None:
        if limits is None:
            from .verify_policy import Budget

            limits = Budget()
        self.leaf = leaf
        self.at = at
        self.max_depth = max_depth
        self.max_certificates = limits.path_certificates
        self.budget = SearchBudget(limits.candidates, limits.signatures)
        self.trusted: dict[bytes, x509.Certificate] = {}
        for cert in trusted:
            self.trusted.setdefault(der_of(cert), cert)
        self._by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        seen: set[bytes] = set()
        for cert in list(self.trusted.values()) + list(untrusted):
            der = der_of(cert)
            if der not in seen:
                seen.add(der)
                self._by_subject.setdefault(cert.subject, []).append(cert)
        self.problems: list[str] = []
        self.signature_problems: list[str] = []
        self.key_problems: list[str] = []
        self.dead_ends: list[x509.Certificate] = []
        self.too_deep = False
        self._links: dict[tuple[bytes, bytes], bool] = {}
        self._keys: dict[bytes, object] = {}

    def is_trusted(self, cert: x509.Certificate) -> bool:
        return der_of(cert) in self.trusted

    def paths(self) -> Iterator[list[x509.Certificate]]:
        yield from self._extend([self.leaf], {self._identity(self.leaf)}, 0)

    @staticmethod
    def _identity(cert: x509.Certificate) -> tuple[bytes, bytes]:
        return cert.subject.public_bytes(), spki_bytes(cert)

    def _candidates(self, cert: x509.Certificate) -> list[x509.Certificate]:
        aki = _authority_id(cert)
        found = [c for c in self._by_subject.get(cert.issuer, [])
                 if key_ids_compatible(aki, subject_key_id(c))]

        def rank(candidate: x509.Certificate) -> tuple[bool, bool, bool]:
            valid = self.at is None or (candidate.not_valid_before_utc <= self.at
                                        <= candidate.not_valid_after_utc)
            return (not self.is_trusted(candidate),
                    aki is None or subject_key_id(candidate) != aki, not valid)

        return sorted(found, key=rank)

    def _extend(self, path: list, on_path: set, depth: int) -> Iterator[list]:
        cert = path[-1]
        if self.is_trusted(cert):
            yield list(path)
            return
        explored = False
        for candidate in self._candidates(cert):
            if not self.budget.take("candidates"):
                return
            identity = self._identity(candidate)
            if der_of(candidate) == der_of(cert):
                continue  # a self-signed certificate that is not trusted
            if identity in on_path:
                self._note(f"certificate loop at {describe_name(candidate.subject)}")
                continue
            explored = True
            counted = not (self.is_trusted(candidate) or is_self_issued(candidate))
            deeper = depth + counted
            if deeper > self.max_depth or len(path) >= self.max_certificates:
                self.too_deep = True
                continue
            if self._link_ok(cert, candidate):
                yield from self._extend(path + [candidate], on_path | {identity}, deeper)
            if self.budget.spent:
                return
        if not explored:
            self.dead_ends.append(cert)

    def _link_ok(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
        key = (der_of(cert), der_of(issuer))
        if key not in self._links:
            if not self.budget.take("signatures"):
                return False
            self._links[key] = self._check_link(cert, issuer)
        return self._links[key]

    def _public_key(self, issuer: x509.Certificate):
        der = der_of(issuer)
        if der not in self._keys:
            self._keys[der] = public_key_of_certificate(issuer)
        return self._keys[der]

    def _check_link(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
        try:
            public_key = self._public_key(issuer)
        except QpkiError as exc:
            self._note(f"issuer {describe_name(issuer.subject)} of certificate "
                       f"{describe_name(cert.subject)}: {exc}", self.key_problems)
            return False
        try:
            verify_certificate_signature(cert, public_key, issuer.subject)
        except VerificationError as exc:
            self._note(str(exc), self.signature_problems)
            return False
        return True

    def _note(self, message: str, kind: list[str] | None = None) -> None:
        if message not in self.problems:
            self.problems.append(message)
            if kind is not None:
                kind.append(message)
