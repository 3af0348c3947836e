"""x509.path_length against openssl verify, on chains qpki would not make.

A root with pathLen 0, then either a self-issued CA certificate (same name,
new key: a key rollover, which RFC 5280 does not count against pathLen) or
an ordinary intermediate (which it does). openssl verify judges the leaf
below each; path_limit must agree.
"""

import datetime
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qpki.errors import InputError
from qpki.x509.path_length import check_path_length, path_limit

NOW = datetime.datetime.now(datetime.timezone.utc)


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def certificate(subject: str, key, issuer: str, issuer_key, path_len: int | None,
                ca: bool = True) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(hours=1))
               .not_valid_after(NOW + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len if ca else None),
                              critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuer_key.public_key()), critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def openssl_verifies(work: Path, root, intermediate, leaf) -> bool:
    for file_name, cert in (("root.pem", root), ("inter.pem", intermediate), ("leaf.pem", leaf)):
        (work / file_name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    done = subprocess.run(["openssl", "verify", "-CAfile", "root.pem", "-untrusted",
                           "inter.pem", "leaf.pem"], cwd=work, capture_output=True, text=True,
                          check=False)
    return done.returncode == 0


@pytest.mark.parametrize("self_issued", [True, False])
def test_path_limit_agrees_with_openssl(tmp_path, self_issued):
    root_key, inter_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for dummy in range(3))
    root = certificate("Root", root_key, "Root", root_key, path_len=0)
    inter_name = "Root" if self_issued else "Intermediate"
    inter = certificate(inter_name, inter_key, "Root", root_key, path_len=0)
    leaf = certificate("leaf.example.com", leaf_key, inter_name, inter_key, None, ca=False)

    verified = openssl_verifies(tmp_path, root, inter, leaf)
    assert verified is self_issued
    limit = path_limit([inter, root])
    assert (limit.holder, limit.path_len) == ((inter, 0) if self_issued else (root, 0))
    assert limit.room == (0 if self_issued else -1)
    if verified:  # leaves may follow, no CA may
        check_path_length([inter, root], False, None, "profile t/leaf", "ca")
        with pytest.raises(InputError, match="allows no CA certificate below it so profile"):
            check_path_length([inter, root], True, 0, "profile t/ca", "ca")
    else:  # nothing may follow
        for is_ca in (False, True):
            with pytest.raises(InputError, match="already has 1 CA certificates below it"):
                check_path_length([inter, root], is_ca, 0, "profile t/any", "ca")


def test_no_constraint_no_limit():
    key = ec.generate_private_key(ec.SECP256R1())
    assert path_limit([certificate("Root", key, "Root", key, path_len=None)]) is None
