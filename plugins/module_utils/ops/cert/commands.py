"""cert issue, cert info, cert verify (cert revoke and unhold: ops/cert/revoke.py)."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ...dependencies import missing

try:
    from cryptography import x509
except ImportError:
    x509 = missing()

from ...errors import InputError, VerificationError
from ...x509.parse import load_certificate, load_csr, public_key_of_csr
from .results import CertInfo, CertIssued, CertVerdict

if TYPE_CHECKING:
    from ...algorithms.base import Algorithm
    from ...profiles.profile import Profile

# verify(key, signature, data): raises on a bad signature or a key of another type
Verify = Callable[[Any, bytes, bytes], None]

# Issuing and verifying need the CA, signer, profile and ASN.1
# machinery; those modules are imported where they are used so that
# ``qpki cert info`` starts without them.

# Signature algorithms whose CSR check cryptography does natively with the
# same outcome as x509.signature (no parameters to judge, key type checked):
# ECDSA, PKCS#1 v1.5 RSA with SHA-2, EdDSA, ML-DSA. Anything else, and any
# CSR cryptography does not accept, goes through verify_csr_signature.
_native_verifiers: dict[str, Verify] | None = None  # {signature OID: verify(key, signature, data)}, made on first use


def _make_native_verifiers() -> dict[str, Verify]:
    """One verify function per signature OID checked natively (those this
    cryptography has): each refuses a key of another type (TypeError)
    and raises InvalidSignature on a bad signature."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

    def key_of(expected: type, verify: Verify) -> Verify:
        def checked(key: Any, signature: bytes, data: bytes) -> None:
            if not isinstance(key, expected):
                raise TypeError("key type does not match the signature algorithm")
            verify(key, signature, data)
        return checked

    def ecdsa(hash_type: type[hashes.HashAlgorithm]) -> Verify:
        return key_of(ec.EllipticCurvePublicKey,
                      lambda key, sig, data: key.verify(sig, data, ec.ECDSA(hash_type())))

    def pkcs1(hash_type: type[hashes.HashAlgorithm]) -> Verify:
        return key_of(rsa.RSAPublicKey, lambda key, sig, data: key.verify(
            sig, data, padding.PKCS1v15(), hash_type()))

    def pure(key_type: type) -> Verify:  # EdDSA, ML-DSA: the key signs the data itself
        return key_of(key_type, lambda key, sig, data: key.verify(sig, data))

    verifiers = {
        "1.2.840.10045.4.3.2": ecdsa(hashes.SHA256),
        "1.2.840.10045.4.3.3": ecdsa(hashes.SHA384),
        "1.2.840.10045.4.3.4": ecdsa(hashes.SHA512),
        "1.2.840.113549.1.1.11": pkcs1(hashes.SHA256),
        "1.2.840.113549.1.1.12": pkcs1(hashes.SHA384),
        "1.2.840.113549.1.1.13": pkcs1(hashes.SHA512),
        "1.3.101.112": pure(ed25519.Ed25519PublicKey),
        "1.3.101.113": pure(ed448.Ed448PublicKey),
    }
    try:
        from cryptography.hazmat.primitives.asymmetric import mldsa
    except ImportError:  # older cryptography: ML-DSA CSRs take the full check
        return verifiers
    verifiers.update({"2.16.840.1.101.3.4.3.17": pure(mldsa.MLDSA44PublicKey),
                      "2.16.840.1.101.3.4.3.18": pure(mldsa.MLDSA65PublicKey),
                      "2.16.840.1.101.3.4.3.19": pure(mldsa.MLDSA87PublicKey)})
    return verifiers


def _natively_verified_key(csr: x509.CertificateSigningRequest) -> Any:
    """The CSR's public key when cryptography verifies its self-signature
    natively, else None (the full check decides and explains). The key is
    loaded once, for the check and for the caller (is_signature_valid
    would load it a second time)."""
    global _native_verifiers
    if _native_verifiers is None:
        _native_verifiers = _make_native_verifiers()
    try:
        verify = _native_verifiers.get(csr.signature_algorithm_oid.dotted_string)
        if verify is None:
            return None
        key = csr.public_key()
        verify(key, csr.signature, csr.tbs_certrequest_bytes)
        return key
    except Exception:  # noqa: BLE001 - whatever cryptography refuses, the full check explains
        return None


def csr_request(csr_data: bytes, where: str) -> tuple[x509.CertificateSigningRequest, Any]:
    """(csr, public key) after checking the CSR's own signature."""
    csr = load_csr(csr_data, where)
    public_key = _natively_verified_key(csr)
    if public_key is not None:
        return csr, public_key
    from ...x509.signature import verify_csr_signature

    try:
        verify_csr_signature(csr)
    except VerificationError as exc:
        raise InputError("%s: CSR signature does not verify (%s)" % (where, exc)) from None
    return csr, public_key_of_csr(csr)


def csr_sans(csr: x509.CertificateSigningRequest | x509.Certificate) -> list[x509.GeneralName]:
    """The subjectAltName entries of a request (or of a certificate renewed from its names)."""
    try:
        return list(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        return []


@functools.lru_cache(maxsize=64)
def _subject_key_algorithm(profile: Profile) -> Algorithm:
    # Once per profile (immutable), not once per CSR of a batch.
    from ...algorithms.registry import get_algorithm
    from ..keys.hybrid import subject_algorithm

    return get_algorithm(subject_algorithm(profile))


def check_key_algorithm(profile: Profile, public_key: Any, where: str) -> None:
    expected = _subject_key_algorithm(profile)
    if not expected.matches_public_key(public_key):
        raise InputError("%s: key is a %s but profile %s expects %s"
                         % (where, expected.describe_public_key(public_key), profile.name,
                            expected.name))


def cert_issue(ca_dir: str, profile: Profile | str, csr_data: bytes, out: str | None = None,
               values: dict | None = None, csr_where: str = "CSR",
               passphrase: bytes | None = None) -> CertIssued:
    """``qpki cert issue --csr``: a batch of one (``batch.cert_issue_batch``
    in this process), so that the checks of the CSR and of ``out``, the
    signature, the records, the audit line and the output copy are those
    of every batch."""
    from .batch import CsrInput, cert_issue_batch

    done = cert_issue_batch(ca_dir, profile, [CsrInput(csr_data, csr_where, out, values=values)],
                            passphrase=passphrase, jobs=1)
    (entry,) = done.certificates
    return CertIssued(entry.serial, entry.subject, entry.not_after, entry.fingerprint_sha256,
                      entry.paths)


def cert_info(cert_data: bytes, where: str) -> CertInfo:
    from ..describe.objects import describe_certificate

    return CertInfo(describe_certificate(load_certificate(cert_data, where)))


def cert_verify(cert_data: bytes, ca_data: bytes, untrusted_data: bytes | None = None,
                crl_data: bytes | None = None, at: datetime.datetime | None = None,
                where: str = "certificate", classical_only: bool = False, *,
                crls: Iterable[bytes] = (), purpose: str | None = None,
                host: str | None = None, ip: str | None = None, email: str | None = None,
                max_depth: int | None = None, web_pki: bool = False,
                engine: str = "auto", strict: bool = False) -> CertVerdict:
    """Validate a certificate (ops.cert.verify.verify_chain) and summarise the
    result for the front ends; catalyst alternative signatures are checked
    too unless ``classical_only`` (verify like a legacy client). ``strict``
    refuses the legacy (pre-draft-13) composite form anywhere on the path."""
    from .verify import cert_verdict, verify_chain
    from ...x509.verify_policy import DEFAULT_MAX_DEPTH

    crls = ([crl_data] if crl_data else []) + list(crls)
    result = verify_chain(cert_data, ca_data, untrusted_data, crls, at=at, purpose=purpose,
                          host=host, ip=ip, email=email, web_pki=web_pki, engine=engine,
                          max_depth=DEFAULT_MAX_DEPTH if max_depth is None else max_depth,
                          classical_only=classical_only, where=where)
    return cert_verdict(result, at, strict, classical_only=classical_only, web_pki=web_pki,
                        purpose=purpose, host=host, ip=ip, email=email)
