"""Fuzzing the parsers that face untrusted bytes: CSRs (classical, ML-DSA,
SLH-DSA, composite, catalyst) as ``cert issue`` reads them, certificates and
CRLs, the composite key/signature parsers (draft-13 and the legacy wrapper)
and the catalyst extension/attribute parsers. Only QpkiError may escape."""

import functools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_support import examples, mutated, only_qpki_errors, sample_csrs

FAST = settings(max_examples=examples(150), suppress_health_check=list(HealthCheck))

CSR_NAMES = ["ecdsa-p256", "rsa-2048", "ml-dsa-44", "slh-dsa-sha2-128f",
             "composite-mldsa44-ecdsa-p256", "catalyst"]


def _mutated_csr():
    return st.sampled_from(CSR_NAMES).flatmap(lambda name: mutated(sample_csrs()[name]))


def _read_csr_like_cert_issue(data):
    """What ops.cert.cert_issue does with a CSR before touching any CA."""
    from qpki.ops.cert import check_key_algorithm, csr_request, csr_sans
    from qpki.ops.hybrid import csr_alt_public_key
    from qpki.profiles.loader import load_profile

    csr, public_key = csr_request(data, "fuzz.csr")
    csr_alt_public_key(csr, "fuzz.csr")
    csr_sans(csr)
    check_key_algorithm(load_profile("ec/tls-server"), public_key, "fuzz.csr")


@FAST
@given(_mutated_csr())
def test_mutated_csr(data):
    only_qpki_errors(_read_csr_like_cert_issue, data)


@FAST
@given(st.binary(max_size=300))
def test_random_bytes_as_csr_certificate_crl(data):
    from qpki.x509.parse import load_certificate, load_crl

    only_qpki_errors(_read_csr_like_cert_issue, data)
    only_qpki_errors(load_certificate, data, "fuzz")
    only_qpki_errors(load_crl, data, "fuzz")


# ----------------------------------------------------------------- certificates and CRLs

@functools.lru_cache(maxsize=None)
def _issued():
    """A catalyst-free classical chain piece and a composite one: (CA cert
    DER, leaf DER, CRL DER) per kind."""
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from qpki.ops.ca import ca_init
    from qpki.ops.cert import cert_issue
    from qpki.ops.crl import crl_gen

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
            leaf = cert_issue(ca_dir, leaf_profile, csr_pem)["paths"][0]
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


@FAST
@given(st.sampled_from(["ec", "ml"]), st.data())
def test_mutated_certificates_and_crls_verify_or_refuse(kind, data):
    from qpki.ops.cert import cert_info, cert_verify
    from qpki.ops.crl import crl_info, crl_verify

    ca_der, leaf_der, crl_der = _issued()[kind]
    target = data.draw(st.sampled_from(["ca", "leaf", "crl"] if leaf_der else ["ca", "crl"]))
    seed = {"ca": ca_der, "leaf": leaf_der, "crl": crl_der}[target]
    bad = data.draw(mutated(seed))
    if target == "crl":
        only_qpki_errors(crl_info, bad, "fuzz")
        only_qpki_errors(crl_verify, bad, ca_der, where="fuzz")
    elif target == "leaf":
        only_qpki_errors(cert_info, bad, "fuzz")
        only_qpki_errors(cert_verify, bad, ca_der, crl_data=crl_der, where="fuzz")
    else:
        only_qpki_errors(cert_info, bad, "fuzz")
        if leaf_der:
            only_qpki_errors(cert_verify, leaf_der, bad, where="fuzz")
        only_qpki_errors(crl_verify, crl_der, bad, where="fuzz")


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
    key = only_qpki_errors(composite.CompositePublicKey.from_bytes, params, data.draw(mutated(raw)))
    only_qpki_errors(composite.CompositePublicKey.from_spki, data.draw(mutated(spki)))
    good = composite.CompositePublicKey.from_bytes(params, raw)
    bad_signature = data.draw(mutated(signature) | st.binary(max_size=64))
    only_qpki_errors(good.verify, bad_signature, b"message")
    only_qpki_errors(good.verify, signature, data.draw(st.binary(max_size=16)),
                     data.draw(st.binary(max_size=300)))
    if key is not None:
        only_qpki_errors(key.verify, signature, b"message")


@FAST
@given(st.sampled_from(COMPOSITES), st.data())
def test_composite_private_keys(name, data):
    from qpki.algorithms import composite

    params, dummy, dummy, dummy, pkcs8 = _composite_material()[name]
    only_qpki_errors(composite.load_composite_private_key_pkcs8, data.draw(mutated(pkcs8)))
    only_qpki_errors(composite.CompositePrivateKey.from_private_bytes, params,
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
    only_qpki_errors(composite.is_legacy_encoding, blob, params)
    only_qpki_errors(composite.parse_legacy_composite_signature, blob, params)
    only_qpki_errors(composite.parse_legacy_composite_public_key, data.draw(mutated(raw)), params)


# ------------------------------------------------------------------------ catalyst

@FAST
@given(st.data())
def test_catalyst_attribute_and_extension_parsers(data):
    from cryptography import x509

    from qpki.x509 import catalyst

    der = sample_csrs()["catalyst"]
    info = x509.load_der_x509_csr(der).tbs_certrequest_bytes
    bad_info = data.draw(mutated(info))
    only_qpki_errors(catalyst.csr_attributes, bad_info)
    only_qpki_errors(catalyst.csr_info_without_alt_signature, bad_info)
    values = catalyst.csr_attributes(info)
    for oid, value in values.items():
        bad = data.draw(mutated(value) | st.binary(max_size=40))
        only_qpki_errors(catalyst.decode_alt_public_key, bad)
        only_qpki_errors(catalyst.decode_alt_signature_algorithm, bad)
        only_qpki_errors(catalyst.decode_alt_signature, bad)
    only_qpki_errors(catalyst.pre_tbs_certificate, data.draw(mutated(info)))
    only_qpki_errors(catalyst.pre_tbs_certlist, data.draw(mutated(info)))


# ------------------------------------------------------------- found by fuzzing

def test_regression_lazily_parsed_name_with_a_bad_string_tag():
    """A CN whose UTF8String tag became 0x0d loads in cryptography but fails
    when .subject is first read: now an InputError when the CSR is loaded."""
    from qpki.errors import InputError
    from qpki.ops.cert import csr_request

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
