"""Finding certification paths from a certificate up to a trust anchor.

A candidate issuer has the certificate's issuer name as its subject and,
when both carry key identifiers, the certificate's AKI as its SKI. A link is
kept only when the certificate's signature verifies with the candidate's
key, so every path yielded is cryptographically sound; CA flags, validity
and revocation are judged afterwards by verify.py. Trusted certificates are
tried before untrusted ones; a certificate never appears twice in a path.
"""

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ..errors import InputError, QpkiError, VerificationError
from .parse import public_key_of_certificate
from .signature import describe_name, verify_certificate_signature

MAX_PATH_LENGTH = 16  # certificates, anchor included


def der_of(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def extension_value(obj, ext_class, what):
    """The value of extension ``ext_class`` of a certificate/CRL, or None."""
    try:
        return obj.extensions.get_extension_for_class(ext_class).value
    except x509.ExtensionNotFound:
        return None
    except ValueError as exc:
        raise InputError("%s: malformed extensions (%s)" % (what, exc)) from None


def subject_key_id(cert):
    ski = extension_value(cert, x509.SubjectKeyIdentifier,
                          "certificate %s" % describe_name(cert.subject))
    return ski.digest if ski is not None else None


def authority_key_id(obj, what):
    aki = extension_value(obj, x509.AuthorityKeyIdentifier, what)
    return aki.key_identifier if aki is not None else None


def key_ids_compatible(authority_id, subject_id):
    """False only when both identifiers are present and differ."""
    return authority_id is None or subject_id is None or authority_id == subject_id


def is_self_issued(cert):
    return cert.subject == cert.issuer


def may_have_issued(candidate, cert):
    """Name (and key identifier) chaining from ``cert`` to ``candidate``."""
    if candidate.subject != cert.issuer:
        return False
    aki = authority_key_id(cert, "certificate %s" % describe_name(cert.subject))
    return key_ids_compatible(aki, subject_key_id(candidate))


class PathSearch:
    """Depth-first search for paths leaf -> ... -> trusted certificate.

    ``paths()`` yields each complete path (a list, leaf first, anchor last)
    whose every signature verified. ``problems`` collects one-line reasons
    for links that were rejected (bad signature, unusable key, loop, too
    long), ``signature_problems`` those that are signature failures, and
    ``dead_ends`` the certificates for which no issuer was found.
    """

    def __init__(self, leaf, trusted, untrusted=()):
        self.leaf = leaf
        self.trusted = {}
        for cert in trusted:
            self.trusted.setdefault(der_of(cert), cert)
        self.pool = list(self.trusted.values())
        seen = set(self.trusted)
        for cert in untrusted:
            if der_of(cert) not in seen:
                seen.add(der_of(cert))
                self.pool.append(cert)
        self.problems = []
        self.signature_problems = []
        self.dead_ends = []
        self._links = {}

    def is_trusted(self, cert):
        return der_of(cert) in self.trusted

    def paths(self):
        yield from self._extend([self.leaf])

    def _extend(self, path):
        cert = path[-1]
        if self.is_trusted(cert):
            yield list(path)
            return
        if len(path) >= MAX_PATH_LENGTH:
            self._note("path from %s is longer than %d certificates"
                       % (describe_name(self.leaf.subject), MAX_PATH_LENGTH))
            return
        on_path = {der_of(c) for c in path}
        explored = False
        for candidate in (c for c in self.pool if may_have_issued(c, cert)):
            if der_of(candidate) in on_path:
                if der_of(candidate) != der_of(cert):
                    self._note("certificate loop at %s" % describe_name(candidate.subject))
                continue  # a self-signed certificate that is not trusted
            explored = True
            if self._link_ok(cert, candidate):
                yield from self._extend(path + [candidate])
        if not explored:
            self.dead_ends.append(cert)

    def _link_ok(self, cert, issuer):
        key = (der_of(cert), der_of(issuer))
        if key not in self._links:
            self._links[key] = self._check_link(cert, issuer)
        return self._links[key]

    def _check_link(self, cert, issuer):
        try:
            public_key = public_key_of_certificate(issuer)
        except QpkiError as exc:
            self._note("issuer %s of certificate %s: %s" % (
                describe_name(issuer.subject), describe_name(cert.subject), exc))
            return False
        try:
            verify_certificate_signature(cert, public_key, issuer.subject)
        except VerificationError as exc:
            self._note(str(exc), signature=True)
            return False
        return True

    def _note(self, message, signature=False):
        if message not in self.problems:
            self.problems.append(message)
            if signature:
                self.signature_problems.append(message)
