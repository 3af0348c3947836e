"""The rules on keys and signature options that decide what qpki accepts
and how it signs (algorithms/classical.py, algorithms/base.py,
profiles/algorithm_rules.py), pinned one by one: each accepted value with
its effect, each refused one with its exact one-line message. Written from
the mutation run (scripts/mutation.sh, group keyrules), whose survivors
showed rules no test held.

Signatures are checked with cryptography called directly, and OIDs against
RFC 5758 (ECDSA) and RFC 8017 / RFC 4055 (RSA)."""

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from qpki.algorithms.registry import get_algorithm
from qpki.errors import InputError, ProfileError, VerificationError
from qpki.profiles.algorithm_rules import family
from qpki.profiles.profile import Profile

DATA = b"what the CA signs"


# --------------------------------------------------------------- signature options

@pytest.mark.parametrize("name, options, message", [
    ("rsa-2048", {"foo": 1}, "algorithm rsa-2048: unknown signature option(s) foo"),
    ("rsa-2048", {"scheme": "oaep"}, "algorithm rsa-2048: signature scheme 'oaep' is not "
                                     "pkcs1v15 or pss"),
    ("rsa-3072", {"hash": "md5"}, "algorithm rsa-3072: unsupported hash 'md5' (use sha256, "
                                  "sha384 or sha512)"),
    ("ecdsa-p384", {"scheme": "pss"}, "algorithm ecdsa-p384: unknown signature option(s) scheme"),
    ("ecdsa-p256", {"hash": "sha1"}, "algorithm ecdsa-p256: unsupported hash 'sha1' (use "
                                     "sha256, sha384 or sha512)"),
    ("ed25519", {"hash": "sha256"}, "algorithm ed25519 takes no signature options (got hash)"),
    ("ml-dsa-65", {"x": 1}, "algorithm ml-dsa-65 takes no signature options (got x)"),
])
def test_bad_signature_options_are_refused(name, options, message):
    with pytest.raises(InputError) as caught:
        get_algorithm(name).check_options(options)
    assert str(caught.value) == message


@pytest.mark.parametrize("name, options", [
    ("rsa-2048", None), ("rsa-2048", {}), ("rsa-2048", {"scheme": "pkcs1v15"}),
    ("rsa-4096", {"scheme": "pss", "hash": "sha512"}), ("rsa-3072", {"hash": "sha384"}),
    ("ecdsa-p256", {"hash": "sha512"}), ("ecdsa-p521", None), ("ed25519", None),
    ("ml-dsa-44", {}),
])
def test_good_signature_options_are_accepted(name, options):
    assert get_algorithm(name).check_options(options) is None


@pytest.mark.parametrize("name, options, oid, hash_name", [
    ("ecdsa-p256", None, "1.2.840.10045.4.3.2", "sha256"),
    ("ecdsa-p384", None, "1.2.840.10045.4.3.3", "sha384"),
    ("ecdsa-p521", None, "1.2.840.10045.4.3.4", "sha512"),
    ("ecdsa-p256", {"hash": "sha384"}, "1.2.840.10045.4.3.3", "sha384"),
    ("rsa-2048", None, "1.2.840.113549.1.1.11", "sha256"),
    ("rsa-3072", {"hash": "sha384"}, "1.2.840.113549.1.1.12", "sha384"),
    ("rsa-4096", {"hash": "sha512"}, "1.2.840.113549.1.1.13", "sha512"),
    ("rsa-4096", {"scheme": "pss"}, "1.2.840.113549.1.1.10", "sha256"),
    ("rsa-2048", {"scheme": "pss", "hash": "sha512"}, "1.2.840.113549.1.1.10", "sha512"),
])
def test_signature_oid_and_hash(name, options, oid, hash_name):
    algorithm = get_algorithm(name)
    assert algorithm.signature_oid(options) == oid
    assert algorithm.hash_algorithm(options).name == hash_name


def test_key_oids():
    assert get_algorithm("ecdsa-p384").key_oid == "1.2.840.10045.2.1"
    assert get_algorithm("rsa-2048").key_oid == "1.2.840.113549.1.1.1"
    assert get_algorithm("ed25519").key_oid == "1.3.101.112"
    assert get_algorithm("ed25519").hash_algorithm() is None


# ------------------------------------------------------------- signing, checked by cryptography

@pytest.mark.parametrize("options, hash_cls", [
    (None, hashes.SHA256), ({"hash": "sha384"}, hashes.SHA384),
    ({"hash": "sha512"}, hashes.SHA512)])
def test_rsa_pkcs1v15_signatures(options, hash_cls):
    algorithm = get_algorithm("rsa-2048")
    key = algorithm.generate()
    assert key.key_size == 2048 and key.public_key().public_numbers().e == 65537
    signature = algorithm.sign(key, DATA, options)
    key.public_key().verify(signature, DATA, padding.PKCS1v15(), hash_cls())
    algorithm.verify(key.public_key(), signature, DATA, options)
    with pytest.raises(InvalidSignature):  # not PSS
        key.public_key().verify(signature, DATA, padding.PSS(
            mgf=padding.MGF1(hash_cls()), salt_length=padding.PSS.AUTO), hash_cls())


@pytest.mark.parametrize("options, hash_cls", [
    ({"scheme": "pss"}, hashes.SHA256), ({"scheme": "pss", "hash": "sha384"}, hashes.SHA384)])
def test_rsa_pss_signatures_use_mgf1_and_a_digest_long_salt(options, hash_cls):
    algorithm = get_algorithm("rsa-2048")
    key = algorithm.generate()
    signature = algorithm.sign(key, DATA, options)
    # RFC 4055 parameters as OpenSSL expects them: MGF1 with the same hash,
    # salt as long as the digest.
    key.public_key().verify(signature, DATA, padding.PSS(
        mgf=padding.MGF1(hash_cls()), salt_length=hash_cls.digest_size), hash_cls())
    algorithm.verify(key.public_key(), signature, DATA, options)
    with pytest.raises(InvalidSignature):
        key.public_key().verify(signature, DATA, padding.PKCS1v15(), hash_cls())


@pytest.mark.parametrize("name, curve, hash_cls", [
    ("ecdsa-p256", ec.SECP256R1, hashes.SHA256), ("ecdsa-p384", ec.SECP384R1, hashes.SHA384),
    ("ecdsa-p521", ec.SECP521R1, hashes.SHA512)])
def test_ecdsa_signatures_use_the_curve_and_hash(name, curve, hash_cls):
    algorithm = get_algorithm(name)
    key = algorithm.generate()
    assert isinstance(key.curve, curve) and algorithm.key_size == curve.key_size
    signature = algorithm.sign(key, DATA)
    key.public_key().verify(signature, DATA, ec.ECDSA(hash_cls()))


@pytest.mark.parametrize("name, hash_name, hash_cls", [
    ("ecdsa-p256", "sha384", hashes.SHA384), ("ecdsa-p256", "sha512", hashes.SHA512),
    ("ecdsa-p521", "sha256", hashes.SHA256)])
def test_ecdsa_signs_with_the_hash_the_options_name(name, hash_name, hash_cls):
    """A profile's ``signature: {hash: ...}`` on an ECDSA key: the signature
    is made with that hash (the OID written says so), not the curve's."""
    algorithm = get_algorithm(name)
    key = algorithm.generate()
    options = {"hash": hash_name}
    signature = algorithm.sign(key, DATA, options)
    key.public_key().verify(signature, DATA, ec.ECDSA(hash_cls()))
    algorithm.verify(key.public_key(), signature, DATA, options)
    with pytest.raises(VerificationError):
        algorithm.verify(key.public_key(), signature, DATA)


@pytest.mark.parametrize("name", ["rsa-2048", "ecdsa-p256", "ed25519", "ml-dsa-44",
                                  "slh-dsa-sha2-128f"])
def test_verify_refuses_a_flipped_signature_with_one_line(name):
    algorithm = get_algorithm(name)
    key = algorithm.generate()
    signature = bytearray(algorithm.sign(key, DATA))
    signature[-1] ^= 0x01
    with pytest.raises(VerificationError) as caught:
        algorithm.verify(key.public_key(), bytes(signature), DATA)
    assert str(caught.value) == f"{name} signature does not verify"


# ------------------------------------------------------------------- keys of a profile

@pytest.mark.parametrize("name, other", [
    ("rsa-2048", rsa.generate_private_key(65537, 3072).public_key()),
    ("rsa-3072", rsa.generate_private_key(65537, 2048).public_key()),
    ("ecdsa-p256", ec.generate_private_key(ec.SECP384R1()).public_key()),
    ("ecdsa-p384", ec.generate_private_key(ec.SECP256R1()).public_key()),
])
def test_a_key_of_another_size_or_curve_does_not_match(name, other):
    algorithm = get_algorithm(name)
    assert algorithm.matches_public_key(algorithm.generate().public_key())
    assert not algorithm.matches_public_key(other)


BASE = {"validity": "30d", "subject": {"cn": "x"}}


@pytest.mark.parametrize("extra, message", [
    ({"algorithm": "ecdsa-p256", "algorithms": ["ecdsa-p256", "ml-dsa-65"]},
     "algorithm: give exactly one of algorithm or algorithms"),
    ({}, "algorithm: give exactly one of algorithm or algorithms"),
    ({"algorithm": "ecdsa-p256", "mode": "catalyst"}, 'mode: "catalyst" needs two algorithms'),
    ({"algorithms": "ecdsa-p256", "mode": "catalyst"},
     'algorithms: expected one name, or two with a mode, got "ecdsa-p256"'),
    ({"algorithms": ["ecdsa-p256", "ml-dsa-65"]},
     "mode: missing is not one of: catalyst, composite"),
    ({"algorithms": ["ecdsa-p256", "ml-dsa-65"], "mode": "x"},
     'mode: "x" is not one of: catalyst, composite'),
    ({"algorithm": "dsa-1024"}, 'algorithm: unknown algorithm "dsa-1024"'),
    ({"algorithms": ["ml-dsa-65", "ecdsa-p256"], "mode": "catalyst"},
     'algorithms: the first algorithm must be classical, got "ml-dsa-65"'),
    ({"algorithms": ["ecdsa-p256", "slh-dsa-sha2-128f"], "mode": "composite"},
     "algorithms: the second algorithm must be a post-quantum signature algorithm usable in "
     'composite mode, got "slh-dsa-sha2-128f"'),
    ({"algorithms": ["ecdsa-p256", "ml-kem-768"], "mode": "catalyst"},
     "algorithms: the second algorithm must be a post-quantum signature algorithm usable in "
     'catalyst mode, got "ml-kem-768"'),
    ({"algorithm": "rsa-2048", "signature": {"scheme": "oaep"}},
     'signature.scheme: "oaep" is not one of: pkcs1v15, pss'),
    ({"algorithm": "rsa-2048", "signature": {"salt": 1}},
     'signature: unknown key "salt" (allowed: scheme, hash)'),
    ({"algorithm": "rsa-2048", "signature": "pss"}, "signature: expected a mapping, got string"),
    ({"algorithm": "rsa-2048", "signature": {"hash": "md5"}},
     'signature.hash: "md5" is not one of: sha256, sha384, sha512'),
    ({"algorithm": "rsa-2048", "extensions": {"keyUsage": ["keyAgreement"]}},
     'extensions.keyUsage: "keyAgreement" is not possible with a rsa-2048 key'),
    ({"algorithm": "rsa-2048", "extensions": {"keyUsage": ["decipherOnly", "keyAgreement"]}},
     'extensions.keyUsage: "decipherOnly" is not possible with a rsa-2048 key'),
    ({"algorithm": "rsa-2048", "extensions": {"keyUsage": ["encipherOnly", "keyAgreement"]}},
     'extensions.keyUsage: "encipherOnly" is not possible with a rsa-2048 key'),
    ({"algorithm": "ecdsa-p256", "extensions": {"keyUsage": ["keyEncipherment"]}},
     'extensions.keyUsage: "keyEncipherment" is not possible with a ecdsa-p256 key'),
    ({"algorithm": "ml-kem-768", "extensions": {"keyUsage": ["digitalSignature"]}},
     'extensions.keyUsage: "digitalSignature" is not possible with a ml-kem-768 key'),
    ({"algorithm": "ed25519", "extensions": {"keyUsage": ["keyAgreement"]}},
     'extensions.keyUsage: "keyAgreement" is not possible with a ed25519 key'),
    ({"algorithm": "slh-dsa-sha2-128f", "extensions": {"keyUsage": ["dataEncipherment"]}},
     'extensions.keyUsage: "dataEncipherment" is not possible with a slh-dsa-sha2-128f key'),
    ({"algorithms": ["ecdsa-p256", "ml-dsa-65"], "mode": "catalyst",
      "extensions": {"keyUsage": ["keyAgreement"]}},
     'extensions.keyUsage: "keyAgreement" is not possible with a ml-dsa-65 key'),
])
def test_profile_key_rules_refuse(extra, message):
    with pytest.raises(ProfileError) as caught:
        Profile(dict(BASE, **extra), name="t")
    assert str(caught.value) == f"profile t: {message}"


@pytest.mark.parametrize("extra, algorithms, mode, signature", [
    ({"algorithm": "ecdsa-p256", "extensions": {"keyUsage": ["digitalSignature",
                                                             "keyAgreement"]}},
     ("ecdsa-p256",), None, {}),
    ({"algorithm": "rsa-2048", "signature": {"scheme": "pss", "hash": "sha384"},
      "extensions": {"keyUsage": ["digitalSignature", "keyEncipherment"]}},
     ("rsa-2048",), None, {"scheme": "pss", "hash": "sha384"}),
    ({"algorithm": "ml-kem-768", "extensions": {"keyUsage": ["keyEncipherment"]}},
     ("ml-kem-768",), None, {}),
    ({"algorithms": ["ecdsa-p384", "slh-dsa-sha2-128f"], "mode": "catalyst"},
     ("ecdsa-p384", "slh-dsa-sha2-128f"), "catalyst", {}),
    ({"algorithms": ["ed25519", "ml-dsa-44"], "mode": "composite",
      "extensions": {"keyUsage": ["digitalSignature", "nonRepudiation"]}},
     ("ed25519", "ml-dsa-44"), "composite", {}),
    # A list of one name and no mode: the form `qpki profile show` prints.
    ({"algorithms": ["ecdsa-p256"]}, ("ecdsa-p256",), None, {}),
])
def test_profile_key_rules_accept(extra, algorithms, mode, signature):
    profile = Profile(dict(BASE, **extra), name="t")
    assert (profile.algorithms, profile.mode, profile.signature) == (algorithms, mode, signature)


@pytest.mark.parametrize("name, expected", [
    ("ecdsa-p521", "ecdsa"), ("rsa-4096", "rsa"), ("ed25519", "ed25519"),
    ("ml-dsa-87", "ml-dsa"), ("slh-dsa-shake-256s", "slh-dsa"), ("ml-kem-1024", "ml-kem")])
def test_family_of_an_algorithm_name(name, expected):
    assert family(name) == expected
