"""OCSP responses (RFC 6960) from a CA's records.

``OcspResponder`` is opened once (the CA directory and the key that signs:
a delegated responder credential, or the CA's own active key) and answers
any number of DER requests. Each answer reads the CA's records afresh, so a
revocation is answered as revoked by the next request, without a restart.

What a request gets:

- a malformed one: ``malformedRequest``;
- one about another CA (no version of this CA has the issuer name and key
  hashes it names): ``unauthorized``;
- otherwise a signed ``successful`` response: ``good``, ``revoked`` (time
  and reason) or ``unknown`` (a serial this CA has no record of), with
  thisUpdate / nextUpdate, the request's nonce echoed, the responder named
  by its key hash (by its name when cryptography cannot read its key) and,
  for a delegated responder, its certificate included.

The response is signed by ``cryptography`` when the key allows it
(classical and ML-DSA keys, in a file or in a token; RSA with PKCS#1 v1.5), otherwise (SLH-DSA,
composite) built by ``cryptography`` as a draft and re-signed by our signer
(as for certificates and CRLs: ``x509.assemble``). A catalyst key signs with
its classical half: OCSP has no alternative signature.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass
from typing import Any

from ...dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp
except ImportError:
    x509 = hashes = serialization = ocsp = missing()

from ...algorithms.spki import spki_der, split_spki
from ...errors import InputError, StoreError
from ...store.ca_dir import CaDir
from ...store.cert_store import StatusLookup
from ...store.index import REVOKED
from ...x509.assemble import as_type_of, placeholder_key
from ...x509.certificate import utcnow
from ...x509.parse import load_certificate_file, public_key_of_certificate
from ..ca.keys import open_signer
from ..ca.publish import version_certificates
from ..credential.read import credential_certificate, open_credential
from .results import OcspSigned

MAX_REQUEST = 64 * 1024
_HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
           "sha512": hashlib.sha512}


@dataclass(frozen=True)
class IssuerHashes:
    name_hash: bytes
    key_hash: bytes


def issuer_hashes(cert: x509.Certificate, algorithm: str) -> IssuerHashes:
    """The CertID hashes of an issuer: its name and its public key bits."""
    digest = _HASHES[algorithm]
    dummy, bits = split_spki(spki_der(public_key_of_certificate(cert)))
    return IssuerHashes(digest(cert.subject.public_bytes()).digest(), digest(bits).digest())


def _status_of(records: StatusLookup, serial: int
               ) -> tuple[ocsp.OCSPCertStatus, datetime.datetime | None, x509.ReasonFlags | None]:
    """(cryptography status, revocation time, reason) from the CA's records:
    the one place the responder reads certificate status."""
    entry = records.find(serial)
    if entry is None:
        return ocsp.OCSPCertStatus.UNKNOWN, None, None
    if entry.status != REVOKED:
        return ocsp.OCSPCertStatus.GOOD, None, None
    reason = x509.ReasonFlags(entry.reason.value) if entry.reason else None
    return ocsp.OCSPCertStatus.REVOKED, entry.revoked_at, reason


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER)


def internal_error() -> bytes:
    """The response to a request the responder failed on (RFC 6960 internalError)."""
    return _unsuccessful(ocsp.OCSPResponseStatus.INTERNAL_ERROR)


class OcspResponder:
    """Answers OCSP requests for the CA at ``ca_dir``; use as a context
    manager (a token session stays open while it serves)."""

    def __init__(self, ca_dir: str | os.PathLike, responder_dir: str | os.PathLike | None = None,
                 passphrase: bytes | None = None, validity: datetime.timedelta | None = None):
        self.ca = CaDir(ca_dir).require()
        self._stand_in: x509.Certificate | None = None
        self._records = StatusLookup(self.ca)
        self._issuers_seen: tuple[tuple[int, int], list] | None = None
        self._hashes: dict[str, list[IssuerHashes]] = {}
        self._hashes_for: list | None = None
        self.validity = validity or datetime.timedelta(hours=1)
        if self.validity <= datetime.timedelta(0):
            raise InputError("the OCSP response validity must be positive")
        if responder_dir is not None:
            self.cert, self.signer = _open_credential(responder_dir, passphrase)
            self.delegated = True
            self._check_delegation()
        else:
            from ..ca.authority import Authority

            with Authority(ca_dir, passphrase) as authority:
                entry = authority.meta["keys"][0]
                self.cert = authority.cert
                self.signer = open_signer(entry["storage"], entry["algorithm"], self.ca.path,
                                          passphrase)
            self.delegated = False

    def _check_delegation(self) -> None:
        """A delegated responder must be certified by this CA for OCSPSigning."""
        from ..ensure import issued_by

        ca_cert = load_certificate_file(self.ca.cert)
        keys = [public_key_of_certificate(c) for dummy, c in self._issuers()]
        if not issued_by(self.cert, ca_cert, keys):
            raise InputError(f"the responder certificate was not issued by the CA in "
                             f"{self.ca.path}")
        usage: Any
        try:
            usage = self.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            usage = []
        if x509.ExtendedKeyUsageOID.OCSP_SIGNING not in usage:
            raise InputError("the responder certificate has no OCSPSigning extended key usage")

    def _issuers(self) -> list[tuple[str, Any]]:
        """(version, CA certificate) of every version; read again when
        ca.meta.json changes (a rotation)."""
        info = os.stat(self.ca.meta)
        stamp = (info.st_ino, info.st_mtime_ns)
        if self._issuers_seen is None or self._issuers_seen[0] != stamp:
            meta = self.ca.load_ca_meta()
            found = version_certificates(self.ca, meta)
            self._issuers_seen = (stamp, found or [(meta.active,
                                                    load_certificate_file(self.ca.cert))])
        return self._issuers_seen[1]

    def respond(self, request_der: bytes, now: datetime.datetime | None = None) -> bytes:
        """The DER OCSPResponse for one DER OCSPRequest."""
        if len(request_der) > MAX_REQUEST:
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        try:
            request = ocsp.load_der_ocsp_request(request_der)
            algorithm = request.hash_algorithm.name
            serial = request.serial_number
            nonce = _nonce(request)
        except (ValueError, TypeError, AttributeError):
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        if algorithm not in _HASHES:
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        asked = IssuerHashes(request.issuer_name_hash, request.issuer_key_hash)
        if asked not in self._known_hashes(algorithm):
            return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        now = (now or utcnow()).replace(microsecond=0)
        status, revoked_at, reason = _status_of(self._records, serial)
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            asked.name_hash, asked.key_hash, serial, request.hash_algorithm, status, now,
            now + self.validity, revoked_at, reason)
        named = self._named_by()
        builder = builder.responder_id(
            ocsp.OCSPResponderEncoding.HASH if named is self.cert
            else ocsp.OCSPResponderEncoding.NAME, named)
        if self.delegated:
            builder = builder.certificates([named])
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        return _sign(builder, self.signer, None if named is self.cert else self.cert)

    def _known_hashes(self, algorithm: str) -> list[IssuerHashes]:
        issuers = self._issuers()
        if self._hashes_for is not issuers:
            self._hashes, self._hashes_for = {}, issuers
        if algorithm not in self._hashes:
            self._hashes[algorithm] = [issuer_hashes(cert, algorithm) for dummy, cert in issuers]
        return self._hashes[algorithm]

    def _named_by(self) -> x509.Certificate:
        """The certificate the builder names the responder by: its own when
        ``cryptography`` can read its key (responder id by key hash), else a
        stand-in with the same subject (responder id by name), replaced by
        the real certificate when the response is re-signed."""
        if self._stand_in is None:
            try:
                self.cert.public_key()
                self._stand_in = self.cert
            except Exception:  # noqa: BLE001 - a key type cryptography does not know
                self._stand_in = _stand_in_certificate(self.cert)
        return self._stand_in

    def prepare(self) -> None:
        """Answer one request (about serial 0) now rather than wait for the
        first client: the CA's records are opened (SQLite makes ca.db-wal and
        ca.db-shm beside ca.db) and every module an answer needs is loaded,
        which a server that then gives up root might no longer be able to do."""
        known = self._known_hashes("sha1")[0]
        request = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
            known.name_hash, known.key_hash, 0, hashes.SHA1()).build()
        self.respond(request.public_bytes(serialization.Encoding.DER))

    def close(self) -> None:
        self._records.close()
        self.signer.close()

    def __enter__(self) -> OcspResponder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _nonce(request: ocsp.OCSPRequest) -> bytes | None:
    try:
        return request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None


def _open_credential(responder_dir: str | os.PathLike, passphrase: bytes | None
                     ) -> tuple[x509.Certificate, Any]:
    """(certificate, signer) of a responder credential directory."""
    root, cred_id = os.path.split(os.path.normpath(os.fspath(responder_dir)))
    files = open_credential(root or ".", cred_id)
    if not files.storage:
        raise StoreError(f"responder credential {responder_dir} lists no key")
    cert = credential_certificate(files)
    return cert, open_signer(files.storage[0], files.algorithm, os.fspath(files.cred.path),
                             passphrase)


def _stand_in_certificate(cert: x509.Certificate) -> x509.Certificate:
    now = utcnow()
    key = placeholder_key()
    return (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(cert.subject)
            .serial_number(1).not_valid_before(now).not_valid_after(now)
            .public_key(key.public_key()).sign(key, None))


def _sign(builder: ocsp.OCSPResponseBuilder, signer: Any,
          real_cert: x509.Certificate | None = None) -> bytes:
    """The signed response; ``real_cert`` replaces a stand-in certificate
    in the response's certs (re-signed path only)."""
    key = signer.crypto_key()
    algorithm = signer.algorithm
    if real_cert is None and key is not None \
            and algorithm.family in ("ec", "rsa", "ed25519", "ml-dsa"):
        digest = algorithm.hash_algorithm(signer.options) if algorithm.family in ("ec", "rsa") \
            else None
        return builder.sign(key, digest).public_bytes(serialization.Encoding.DER)
    return _resign(builder, signer, real_cert)


def _resign(builder: ocsp.OCSPResponseBuilder, signer: Any,
            real_cert: x509.Certificate | None = None) -> bytes:
    """A draft signed by a placeholder key, its BasicOCSPResponse re-signed
    by ``signer`` (SLH-DSA, composite: no AlgorithmIdentifier parameters)."""
    from pyasn1.codec.der import decoder, encoder
    from pyasn1.type import univ
    from pyasn1_modules import rfc6960

    draft = builder.sign(placeholder_key(), None).public_bytes(serialization.Encoding.DER)
    outer, dummy = decoder.decode(draft, asn1Spec=rfc6960.OCSPResponse())
    basic, dummy = decoder.decode(bytes(outer["responseBytes"]["response"]),
                                  asn1Spec=rfc6960.BasicOCSPResponse())
    alg = rfc6960.AlgorithmIdentifier()
    alg["algorithm"] = univ.ObjectIdentifier(signer.algorithm.signature_oid(signer.options))
    basic["signatureAlgorithm"] = alg
    if real_cert is not None and basic["certs"].isValue:
        from pyasn1_modules import rfc5280

        real, dummy = decoder.decode(real_cert.public_bytes(serialization.Encoding.DER),
                                     asn1Spec=rfc5280.Certificate())
        basic["certs"][0] = as_type_of(basic["certs"][0], encoder.encode(real))
    basic["signature"] = univ.BitString.fromOctetString(
        signer.sign(encoder.encode(basic["tbsResponseData"])))
    outer["responseBytes"]["response"] = univ.OctetString(encoder.encode(basic))
    return encoder.encode(outer)


def ocsp_sign(ca_dir: str | os.PathLike, request_der: bytes, out: str | os.PathLike,
              responder_dir: str | os.PathLike | None = None, passphrase: bytes | None = None,
              validity_minutes: int = 60) -> OcspSigned:
    """One response for one request, written to ``out`` (offline use)."""
    from ...store.atomic import write_file

    with OcspResponder(ca_dir, responder_dir, passphrase,
                       datetime.timedelta(minutes=validity_minutes)) as responder:
        der = responder.respond(request_der)
    write_file(out, der)
    return OcspSigned(changed=True, path=os.fspath(out), response=describe_response(der))


def describe_response(der: bytes) -> dict[str, Any]:
    """The response status and, for a successful one, the certificate status."""
    response = ocsp.load_der_ocsp_response(der)
    result: dict[str, Any] = {"response_status": response.response_status.name.lower()}
    if response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL:
        result.update(cert_status=response.certificate_status.name.lower(),
                      serial=f"{response.serial_number:X}",
                      this_update=response.this_update_utc.isoformat(),
                      next_update=response.next_update_utc.isoformat()
                      if response.next_update_utc else None)
        if response.revocation_time_utc is not None:
            result["revoked_at"] = response.revocation_time_utc.isoformat()
            result["reason"] = response.revocation_reason.value \
                if response.revocation_reason else None
    return result
