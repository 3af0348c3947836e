"""Fuzzing the parsers that face untrusted bytes: CSRs (classical, ML-DSA,
SLH-DSA, composite, catalyst) as ``cert issue`` reads them, certificates and
CRLs, the composite key/signature parsers (draft-13 and the legacy wrapper)
and the catalyst extension/attribute parsers. Only QpkiError may escape,
and every check that verifies a signature must verify or refuse: a mutated
input it accepts must be the signed original (fuzz_support)."""

import functools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_support import (assert_same_signed_object, attempt, examples, mutated, sample_csrs,
                          tbs_field)

FAST = settings(max_examples=examples(150), suppress_health_check=list(HealthCheck))

CSR_NAMES = ["ecdsa-p256", "rsa-2048", "ml-dsa-44", "slh-dsa-sha2-128f",
             "composite-mldsa44-ecdsa-p256", "catalyst"]


def _check_csr_like_cert_issue(data):
    """What ops.cert.commands.cert_issue checks in a CSR before touching any CA: its
    self-signature(s), then its names. Returns the public key."""
    from qpki.ops.cert.commands import csr_request, csr_sans
    from qpki.ops.keys.hybrid import csr_alt_public_key

    csr, public_key = csr_request(data, "fuzz.csr")
    csr_alt_public_key(csr, "fuzz.csr")
    csr_sans(csr)
    return public_key


def _key_against_a_profile(public_key):
    from qpki.ops.cert.commands import check_key_algorithm
    from qpki.profiles.loader import load_profile

    check_key_algorithm(load_profile("ec/tls-server"), public_key, "fuzz.csr")


@FAST
@given(st.sampled_from(CSR_NAMES), st.data())
def test_mutated_csr_verifies_or_is_refused(name, data):
    seed = sample_csrs()[name]
    bad = data.draw(mutated(seed))
    checked = attempt(_check_csr_like_cert_issue, bad)
    if not checked.refused:
        assert_same_signed_object(bad, seed, f"{name} CSR")
        attempt(_key_against_a_profile, checked.value)


@FAST
@given(st.binary(max_size=300))
def test_random_bytes_as_csr_certificate_crl(data):
    from qpki.x509.parse import load_certificate, load_crl

    # Nothing random carries a valid self-signature.
    assert attempt(_check_csr_like_cert_issue, data).refused
    attempt(load_certificate, data, "fuzz")
    attempt(load_crl, data, "fuzz")


# ----------------------------------------------------------------- certificates and CRLs

@functools.lru_cache(maxsize=None)
def _issued():
    """A catalyst-free classical chain piece and a composite one: (CA cert
    DER, leaf DER, CRL DER) per kind."""
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from qpki.ops.ca.commands import ca_init
    from qpki.ops.cert.commands import cert_issue
    from qpki.ops.crl.commands import crl_gen

    folder = tempfile.mkdtemp(prefix="qpki-fuzz-ca-")
    out = {}
    for kind, ca_profile, leaf_profile, csr_name in (
            ("ec", "ec/issuing-ca", "ec/tls-server", "ecdsa-p256"),
            ("ml", "ml/issuing-ca", "ml/tls-server", None)):
        ca_dir = "%s/%s" % (folder, kind)
        ca_init(ca_dir, ca_profile, {"cn": "Fuzz %s CA" % kind})
        leaf = None
        if csr_name:
            csr_pem = x509.load_der_x509_csr(sample_csrs()[csr_name]).public_bytes(
                serialization.Encoding.PEM)
            leaf = cert_issue(ca_dir, leaf_profile, csr_pem).paths[0]
        crl_gen(ca_dir)
        with open(ca_dir + "/ca.crt", "rb") as handle:
            ca_der = x509.load_pem_x509_certificate(handle.read()).public_bytes(
                serialization.Encoding.DER)
        leaf_der = None
        if leaf:
            with open(leaf, "rb") as handle:
                leaf_der = x509.load_pem_x509_certificate(handle.read()).public_bytes(
                    serialization.Encoding.DER)
        with open(ca_dir + "/crl/ca.crl.der", "rb") as handle:
            out[kind] = (ca_der, leaf_der, handle.read())
    return out


def _valid(outcome):
    return not outcome.refused and outcome.value.valid is True


@FAST
@given(st.sampled_from(["ec", "ml"]), st.data())
def test_mutated_certificates_and_crls_verify_or_refuse(kind, data):
    from qpki.ops.cert.commands import cert_info, cert_verify
    from qpki.ops.crl.commands import crl_info, crl_verify

    ca_der, leaf_der, crl_der = _issued()[kind]
    target = data.draw(st.sampled_from(["ca", "leaf", "crl"] if leaf_der else ["ca", "crl"]))
    seed = {"ca": ca_der, "leaf": leaf_der, "crl": crl_der}[target]
    bad = data.draw(mutated(seed))
    if target == "crl":
        attempt(crl_info, bad, "fuzz")
        if _valid(attempt(crl_verify, bad, ca_der, where="fuzz")):
            assert_same_signed_object(bad, crl_der, f"{kind} CRL")
    elif target == "leaf":
        attempt(cert_info, bad, "fuzz")
        if _valid(attempt(cert_verify, bad, ca_der, crl_data=crl_der, where="fuzz")):
            assert_same_signed_object(bad, leaf_der, f"{kind} certificate")
    else:
        # A damaged trust anchor may still vouch for what its key signed,
        # but only with the same name and the same key.
        attempt(cert_info, bad, "fuzz")
        anchored = [attempt(crl_verify, crl_der, bad, where="fuzz")]
        if leaf_der:
            anchored.append(attempt(cert_verify, leaf_der, bad, where="fuzz"))
        if any(_valid(outcome) for outcome in anchored):
            for field in ("subject", "subjectPublicKeyInfo"):
                assert tbs_field(bad, field) == tbs_field(ca_der, field), \
                    f"a CA certificate with another {field} verified what its original signed"


# ----------------------------------------------------------------------- composite

@functools.lru_cache(maxsize=None)
def _composite_material():
    from qpki.algorithms import composite

    out = {}
    for name in ("composite-mldsa44-ecdsa-p256", "composite-mldsa65-ed25519",
                 "composite-mldsa44-rsa2048-pss"):
        params = composite.params_by_name(name)
        key = composite.CompositePrivateKey.generate(params)
        signature = key.sign(b"message")
        out[name] = (params, key.public_key().public_bytes_raw(), key.public_key().spki_der(),
                     signature, key.private_bytes_pkcs8())
    return out


COMPOSITES = ["composite-mldsa44-ecdsa-p256", "composite-mldsa65-ed25519",
              "composite-mldsa44-rsa2048-pss"]


@FAST
@given(st.sampled_from(COMPOSITES), st.data())
def test_composite_public_keys_and_signatures(name, data):
    from qpki.algorithms import composite

    params, raw, spki, signature, dummy = _composite_material()[name]
    bad_raw = data.draw(mutated(raw))
    key = attempt(composite.CompositePublicKey.from_bytes, params, bad_raw)
    attempt(composite.CompositePublicKey.from_spki, data.draw(mutated(spki)))
    good = composite.CompositePublicKey.from_bytes(params, raw)
    bad_signature = data.draw(mutated(signature) | st.binary(max_size=64))
    if not attempt(good.verify, bad_signature, b"message").refused:
        assert bad_signature == signature, "a tampered composite signature verified"
    message, ctx = data.draw(st.binary(max_size=16)), data.draw(st.binary(max_size=300))
    if not attempt(good.verify, signature, message, ctx).refused:
        assert (message, ctx) == (b"message", b""), "a signature verified another message"
    if not key.refused and not attempt(key.value.verify, signature, b"message").refused:
        assert key.value.public_bytes_raw() == raw, "a signature verified under a tampered key"


@FAST
@given(st.sampled_from(COMPOSITES), st.data())
def test_composite_private_keys(name, data):
    from qpki.algorithms import composite

    params, dummy, dummy, dummy, pkcs8 = _composite_material()[name]
    attempt(composite.load_composite_private_key_pkcs8, data.draw(mutated(pkcs8)))
    attempt(composite.CompositePrivateKey.from_private_bytes, params,
            data.draw(st.binary(max_size=200)))


@FAST
@given(st.sampled_from(COMPOSITES), st.data())
def test_legacy_composite_parsers(name, data):
    from pyasn1.codec.der import encoder
    from pyasn1.type import univ

    from qpki.algorithms import composite

    params, raw, dummy, signature, dummy = _composite_material()[name]
    wrapped = univ.SequenceOf(componentType=univ.BitString())
    wrapped.extend([univ.BitString.fromOctetString(signature[:params.mldsa_signature_size]),
                    univ.BitString.fromOctetString(signature[params.mldsa_signature_size:])])
    seed = encoder.encode(wrapped)
    blob = data.draw(mutated(seed) | st.binary(max_size=100))
    attempt(composite.is_legacy_encoding, blob, params)
    attempt(composite.parse_legacy_composite_signature, blob, params)
    attempt(composite.parse_legacy_composite_public_key, data.draw(mutated(raw)), params)


# ------------------------------------------------------------------------ catalyst

@FAST
@given(st.data())
def test_catalyst_attribute_and_extension_parsers(data):
    from cryptography import x509

    from qpki.x509 import catalyst

    der = sample_csrs()["catalyst"]
    info = x509.load_der_x509_csr(der).tbs_certrequest_bytes
    bad_info = data.draw(mutated(info))
    attempt(catalyst.csr_attributes, bad_info)
    attempt(catalyst.csr_info_without_alt_signature, bad_info)
    values = catalyst.csr_attributes(info)
    for value in values.values():
        bad = data.draw(mutated(value) | st.binary(max_size=40))
        attempt(catalyst.decode_alt_public_key, bad)
        attempt(catalyst.decode_alt_signature_algorithm, bad)
        attempt(catalyst.decode_alt_signature, bad)
    attempt(catalyst.pre_tbs_certificate, data.draw(mutated(info)))
    attempt(catalyst.pre_tbs_certlist, data.draw(mutated(info)))


# ------------------------------------------------------------- found by fuzzing

def test_regression_lazily_parsed_name_with_a_bad_string_tag():
    """A CN whose UTF8String tag became 0x0d loads in cryptography but fails
    when .subject is first read: now an InputError when the CSR is loaded."""
    from qpki.errors import InputError
    from qpki.ops.cert.commands import csr_request

    der = sample_csrs()["ecdsa-p256"]
    bad = der.replace(b"\x0c\x10fuzz.example.com", b"\x0d\x10fuzz.example.com", 1)
    assert bad != der
    try:
        csr_request(bad, "bad.csr")
    except InputError as exc:
        assert "bad.csr" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("accepted")


def test_regression_certificate_version_4():
    """cryptography raises InvalidVersion (not a ValueError) for version 4."""
    import pytest

    from qpki.errors import InputError
    from qpki.x509.parse import load_certificate

    ca_der = _issued()["ec"][0]
    bad = ca_der.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x03", 1)
    with pytest.raises(InputError, match="v4.der"):
        load_certificate(bad, "v4.der")


def test_regression_pyasn1_overflow_on_huge_lengths():
    """pyasn1 raises OverflowError (not PyAsn1Error) for a length >= 2**63."""
    import pytest

    from qpki.algorithms import composite
    from qpki.algorithms.spki import split_spki
    from qpki.errors import InputError
    from qpki.signer.pkcs8 import decode_private_key_info

    oid = b"\x06\x08\x2b\x06\x01\x05\x05\x07\x06\x25"
    huge = b"\x04\x88" + b"\xff" * 8
    pkcs8 = b"\x30" + bytes([3 + len(oid) + 2 + len(huge)]) + b"\x02\x01\x00" \
        + b"\x30" + bytes([len(oid)]) + oid + huge
    with pytest.raises(InputError):
        composite.load_composite_private_key_pkcs8(pkcs8)
    with pytest.raises(InputError):
        decode_private_key_info(pkcs8)
    bits = b"\x03" + huge[1:]
    spki = b"\x30" + bytes([2 + len(oid) + len(bits)]) + b"\x30" + bytes([len(oid)]) + oid + bits
    with pytest.raises(InputError):
        split_spki(spki)
