"""Key generation and lookup in a real SoftHSM2 token, checked with
pkcs11-tool (an independent reader of the token)."""

import re

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from qpki.errors import HsmError, UsageError
from qpki.hsm.keys import (delete_key, find_private_key, find_public_key, generate_key,
                           list_keys, public_key_of)
from qpki.hsm.session import open_session

pytestmark = pytest.mark.hsm


def tool_objects(text):
    """pkcs11-tool --list-objects output as [{kind, label, id, usage, access}]."""
    objects = []
    for block in re.split(r"(?m)^(?=\S)", text):
        if not block.strip():
            continue
        entry = {"kind": block.splitlines()[0].strip()}
        for key in ("label", "ID", "Usage", "Access"):
            found = re.search(r"(?m)^\s+%s:\s*(.*?)\s*$" % key, block)
            entry[key.lower()] = found.group(1) if found else None
        objects.append(entry)
    return objects


def check_generated(token, label, key_id, kind):
    objects = [o for o in tool_objects(token.objects()) if o["label"] == label]
    private = [o for o in objects if o["kind"].startswith("Private Key Object; %s" % kind)]
    public = [o for o in objects if o["kind"].startswith("Public Key Object; %s" % kind)]
    assert len(private) == 1 and len(public) == 1, objects
    assert private[0]["id"] == key_id and public[0]["id"] == key_id
    access = [a.strip() for a in private[0]["access"].split(",")]
    assert "sensitive" in access and "never extractable" in access
    assert "extractable" not in access
    assert private[0]["usage"] == "sign"
    assert "verify" in public[0]["usage"]
    # Not visible at all without login: the private key is a private object.
    assert label not in "".join(o["label"] or "" for o in tool_objects(token.objects(login=False))
                                if o["kind"].startswith("Private"))


def test_generate_ecdsa_p384(token):
    with open_session(token.config()) as hsm:
        key_id = generate_key(hsm, "ecdsa-p384", "root-ca-key", "0102030405")
        assert key_id == "0102030405"
        public = public_key_of(hsm, find_private_key(hsm, label="root-ca-key"))
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp384r1"
    check_generated(token, "root-ca-key", "0102030405", "EC")
    assert "EC_PARAMS:  06052b81040022" in token.objects()  # secp384r1


@pytest.mark.slow
def test_generate_rsa_4096_with_random_id(token):
    with open_session(token.config()) as hsm:
        key_id = generate_key(hsm, "rsa-4096", "rsa-ca-key")
        public = public_key_of(hsm, find_private_key(hsm, key_id=key_id))
    assert re.fullmatch(r"[0-9a-f]{16}", key_id)
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 4096
    check_generated(token, "rsa-ca-key", key_id, "RSA")
    assert "RSA 4096 bits" in token.objects()


def test_generated_private_key_attributes(token):
    import pkcs11

    with open_session(token.config()) as hsm:
        generate_key(hsm, "ecdsa-p256", "leaf", "0a")
        key = find_private_key(hsm, "leaf", "0a")
        A = pkcs11.Attribute
        assert key[A.TOKEN] and key[A.PRIVATE] and key[A.SENSITIVE] and key[A.SIGN]
        assert not key[A.EXTRACTABLE] and key[A.NEVER_EXTRACTABLE]
        assert not key[A.DECRYPT] and not key[A.DERIVE]
        pub = find_public_key(hsm, "leaf", "0a")
        assert pub[A.TOKEN] and pub[A.VERIFY]


def test_duplicate_label_or_id_is_refused(token):
    with open_session(token.config()) as hsm:
        generate_key(hsm, "ecdsa-p256", "root-ca-key", "01")
        with pytest.raises(HsmError) as info:
            generate_key(hsm, "ecdsa-p256", "root-ca-key", "02")
        assert str(info.value) == "a key labelled 'root-ca-key' already exists in token 'CA-Token'"
        with pytest.raises(HsmError, match="a key with id 01 already exists"):
            generate_key(hsm, "ecdsa-p256", "other", "01")
        assert len([k for k in list_keys(hsm) if k["class"] == "private"]) == 1


@pytest.mark.parametrize("name", ["ml-dsa-65", "slh-dsa-sha2-128f"])
def test_pqc_generation_is_refused(token, name):
    with open_session(token.config()) as hsm:
        with pytest.raises(HsmError) as info:
            generate_key(hsm, name, "pqc")
    assert str(info.value) == ("algorithm %s cannot be generated in an HSM "
                               "(PQC keys are software-only)" % name)


def test_key_made_by_pkcs11_tool_is_found_by_label_id_and_both(token):
    token.keygen("EC:secp384r1", "root-ca-key", "01")
    with open_session(token.config()) as hsm:
        by_label = find_private_key(hsm, label="root-ca-key")
        by_id = find_private_key(hsm, key_id="01")
        by_both = find_private_key(hsm, label="root-ca-key", key_id="01")
        assert by_label.handle == by_id.handle == by_both.handle
        public = public_key_of(hsm, by_both)
        assert public.curve.name == "secp384r1"
        assert find_public_key(hsm, key_id="01").handle != by_both.handle


def test_label_and_id_naming_different_objects(token):
    token.keygen("EC:secp384r1", "root-ca-key", "01")
    token.keygen("EC:prime256v1", "issuing-key", "02")
    with open_session(token.config()) as hsm:
        with pytest.raises(HsmError) as info:
            find_private_key(hsm, label="root-ca-key", key_id="02")
    assert str(info.value).startswith(
        "key label 'root-ca-key' and key id 02 name different objects in token 'CA-Token'")


def test_zero_matches(token):
    token.keygen("EC:secp384r1", "root-ca-key", "01")
    with open_session(token.config()) as hsm:
        with pytest.raises(HsmError) as info:
            find_private_key(hsm, label="x")
        assert str(info.value) == "no private key with label 'x' in token 'CA-Token'"
        with pytest.raises(HsmError, match="no private key with id 99 in token 'CA-Token'"):
            find_private_key(hsm, key_id="99")
        with pytest.raises(HsmError, match="no private key with id 99"):
            find_private_key(hsm, label="root-ca-key", key_id="99")


def test_several_matches_are_counted(token):
    token.keygen("EC:prime256v1", "dup", "01")
    token.keygen("EC:prime256v1", "dup", "02")
    with open_session(token.config()) as hsm:
        with pytest.raises(HsmError) as info:
            find_private_key(hsm, label="dup")
        assert str(info.value).startswith("2 private keys have label 'dup' in token 'CA-Token'")
        assert find_private_key(hsm, label="dup", key_id="02")[
            __import__("pkcs11").Attribute.ID] == b"\x02"


def test_neither_label_nor_id_is_a_usage_error(token):
    with open_session(token.config()) as hsm:
        with pytest.raises(UsageError):
            find_private_key(hsm)
        with pytest.raises(UsageError, match="not hexadecimal"):
            find_private_key(hsm, key_id="zz")


def test_public_key_falls_back_to_the_public_object(token):
    """SoftHSM2 private EC keys carry no CKA_EC_POINT: the point must come
    from the public-key object with the same id."""
    import pkcs11

    token.keygen("EC:prime256v1", "k", "0a0b")
    with open_session(token.config()) as hsm:
        private = find_private_key(hsm, key_id="0a0b")
        with pytest.raises(pkcs11.AttributeTypeInvalid):
            private[pkcs11.Attribute.EC_POINT]
        public = public_key_of(hsm, private)
    der_point = token.objects()
    point_hex = re.search(r"EC_POINT:\s+([0-9a-f]+)", der_point).group(1)
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.X962,
                              serialization.PublicFormat.UncompressedPoint)
    assert point_hex.endswith(raw.hex())


def test_list_keys(token):
    token.keygen("EC:secp521r1", "ec-key", "01")
    token.keygen("rsa:2048", "rsa-key", "02")
    with open_session(token.config()) as hsm:
        keys = list_keys(hsm)
    assert {(k["label"], k["id"], k["type"], k["size"], k["curve"], k["class"]) for k in keys} == {
        ("ec-key", "01", "EC", 521, "secp521r1", "private"),
        ("ec-key", "01", "EC", 521, "secp521r1", "public"),
        ("rsa-key", "02", "RSA", 2048, None, "private"),
        ("rsa-key", "02", "RSA", 2048, None, "public"),
    }


def test_delete_key(token):
    token.keygen("EC:prime256v1", "gone", "01")
    token.keygen("EC:prime256v1", "kept", "02")
    with open_session(token.config()) as hsm:
        deleted = delete_key(hsm, label="gone")
        assert sorted(d["class"] for d in deleted) == ["private", "public"]
        assert delete_key(hsm, label="gone") == []
    objects = token.objects()
    assert "gone" not in objects and "kept" in objects
