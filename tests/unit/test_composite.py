"""Composite ML-DSA (draft-13): our own keys, independent checks, registry, errors.

The independent checks do not trust build_message_representative or the
parameter table: M' is assembled here from the text of draft-13 (section
3.2 and the per-algorithm bullets of section 7, transcribed below), the
ML-DSA component is verified with dilithium-py (a second, pure-Python
ML-DSA) with the Label as its context, and the traditional component with
``cryptography`` called directly.
"""

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.type import univ
from pyasn1_modules import rfc5280

from qpki.algorithms import composite
from qpki.algorithms.composite import (
    COMPOSITE_ALGORITHMS,
    COMPOSITE_PREFIX,
    CompositePrivateKey,
    CompositePublicKey,
    build_message_representative,
    composite_for_pair,
    is_legacy_encoding,
    params_by_name,
    params_by_oid,
    parse_legacy_composite_public_key,
    parse_legacy_composite_signature,
)
from qpki.errors import InputError, QpkiError, VerificationError

# ---------------------------------------------------------------------------
# Draft-13 section 7, transcribed: draft name -> (OID, Label, PH, ML-DSA,
# traditional: kind, curve/size, hash, padding/salt).
# ---------------------------------------------------------------------------


def SHA256(m):
    return hashlib.sha256(m).digest()


def SHA512(m):
    return hashlib.sha512(m).digest()


def SHAKE256_64(m):
    return hashlib.shake_256(m).digest(64)


DRAFT13 = {
    "id-MLDSA44-RSA2048-PSS-SHA256": ("1.3.6.1.5.5.7.6.37", "COMPSIG-MLDSA44-RSA2048-PSS-SHA256", SHA256, 44, ("rsa", 2048, "sha256", 32)),
    "id-MLDSA44-RSA2048-PKCS15-SHA256": ("1.3.6.1.5.5.7.6.38", "COMPSIG-MLDSA44-RSA2048-PKCS15-SHA256", SHA256, 44, ("rsa", 2048, "sha256", None)),
    "id-MLDSA44-Ed25519-SHA512": ("1.3.6.1.5.5.7.6.39", "COMPSIG-MLDSA44-Ed25519-SHA512", SHA512, 44, ("ed25519",)),
    "id-MLDSA44-ECDSA-P256-SHA256": ("1.3.6.1.5.5.7.6.40", "COMPSIG-MLDSA44-ECDSA-P256-SHA256", SHA256, 44, ("ecdsa", "secp256r1", "sha256")),
    "id-MLDSA65-RSA3072-PSS-SHA512": ("1.3.6.1.5.5.7.6.41", "COMPSIG-MLDSA65-RSA3072-PSS-SHA512", SHA512, 65, ("rsa", 3072, "sha256", 32)),
    "id-MLDSA65-RSA3072-PKCS15-SHA512": ("1.3.6.1.5.5.7.6.42", "COMPSIG-MLDSA65-RSA3072-PKCS15-SHA512", SHA512, 65, ("rsa", 3072, "sha256", None)),
    "id-MLDSA65-RSA4096-PSS-SHA512": ("1.3.6.1.5.5.7.6.43", "COMPSIG-MLDSA65-RSA4096-PSS-SHA512", SHA512, 65, ("rsa", 4096, "sha384", 48)),
    "id-MLDSA65-RSA4096-PKCS15-SHA512": ("1.3.6.1.5.5.7.6.44", "COMPSIG-MLDSA65-RSA4096-PKCS15-SHA512", SHA512, 65, ("rsa", 4096, "sha384", None)),
    "id-MLDSA65-ECDSA-P256-SHA512": ("1.3.6.1.5.5.7.6.45", "COMPSIG-MLDSA65-P256-SHA512", SHA512, 65, ("ecdsa", "secp256r1", "sha256")),
    "id-MLDSA65-ECDSA-P384-SHA512": ("1.3.6.1.5.5.7.6.46", "COMPSIG-MLDSA65-P384-SHA512", SHA512, 65, ("ecdsa", "secp384r1", "sha384")),
    "id-MLDSA65-ECDSA-brainpoolP256r1-SHA512": ("1.3.6.1.5.5.7.6.47", "COMPSIG-MLDSA65-BP256-SHA512", SHA512, 65, ("ecdsa", "brainpoolP256r1", "sha256")),
    "id-MLDSA65-Ed25519-SHA512": ("1.3.6.1.5.5.7.6.48", "COMPSIG-MLDSA65-Ed25519-SHA512", SHA512, 65, ("ed25519",)),
    "id-MLDSA87-ECDSA-P384-SHA512": ("1.3.6.1.5.5.7.6.49", "COMPSIG-MLDSA87-P384-SHA512", SHA512, 87, ("ecdsa", "secp384r1", "sha384")),
    "id-MLDSA87-ECDSA-brainpoolP384r1-SHA512": ("1.3.6.1.5.5.7.6.50", "COMPSIG-MLDSA87-BP384-SHA512", SHA512, 87, ("ecdsa", "brainpoolP384r1", "sha384")),
    "id-MLDSA87-Ed448-SHAKE256": ("1.3.6.1.5.5.7.6.51", "COMPSIG-MLDSA87-Ed448-SHAKE256", SHAKE256_64, 87, ("ed448",)),
    "id-MLDSA87-RSA3072-PSS-SHA512": ("1.3.6.1.5.5.7.6.52", "COMPSIG-MLDSA87-RSA3072-PSS-SHA512", SHA512, 87, ("rsa", 3072, "sha256", 32)),
    "id-MLDSA87-RSA4096-PSS-SHA512": ("1.3.6.1.5.5.7.6.53", "COMPSIG-MLDSA87-RSA4096-PSS-SHA512", SHA512, 87, ("rsa", 4096, "sha384", 48)),
    "id-MLDSA87-ECDSA-P521-SHA512": ("1.3.6.1.5.5.7.6.54", "COMPSIG-MLDSA87-P521-SHA512", SHA512, 87, ("ecdsa", "secp521r1", "sha512")),
}

# Section 3.2: "CompositeAlgorithmSignatures2025", as the draft gives it in hex.
DRAFT_PREFIX = bytes.fromhex("436F6D706F73697465416C676F726974686D5369676E61747572657332303235")

DILITHIUM = {44: ML_DSA_44, 65: ML_DSA_65, 87: ML_DSA_87}
MLDSA_SIG_LEN = {44: 2420, 65: 3309, 87: 4627}
HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}

ALL_NAMES = sorted(COMPOSITE_ALGORITHMS)


def draft_m_prime(draft_name: str, message: bytes, ctx: bytes) -> bytes:
    """M' := Prefix || Label || len(ctx) || ctx || PH(M), from the draft text."""
    dummy, label, ph, dummy, dummy = DRAFT13[draft_name]
    return DRAFT_PREFIX + label.encode("ascii") + len(ctx).to_bytes(1, "big") + ctx + ph(message)


def verify_traditional_directly(trad_spec, public_key, signature, data):
    kind = trad_spec[0]
    if kind == "rsa":
        dummy, dummy, hname, salt = trad_spec
        h = HASHES[hname]()
        pad = padding.PKCS1v15() if salt is None else padding.PSS(padding.MGF1(HASHES[hname]()), salt)
        public_key.verify(signature, data, pad, h)
    elif kind == "ecdsa":
        public_key.verify(signature, data, ec.ECDSA(HASHES[trad_spec[2]]()))
    else:
        public_key.verify(signature, data)


@pytest.fixture(scope="module")
def keys():
    """One freshly generated composite key per algorithm, shared by the tests."""
    return {name: CompositePrivateKey.generate(COMPOSITE_ALGORITHMS[name]) for name in ALL_NAMES}


# --- parameter table ---------------------------------------------------------

@pytest.mark.parametrize("name", ALL_NAMES)
def test_params_match_draft13_section7(name):
    p = COMPOSITE_ALGORITHMS[name]
    oid, label, ph, level, trad = DRAFT13[p.draft_name]
    assert p.name == name
    assert p.oid == oid
    assert p.label == label.encode()
    assert p.mldsa == f"ml-dsa-{level}"
    digest = hashes.Hash(p.prehash_algorithm())
    digest.update(b"abc")
    assert digest.finalize() == ph(b"abc")
    assert p.trad.kind == trad[0]
    if trad[0] == "rsa":
        assert p.trad.key_size == trad[1]
        assert p.trad.hash.name == trad[2]
        assert p.trad.padding == ("pkcs1v15" if trad[3] is None else "pss")
        assert p.trad.salt_length == trad[3]
    elif trad[0] == "ecdsa":
        assert p.trad.curve == trad[1]
        assert p.trad.hash.name == trad[2]
    assert params_by_oid(oid) is p
    assert params_by_name(name) is p


def test_registry_names():
    assert set(COMPOSITE_ALGORITHMS) == {
        "composite-mldsa44-rsa2048-pss", "composite-mldsa44-rsa2048-pkcs15",
        "composite-mldsa44-ed25519", "composite-mldsa44-ecdsa-p256",
        "composite-mldsa65-rsa3072-pss", "composite-mldsa65-rsa3072-pkcs15",
        "composite-mldsa65-rsa4096-pss", "composite-mldsa65-rsa4096-pkcs15",
        "composite-mldsa65-ecdsa-p256", "composite-mldsa65-ecdsa-p384",
        "composite-mldsa65-ecdsa-brainpoolp256r1", "composite-mldsa65-ed25519",
        "composite-mldsa87-ecdsa-p384", "composite-mldsa87-ecdsa-brainpoolp384r1",
        "composite-mldsa87-ed448", "composite-mldsa87-rsa3072-pss",
        "composite-mldsa87-rsa4096-pss", "composite-mldsa87-ecdsa-p521",
    }


def test_params_by_oid_unknown():
    assert params_by_oid("2.16.840.1.101.3.4.3.18") is None  # pure ML-DSA-65
    assert params_by_oid("1.3.6.1.5.5.7.6.55") is None
    with pytest.raises(InputError):
        params_by_name("composite-mldsa65-rsa2048-pss")


@pytest.mark.parametrize("classical,pqc,kwargs,expected", [
    ("ecdsa-p256", "ml-dsa-44", {}, "composite-mldsa44-ecdsa-p256"),
    ("ecdsa-p256", "ml-dsa-65", {}, "composite-mldsa65-ecdsa-p256"),
    ("ecdsa-p384", "ml-dsa-65", {}, "composite-mldsa65-ecdsa-p384"),
    ("ecdsa-p384", "ml-dsa-87", {}, "composite-mldsa87-ecdsa-p384"),
    ("ecdsa-p521", "ml-dsa-87", {}, "composite-mldsa87-ecdsa-p521"),
    ("ed25519", "ml-dsa-44", {}, "composite-mldsa44-ed25519"),
    ("ed25519", "ml-dsa-65", {}, "composite-mldsa65-ed25519"),
    ("ed448", "ml-dsa-87", {}, "composite-mldsa87-ed448"),
    ("rsa-2048", "ml-dsa-44", {}, "composite-mldsa44-rsa2048-pkcs15"),
    ("rsa-2048", "ml-dsa-44", {"pss": False}, "composite-mldsa44-rsa2048-pkcs15"),
    ("rsa-2048", "ml-dsa-44", {"pss": True}, "composite-mldsa44-rsa2048-pss"),
    ("rsa-3072", "ml-dsa-65", {}, "composite-mldsa65-rsa3072-pkcs15"),
    ("rsa-3072", "ml-dsa-65", {"pss": True}, "composite-mldsa65-rsa3072-pss"),
    ("rsa-4096", "ml-dsa-65", {"pss": True}, "composite-mldsa65-rsa4096-pss"),
    ("rsa-4096", "ml-dsa-65", {}, "composite-mldsa65-rsa4096-pkcs15"),
    ("rsa-3072", "ml-dsa-87", {}, "composite-mldsa87-rsa3072-pss"),
    ("rsa-3072", "ml-dsa-87", {"pss": True}, "composite-mldsa87-rsa3072-pss"),
    ("rsa-4096", "ml-dsa-87", {}, "composite-mldsa87-rsa4096-pss"),
    ("ecdsa-brainpoolp256r1", "ml-dsa-65", {}, "composite-mldsa65-ecdsa-brainpoolp256r1"),
])
def test_composite_for_pair(classical, pqc, kwargs, expected):
    assert composite_for_pair(classical, pqc, **kwargs).name == expected


@pytest.mark.parametrize("classical,pqc,kwargs", [
    ("ecdsa-p521", "ml-dsa-65", {}),
    ("ecdsa-p256", "ml-dsa-87", {}),
    ("ed25519", "ml-dsa-87", {}),
    ("rsa-3072", "ml-dsa-44", {}),
    ("rsa-4096", "ml-dsa-87", {"pss": False}),  # the draft has PSS only there
    ("rsa-1024", "ml-dsa-44", {}),
    ("ecdsa-p256", "ml-dsa-99", {}),
    ("ml-dsa-65", "ecdsa-p256", {}),
])
def test_composite_for_pair_undefined(classical, pqc, kwargs):
    with pytest.raises(InputError) as err:
        composite_for_pair(classical, pqc, **kwargs)
    assert "\n" not in str(err.value)


# --- M' pinned against the draft ---------------------------------------------

def test_prefix_is_the_draft_constant():
    assert COMPOSITE_PREFIX == DRAFT_PREFIX == b"CompositeAlgorithmSignatures2025"


def test_m_prime_matches_draft13_appendix_d():
    """Both worked examples of draft-13 appendix D (id-MLDSA65-ECDSA-P256-SHA512)."""
    p = COMPOSITE_ALGORITHMS["composite-mldsa65-ecdsa-p256"]
    m = bytes.fromhex("00010203040506070809")
    no_ctx = bytes.fromhex(
        "436f6d706f73697465416c676f726974686d5369676e6174757265733230323"
        "5434f4d505349472d4d4c44534136352d503235362d534841353132000f89ee1fcb"
        "7b0a4f7809d1267a029719004c5a5e5ec323a7c3523a20974f9a3f202f56fadba4c"
        "d9e8d654ab9f2e96dc5c795ea176fa20ede8d854c342f903533")
    with_ctx = bytes.fromhex(
        "436f6d706f73697465416c676f726974686d5369676e6174757265733230323"
        "5434f4d505349472d4d4c44534136352d503235362d534841353132080813061205"
        "1626230f89ee1fcb7b0a4f7809d1267a029719004c5a5e5ec323a7c3523a20974f9"
        "a3f202f56fadba4cd9e8d654ab9f2e96dc5c795ea176fa20ede8d854c342f903533")
    assert build_message_representative(p, m, b"") == no_ctx
    assert build_message_representative(p, m, bytes.fromhex("0813061205162623")) == with_ctx


def test_m_prime_assembled_by_hand_ed448():
    """id-MLDSA87-Ed448-SHAKE256: PH is SHAKE256 with 64 bytes of output."""
    p = COMPOSITE_ALGORITHMS["composite-mldsa87-ed448"]
    m, ctx = b"composite message", b"\x01\x02\x03"
    expected = (
        b"CompositeAlgorithmSignatures2025"
        + b"COMPSIG-MLDSA87-Ed448-SHAKE256"
        + b"\x03" + b"\x01\x02\x03"
        + hashlib.shake_256(m).digest(64)
    )
    assert build_message_representative(p, m, ctx) == expected


@pytest.mark.parametrize("name", ALL_NAMES)
def test_m_prime_matches_draft_for_every_algorithm(name):
    p = COMPOSITE_ALGORITHMS[name]
    for ctx in (b"", b"x", bytes(range(255))):
        assert build_message_representative(p, b"msg", ctx) == draft_m_prime(p.draft_name, b"msg", ctx)


# --- our own keys --------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_NAMES)
def test_generate_sign_verify_round_trip(keys, name):
    sk = keys[name]
    pk = sk.public_key()
    sig = sk.sign(b"hello composite")
    pk.verify(sig, b"hello composite")
    sig_ctx = sk.sign(b"hello composite", ctx=b"app-ctx")
    pk.verify(sig_ctx, b"hello composite", ctx=b"app-ctx")
    with pytest.raises(VerificationError):
        pk.verify(sig_ctx, b"hello composite")
    with pytest.raises(VerificationError):
        pk.verify(sig, b"hello composite!")


@pytest.mark.parametrize("name", ALL_NAMES)
def test_key_serialisation_round_trips(keys, name):
    sk = keys[name]
    p = sk.params
    raw = sk.private_bytes_raw()
    assert len(raw) > 32
    again = CompositePrivateKey.from_private_bytes(p, raw)
    assert again.private_bytes_raw() == raw
    assert again.public_key() == sk.public_key()

    from_p8 = CompositePrivateKey.from_pkcs8(sk.private_bytes_pkcs8())
    assert from_p8.params is p and from_p8.private_bytes_raw() == raw

    pk = sk.public_key()
    assert CompositePublicKey.from_bytes(p, pk.public_bytes_raw()) == pk
    assert CompositePublicKey.from_spki(pk.spki_der()) == pk
    assert pk.public_bytes_raw()[:p.mldsa_public_key_size] == sk.mldsa_key.public_key().public_bytes_raw()


@pytest.mark.parametrize("name", ALL_NAMES)
def test_independent_check_of_our_signatures(keys, name):
    """ML-DSA part with dilithium-py, traditional part with cryptography, both
    over an M' assembled here from the draft text."""
    sk = keys[name]
    p = sk.params
    dummy, label, dummy, level, trad_spec = DRAFT13[p.draft_name]
    message, ctx = b"independently checked", b"ctx-123"
    sig = sk.sign(message, ctx=ctx)
    m_prime = draft_m_prime(p.draft_name, message, ctx)

    mldsa_sig, trad_sig = sig[:MLDSA_SIG_LEN[level]], sig[MLDSA_SIG_LEN[level]:]
    mldsa_pk = sk.mldsa_key.public_key().public_bytes_raw()
    dsa = DILITHIUM[level]
    assert dsa.verify(mldsa_pk, m_prime, mldsa_sig, ctx=label.encode())
    # Not valid under an empty ML-DSA context: the Label really is the context.
    assert not dsa.verify(mldsa_pk, m_prime, mldsa_sig, ctx=b"")

    verify_traditional_directly(trad_spec, sk.trad_key.public_key(), trad_sig, m_prime)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_public_key_encoding_follows_draft(keys, name):
    """Section 5: RSA -> RSAPublicKey DER, ECDSA -> 0x04 || X || Y, EdDSA raw."""
    sk = keys[name]
    p = sk.params
    trad_pk = sk.public_key().public_bytes_raw()[p.mldsa_public_key_size:]
    kind = p.trad.kind
    if kind == "ecdsa":
        size = (sk.trad_key.curve.key_size + 7) // 8
        assert trad_pk[0] == 4 and len(trad_pk) == 1 + 2 * size
    elif kind == "rsa":
        assert trad_pk[0] == 0x30
        n = sk.trad_key.public_key().public_numbers().n
        assert n.to_bytes((n.bit_length() + 7) // 8, "big") in trad_pk
    else:
        assert len(trad_pk) == {"ed25519": 32, "ed448": 57}[kind]


# --- errors and edge cases -------------------------------------------------

def test_ctx_length_limit(keys):
    sk = keys["composite-mldsa65-ed25519"]
    sig = sk.sign(b"m", ctx=b"c" * 255)
    sk.public_key().verify(sig, b"m", ctx=b"c" * 255)
    with pytest.raises(InputError, match="at most 255"):
        sk.sign(b"m", ctx=b"c" * 256)
    with pytest.raises(InputError):
        sk.public_key().verify(sig, b"m", ctx=b"c" * 256)


def test_truncated_and_empty_signatures(keys):
    sk = keys["composite-mldsa44-ecdsa-p256"]
    pk = sk.public_key()
    sig = sk.sign(b"m")
    for bad in (b"", sig[:2420], sig[:100]):
        with pytest.raises(VerificationError, match="too short"):
            pk.verify(bad, b"m")
    with pytest.raises(VerificationError, match="ECDSA component"):
        pk.verify(sig[:-3], b"m")
    with pytest.raises(VerificationError, match="ECDSA component"):
        pk.verify(sig + b"\x00", b"m")


def test_swapped_component_signatures_are_rejected(keys):
    """A signature from another composite with the same ML-DSA level does not verify."""
    a = keys["composite-mldsa65-ecdsa-p256"]
    b = keys["composite-mldsa65-ed25519"]
    with pytest.raises(VerificationError):
        a.public_key().verify(b.sign(b"m"), b"m")


def test_component_type_checks(keys):
    p = COMPOSITE_ALGORITHMS["composite-mldsa65-ecdsa-p256"]
    good = keys["composite-mldsa65-ecdsa-p256"]
    with pytest.raises(InputError, match="ML-DSA key"):
        CompositePrivateKey.from_components(p, keys["composite-mldsa44-ecdsa-p256"].mldsa_key, good.trad_key)
    with pytest.raises(InputError, match="secp256r1"):
        CompositePrivateKey.from_components(p, good.mldsa_key, ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(InputError):
        CompositePrivateKey.from_components(p, good.mldsa_key, ed25519.Ed25519PrivateKey.generate())
    rsa_p = COMPOSITE_ALGORITHMS["composite-mldsa44-rsa2048-pss"]
    with pytest.raises(InputError, match="2048-bit RSA"):
        CompositePrivateKey.from_components(
            rsa_p, keys["composite-mldsa44-rsa2048-pss"].mldsa_key, keys["composite-mldsa65-rsa3072-pss"].trad_key)
    ok = CompositePrivateKey.from_components(p, good.mldsa_key, good.trad_key)
    ok.public_key().verify(ok.sign(b"m"), b"m")


def test_malformed_public_keys(keys):
    p = COMPOSITE_ALGORITHMS["composite-mldsa65-ecdsa-p256"]
    raw = keys[p.name].public_key().public_bytes_raw()
    with pytest.raises(InputError):
        CompositePublicKey.from_bytes(p, raw[:1952])
    with pytest.raises(InputError, match="uncompressed"):
        CompositePublicKey.from_bytes(p, raw[:-1])
    compressed = keys[p.name].trad_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    with pytest.raises(InputError, match="uncompressed"):
        CompositePublicKey.from_bytes(p, raw[:1952] + compressed)
    ed = COMPOSITE_ALGORITHMS["composite-mldsa65-ed25519"]
    ed_raw = keys[ed.name].public_key().public_bytes_raw()
    with pytest.raises(InputError, match="Ed25519 needs 32"):
        CompositePublicKey.from_bytes(ed, ed_raw + b"\x00")
    rsa_p = COMPOSITE_ALGORITHMS["composite-mldsa44-rsa2048-pkcs15"]
    rsa_raw = keys[rsa_p.name].public_key().public_bytes_raw()
    with pytest.raises(InputError, match="trailing"):
        CompositePublicKey.from_bytes(rsa_p, rsa_raw + b"\x00")
    # An RSA-2048 composite public key cannot be read as the RSA-3072 one.
    with pytest.raises(InputError):
        CompositePublicKey.from_bytes(COMPOSITE_ALGORITHMS["composite-mldsa65-rsa3072-pss"], b"\x00" * 1952 + rsa_raw[1312:])


def test_spki_rules(keys):
    pk = keys["composite-mldsa44-ed25519"].public_key()
    spki = pk.spki_der()
    # AlgorithmIdentifier with parameters absent: SEQUENCE { OID 1.3.6.1.5.5.7.6.39 } only.
    assert pk.algorithm_identifier_der() == bytes.fromhex("300a06082b06010505070627")
    assert pk.algorithm_identifier_der() in spki
    # Same SPKI with NULL parameters is rejected.
    bad = rfc5280.SubjectPublicKeyInfo()
    bad["algorithm"]["algorithm"] = univ.ObjectIdentifier(pk.params.oid)
    bad["algorithm"]["parameters"] = der_encoder.encode(univ.Null(""))
    bad["subjectPublicKey"] = univ.BitString.fromOctetString(pk.public_bytes_raw())
    with pytest.raises(InputError, match="parameters must be absent"):
        CompositePublicKey.from_spki(der_encoder.encode(bad))
    # A non-composite SPKI is rejected.
    other = rfc5280.SubjectPublicKeyInfo()
    other["algorithm"]["algorithm"] = univ.ObjectIdentifier("1.3.101.112")
    other["subjectPublicKey"] = univ.BitString.fromOctetString(b"\x00" * 32)
    with pytest.raises(InputError, match="not a composite"):
        CompositePublicKey.from_spki(der_encoder.encode(other))


def test_malformed_private_keys(keys):
    p = COMPOSITE_ALGORITHMS["composite-mldsa87-ecdsa-p521"]
    raw = keys[p.name].private_bytes_raw()
    with pytest.raises(InputError):
        CompositePrivateKey.from_private_bytes(p, raw[:32])
    with pytest.raises(InputError):
        CompositePrivateKey.from_private_bytes(p, raw[:-1])
    # P-521 key bytes under the P-384 composite: wrong curve.
    with pytest.raises(InputError, match="secp384r1"):
        CompositePrivateKey.from_private_bytes(COMPOSITE_ALGORITHMS["composite-mldsa87-ecdsa-p384"], raw)
    ed = COMPOSITE_ALGORITHMS["composite-mldsa87-ed448"]
    with pytest.raises(InputError, match="Ed448 needs 57"):
        CompositePrivateKey.from_private_bytes(ed, keys[ed.name].private_bytes_raw() + b"\x00")


def test_errors_are_single_line_qpki_errors(keys):
    pk = keys["composite-mldsa65-rsa3072-pss"].public_key()
    with pytest.raises(QpkiError) as err:
        pk.verify(b"\x00" * 4000, b"m")
    assert isinstance(err.value, VerificationError)
    assert "\n" not in str(err.value)
    assert "ML-DSA and RSASSA-PSS components do not verify" in str(err.value)


# --- legacy (pre-draft-13) form: read-only -----------------------------------

def _legacy_pair(first: bytes, second: bytes) -> bytes:
    """Test fixture: SEQUENCE SIZE (2) OF BIT STRING, as the early drafts wrote it."""
    seq = univ.SequenceOf(componentType=univ.BitString())
    seq.append(univ.BitString.fromOctetString(first))
    seq.append(univ.BitString.fromOctetString(second))
    return der_encoder.encode(seq)


def test_legacy_signature_is_recognised_and_split(keys):
    sk = keys["composite-mldsa65-ecdsa-p256"]
    p = sk.params
    sig = sk.sign(b"m")
    mldsa_sig, trad_sig = sig[:3309], sig[3309:]
    legacy = _legacy_pair(mldsa_sig, trad_sig)

    assert is_legacy_encoding(legacy)
    assert is_legacy_encoding(legacy, p)
    parsed = parse_legacy_composite_signature(legacy, p)
    assert parsed.legacy is True
    assert parsed.kind == "signature"
    assert (parsed.mldsa_part, parsed.trad_part) == (mldsa_sig, trad_sig)
    # The draft-13 verifier does not accept the legacy wrapper.
    with pytest.raises(VerificationError):
        sk.public_key().verify(legacy, b"m")
    # Wrong ML-DSA size for the given algorithm.
    assert not is_legacy_encoding(legacy, COMPOSITE_ALGORITHMS["composite-mldsa44-ecdsa-p256"])


def test_legacy_public_key_is_recognised_and_split(keys):
    pk = keys["composite-mldsa44-ed25519"].public_key()
    raw = pk.public_bytes_raw()
    legacy = _legacy_pair(raw[:1312], raw[1312:])
    parsed = parse_legacy_composite_public_key(legacy, pk.params)
    assert parsed.legacy and parsed.kind == "public key"
    assert parsed.mldsa_part + parsed.trad_part == raw
    with pytest.raises(InputError):
        CompositePublicKey.from_bytes(pk.params, legacy)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_draft13_values_are_not_legacy(keys, name):
    sk = keys[name]
    assert not is_legacy_encoding(sk.sign(b"m"))
    assert not is_legacy_encoding(sk.public_key().public_bytes_raw(), kind="public key")
    with pytest.raises(InputError, match="not a legacy"):
        parse_legacy_composite_signature(sk.sign(b"m"), sk.params)


def test_legacy_rejects_other_shapes():
    three = univ.SequenceOf(componentType=univ.BitString())
    for part in (b"a", b"b", b"c"):
        three.append(univ.BitString.fromOctetString(part))
    assert not is_legacy_encoding(der_encoder.encode(three))
    assert not is_legacy_encoding(b"")
    assert not is_legacy_encoding(_legacy_pair(b"a", b"b") + b"\x00")
    octets = univ.SequenceOf(componentType=univ.OctetString())
    octets.append(univ.OctetString(b"a"))
    octets.append(univ.OctetString(b"b"))
    assert not is_legacy_encoding(der_encoder.encode(octets))


def test_library_never_writes_legacy():
    public = [n for n in dir(composite) if "legacy" in n.lower()]
    assert sorted(public) == [
        "LegacyCompositeValue", "is_legacy_encoding", "parse_legacy_composite_public_key", "parse_legacy_composite_signature",
    ]
