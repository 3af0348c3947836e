"""Capability detection and the choice of signing mechanism.

The three tokens of the matrix (tests/tokens) all offer the raw signing
mechanisms, so a token that only hashes and signs by itself cannot be met
here: these tests take a real SoftHSM2 session and hide the raw mechanisms
from qpki's view of its mechanism list (the one fault injected). The
signatures still come from the token and are verified by cryptography.
SoftHSM2 2.6 has no CKM_ECDSA_SHA*; ECDSA hash-and-sign is exercised on
tpm2-pkcs11 (tests/tokens/test_matrix_sessions.py).
"""

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from qpki.errors import HsmError
from qpki.hsm.capabilities import algorithm_support, mechanism_table, token_support
from qpki.hsm.session import connect
from qpki.signer.pkcs11 import Pkcs11Signer

pytestmark = pytest.mark.hsm

RAW = ("ECDSA", "RSA_PKCS", "RSA_PKCS_PSS")


def without(hsm, names):
    """Hide ``names`` from qpki's view of the session's mechanisms."""
    table = mechanism_table(hsm)
    hsm._mechanism_table = {name: info for name, info in table.items() if name not in names}


def test_softhsm_supports_every_hsm_algorithm(token):
    with connect(token.config()) as hsm:
        report = {support.algorithm: support for support in token_support(hsm)}
    assert sorted(report) == ["ecdsa-p256", "ecdsa-p384", "ecdsa-p521",
                              "rsa-2048", "rsa-3072", "rsa-4096"]
    for support in report.values():
        assert support.generate and support.sign and not support.reason, support
    assert report["ecdsa-p384"].sign_mechanism == "CKM_ECDSA"
    assert report["rsa-2048"].sign_mechanism == "CKM_RSA_PKCS"


@pytest.mark.parametrize("options,pad", [
    (None, padding.PKCS1v15()),
    ({"scheme": "pss"}, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)),
])
def test_rsa_hash_and_sign_when_the_token_has_no_raw_rsa(token, options, pad):
    token.keygen("rsa:2048", "rsa-key", "02")
    with connect(token.config()) as hsm:
        without(hsm, RAW)
        with Pkcs11Signer(token.config(), "rsa-2048", label="rsa-key", options=options,
                          session=hsm) as signer:
            message = b"to be signed"
            signer.public_key().verify(signer.sign(message), message, pad, hashes.SHA256())


def test_no_signing_mechanism_is_refused_before_signing(token):
    token.keygen("EC:secp384r1", "ec-key", "01")
    with connect(token.config()) as hsm:
        without(hsm, ("ECDSA", "ECDSA_SHA256", "ECDSA_SHA384", "ECDSA_SHA512"))
        assert not algorithm_support(hsm, "ecdsa-p384").sign
        with pytest.raises(HsmError) as info:
            Pkcs11Signer(token.config(), "ecdsa-p384", label="ec-key", session=hsm)
    assert str(info.value) == ("token 'CA-Token' cannot sign with ecdsa-p384 "
                               "(no CKM_ECDSA for signing)")


def test_rsa_hash_only_signer_refuses_a_bare_digest(token):
    token.keygen("rsa:2048", "rsa-key", "02")
    with connect(token.config()) as hsm:
        without(hsm, RAW)
        with Pkcs11Signer(token.config(), "rsa-2048", label="rsa-key", session=hsm) as signer:
            with pytest.raises(HsmError, match="signs whole messages only"):
                signer.sign_digest(b"\0" * 32, hashes.SHA256())
