"""Pkcs11Signer against a real SoftHSM2 token: signatures verify with the
token's public key, certificates verify with openssl, and the security
invariant is enforced before anything is signed."""

import datetime
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import NameOID

from qpki.errors import HsmError, UsageError
from qpki.hsm.session import active_logins
from qpki.signer.pkcs11 import Pkcs11Signer

from .conftest import assert_no_secret

pytestmark = pytest.mark.hsm

EC_KEYS = {"ecdsa-p256": ("EC:prime256v1", hashes.SHA256),
           "ecdsa-p384": ("EC:secp384r1", hashes.SHA384),
           "ecdsa-p521": ("EC:secp521r1", hashes.SHA512)}


@pytest.mark.parametrize("algorithm", sorted(EC_KEYS))
def test_ecdsa_signatures_verify(token, algorithm):
    key_type, hash_cls = EC_KEYS[algorithm]
    token.keygen(key_type, "ec-key", "01")
    with Pkcs11Signer(token.config(), algorithm, label="ec-key") as signer:
        public = signer.public_key()
        for message in (b"", b"tbs certificate bytes", bytes(range(256)) * 40):
            signature = signer.sign(message)
            public.verify(signature, message, ec.ECDSA(hash_cls()))
            utils.decode_dss_signature(signature)  # DER, not raw r||s


def test_rsa_pkcs1v15_signature_verifies(token):
    token.keygen("rsa:2048", "rsa-key", "02")
    with Pkcs11Signer(token.config(), "rsa-2048", key_id="02") as signer:
        signature = signer.sign(b"to be signed")
        signer.public_key().verify(signature, b"to be signed", padding.PKCS1v15(),
                                   hashes.SHA256())
    with Pkcs11Signer(token.config(), "rsa-2048", key_id="02",
                      options={"hash": "sha512"}) as signer:
        signature = signer.sign(b"to be signed")
        signer.public_key().verify(signature, b"to be signed", padding.PKCS1v15(),
                                   hashes.SHA512())


def test_rsa_pss_signature_verifies(token):
    token.keygen("rsa:2048", "rsa-key", "02")
    with Pkcs11Signer(token.config(), "rsa-2048", label="rsa-key",
                      options={"scheme": "pss"}) as signer:
        signature = signer.sign(b"to be signed")
        # Salt length must be the digest length (32), not merely "some" length.
        signer.public_key().verify(
            signature, b"to be signed",
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())


def _self_signed(key, hash_algorithm, **sign_kw):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "HSM Root CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(name).issuer_name(name)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=1))
               .not_valid_after(now + datetime.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
               .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                            False, False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False))
    return builder.sign(key, hash_algorithm, **sign_kw)


def _openssl_verify(tmp_path, cert):
    path = tmp_path / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    result = subprocess.run(["openssl", "verify", "-CAfile", str(path), str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(": OK")


def test_certificate_built_with_crypto_key_verifies_with_openssl(token, tmp_path,
                                                                 count_token_signs):
    token.keygen("EC:secp384r1", "root-ca-key", "01")
    with Pkcs11Signer(token.config(), "ecdsa-p384", label="root-ca-key", key_id="01") as signer:
        key = signer.crypto_key()
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        cert = _self_signed(key, hashes.SHA384())
        assert cert.public_key() == signer.public_key()
    assert len(count_token_signs) == 1
    assert cert.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.ECDSA_WITH_SHA384
    _openssl_verify(tmp_path, cert)


def test_rsa_crypto_key_honours_the_padding(token, tmp_path):
    token.keygen("rsa:2048", "rsa-key", "02")
    with Pkcs11Signer(token.config(), "rsa-2048", label="rsa-key",
                      options={"scheme": "pss"}) as signer:
        key = signer.crypto_key()
        assert isinstance(key, rsa.RSAPrivateKey)
        pss = _self_signed(key, hashes.SHA256(),
                           rsa_padding=padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                   salt_length=padding.PSS.DIGEST_LENGTH))
        pkcs1 = _self_signed(key, hashes.SHA256())
    assert pss.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.RSASSA_PSS
    assert pkcs1.signature_algorithm_oid == x509.oid.SignatureAlgorithmOID.RSA_WITH_SHA256
    for cert in (pss, pkcs1):
        cert.verify_directly_issued_by(cert)
        _openssl_verify(tmp_path, cert)


def test_crypto_key_refuses_export(token):
    token.keygen("EC:prime256v1", "k", "01")
    with Pkcs11Signer(token.config(), "ecdsa-p256", label="k") as signer:
        key = signer.crypto_key()
        with pytest.raises(HsmError, match="cannot be exported"):
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
        with pytest.raises(HsmError):
            key.private_numbers()


def test_prehashed_signing_through_crypto_key(token):
    token.keygen("EC:prime256v1", "k", "01")
    with Pkcs11Signer(token.config(), "ecdsa-p256", label="k") as signer:
        digest = hashes.Hash(hashes.SHA256())
        digest.update(b"data")
        sig = signer.crypto_key().sign(digest.finalize(),
                                       ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        signer.public_key().verify(sig, b"data", ec.ECDSA(hashes.SHA256()))


def test_ec_key_of_wrong_curve_is_refused_before_signing(token, count_token_signs):
    token.keygen("EC:prime256v1", "root-ca-key", "01")
    with pytest.raises(HsmError) as info:
        Pkcs11Signer(token.config(), "ecdsa-p384", label="root-ca-key")
    assert str(info.value) == ("token key 'root-ca-key' is an EC secp256r1 key but profile "
                               "algorithm ecdsa-p384 needs an EC secp384r1 key")
    assert count_token_signs == []
    assert active_logins() == 0  # the signer logged out again
    assert_no_secret(info.value, token.pin)


def test_rsa_key_for_ec_algorithm_is_refused_before_signing(token, count_token_signs):
    token.keygen("rsa:2048", "root-ca-key", "01")
    with pytest.raises(HsmError) as info:
        Pkcs11Signer(token.config(), "ecdsa-p256", key_id="01")
    assert str(info.value) == ("token key 'root-ca-key' is an RSA-2048 key but profile "
                               "algorithm ecdsa-p256 needs an EC secp256r1 key")
    with pytest.raises(HsmError, match="is an RSA-2048 key but profile algorithm rsa-4096 "
                                       "needs an RSA-4096 key"):
        Pkcs11Signer(token.config(), "rsa-4096", key_id="01")
    assert count_token_signs == []


def test_ec_key_for_rsa_algorithm_is_refused(token, count_token_signs):
    token.keygen("EC:secp384r1", "root-ca-key", "01")
    with pytest.raises(HsmError, match="is an EC secp384r1 key but profile algorithm "
                                       "rsa-2048 needs an RSA-2048 key"):
        Pkcs11Signer(token.config(), "rsa-2048", label="root-ca-key")
    assert count_token_signs == []


@pytest.mark.parametrize("name", ["ml-dsa-65", "ml-dsa-87", "slh-dsa-sha2-128f"])
def test_pqc_algorithm_is_refused(token, name, count_logins):
    token.keygen("EC:secp384r1", "root-ca-key", "01")
    with pytest.raises(HsmError) as info:
        Pkcs11Signer(token.config(), name, label="root-ca-key")
    assert str(info.value) == ("algorithm %s is not available in HSM mode (PQC keys are "
                               "software-only)" % name)
    assert count_logins == []  # refused before the token is even opened
    assert_no_secret(info.value, token.pin)


def test_missing_key_reference_is_a_usage_error(token):
    with pytest.raises(UsageError):
        Pkcs11Signer(token.config(), "ecdsa-p256")


def test_missing_key_closes_the_session(token):
    with pytest.raises(HsmError, match="no private key with label 'absent'"):
        Pkcs11Signer(token.config(), "ecdsa-p256", label="absent")
    assert active_logins() == 0


def test_closed_signer_refuses_to_sign(token):
    token.keygen("EC:prime256v1", "k", "01")
    signer = Pkcs11Signer(token.config(), "ecdsa-p256", label="k")
    signer.close()
    signer.close()  # idempotent
    with pytest.raises(HsmError, match="closed"):
        signer.sign(b"late")


def test_signer_accepts_a_config_path(token):
    token.keygen("EC:prime256v1", "k", "01")
    with Pkcs11Signer(str(token.config_path), "ecdsa-p256", label="k") as signer:
        assert signer.algorithm.name == "ecdsa-p256"
        assert signer.sign(b"x")
