"""A tiny CA kit: certificates and CRLs built with cryptography's builders
(EC, RSA, RSA-PSS, Ed25519, ML-DSA keys), for the path validation tests."""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa
from cryptography.x509.oid import NameOID

UTC = datetime.timezone.utc
START = datetime.datetime(2026, 1, 1, tzinfo=UTC)
AT = datetime.datetime(2026, 3, 1, tzinfo=UTC)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _sign_args(key, digest, pss):
    if isinstance(key, (ed25519.Ed25519PrivateKey, mldsa.MLDSA44PrivateKey,
                        mldsa.MLDSA65PrivateKey, mldsa.MLDSA87PrivateKey)):
        return (None,), {}
    if pss is not None:
        return (digest,), {"rsa_padding": pss}
    return (digest,), {}


_SERIAL = [100]


def issue(cn, key, issuer=None, *, ca=False, path_length=None, basic_constraints=True,
          key_usage="default", not_before=START, days=365, digest=None, pss=None,
          issuer_name=None, aki=True, serial=None, extensions=(), subject=None):
    """(certificate, private key); ``issuer`` is a (certificate, key) pair or
    None for a self-signed certificate; ``extensions`` are more
    (ExtensionType, critical) pairs; ``subject`` a whole Name instead of CN=cn."""
    issuer_cert, issuer_key = issuer if issuer else (None, key)
    _SERIAL[0] += 1
    builder = (x509.CertificateBuilder()
               .subject_name(subject or _name(cn))
               .issuer_name(issuer_name or (issuer_cert.subject if issuer_cert
                                            else subject or _name(cn)))
               .public_key(key.public_key())
               .serial_number(serial or _SERIAL[0])
               .not_valid_before(not_before)
               .not_valid_after(not_before + datetime.timedelta(days=days))
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              False))
    if aki:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False)
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=path_length),
                                        True)
    if key_usage == "default":
        key_usage = {"key_cert_sign", "crl_sign"} if ca else {"digital_signature"}
    if key_usage is not None:
        flags = dict.fromkeys(["digital_signature", "content_commitment", "key_encipherment",
                               "data_encipherment", "key_agreement", "key_cert_sign",
                               "crl_sign", "encipher_only", "decipher_only"], False)
        flags.update(dict.fromkeys(key_usage, True))
        builder = builder.add_extension(x509.KeyUsage(**flags), True)
    for value, critical in extensions:
        builder = builder.add_extension(value, critical)
    args, kwargs = _sign_args(issuer_key, digest or hashes.SHA256(), pss)
    return builder.sign(issuer_key, *args, **kwargs), key


CRL_START = datetime.datetime(2026, 2, 20, tzinfo=UTC)


def make_crl(issuer, revoked=(), *, this_update=CRL_START, days=30, signer=None,
             extensions=()):
    """A CRL from ``issuer`` (cert, key); revoked: [(serial, reason or None, date)]."""
    cert, key = issuer
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(cert.subject)
               .last_update(this_update)
               .next_update(this_update + datetime.timedelta(days=days))
               .add_extension(x509.CRLNumber(1), False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   key.public_key()), False))
    for value, critical in extensions:
        builder = builder.add_extension(value, critical)
    for serial, reason, date in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(date)
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), False)
        builder = builder.add_revoked_certificate(entry.build())
    signing_key = signer or key
    args, kwargs = _sign_args(signing_key, hashes.SHA256(), None)
    return builder.sign(signing_key, *args, **kwargs)


def p256():
    return ec.generate_private_key(ec.SECP256R1())


def p384():
    return ec.generate_private_key(ec.SECP384R1())
