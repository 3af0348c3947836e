"""Which PKCS#11 mechanisms an algorithm of the registry needs in a token.

Names are python-pkcs11's ``Mechanism`` member names (``EC_KEY_PAIR_GEN``
is ``CKM_EC_KEY_PAIR_GEN``); this layer does not import PKCS#11 code. The
``hsm`` package compares them with what a token offers.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class HsmMechanisms:
    """What generating and signing with one algorithm takes in a token.

    ``sign_raw`` signs a digest computed by qpki (``ECDSA``, ``RSA_PKCS``
    over a DigestInfo, ``RSA_PKCS_PSS``); ``sign_hashed`` maps a hash name to
    the mechanism that hashes and signs inside the token, used when the
    token offers no raw mechanism. ``key_bits`` is checked against the
    token's advertised key sizes for the generation and signing mechanisms.
    """

    keygen: str
    sign_raw: str
    sign_hashed: dict
    key_bits: int
    pss_raw: str = ""
    pss_hashed: dict = dataclasses.field(default_factory=dict)


def ec_mechanisms(key_bits):
    return HsmMechanisms(
        keygen="EC_KEY_PAIR_GEN", sign_raw="ECDSA",
        sign_hashed={"sha256": "ECDSA_SHA256", "sha384": "ECDSA_SHA384",
                     "sha512": "ECDSA_SHA512"},
        key_bits=key_bits)


def rsa_mechanisms(key_bits):
    return HsmMechanisms(
        keygen="RSA_PKCS_KEY_PAIR_GEN", sign_raw="RSA_PKCS",
        sign_hashed={"sha256": "SHA256_RSA_PKCS", "sha384": "SHA384_RSA_PKCS",
                     "sha512": "SHA512_RSA_PKCS"},
        key_bits=key_bits, pss_raw="RSA_PKCS_PSS",
        pss_hashed={"sha256": "SHA256_RSA_PKCS_PSS", "sha384": "SHA384_RSA_PKCS_PSS",
                    "sha512": "SHA512_RSA_PKCS_PSS"})
