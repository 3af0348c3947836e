"""Path validation with small PKIs generated here with cryptography.

Root -> intermediate -> leaf chains in EC, RSA-PSS, Ed25519 and ML-DSA;
each failure mode gives valid=False with a one-line reason and a code:
expiry, revocation (CRL), wrong issuer, missing CA flag or keyCertSign,
pathLenConstraint, loops, untrusted roots.
"""

import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa, padding, rsa
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ
from pyasn1_modules import rfc5280

from qpki.errors import InputError, VerificationError
from qpki.x509.signature import verify_certificate_signature, verify_signature
from qpki.x509.verify import VerifyResult, verify_certificate, verify_crl

from chain_kit import AT, START, UTC, issue, make_crl, p256, p384

LATER = datetime.datetime(2027, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def pki():
    """EC root (pathLen 1) -> intermediate (pathLen 0) -> leaf."""
    root = issue("Root", p384(), ca=True, path_length=1, days=3650, digest=hashes.SHA384())
    inter = issue("Intermediate", p256(), root, ca=True, path_length=0, days=1825,
                  digest=hashes.SHA384())
    leaf = issue("leaf.example", p256(), inter)
    return {"root": root, "inter": inter, "leaf": leaf}


def _check(pki, **kw):
    return verify_certificate(pki["leaf"][0], [pki["root"][0]], [pki["inter"][0]], **kw)


# --------------------------------------------------------------------------
# The happy path
# --------------------------------------------------------------------------

def test_three_level_chain_is_valid(pki):
    result = _check(pki, at=AT)
    assert isinstance(result, VerifyResult)
    assert result.valid and result.reason == "ok" and result.rule == "ok"
    assert result.path == ["CN=leaf.example", "CN=Intermediate", "CN=Root"]
    assert not result.revoked


def test_result_is_json_ready(pki):
    data = _check(pki, at=AT).as_dict()
    assert json.loads(json.dumps(data))["path"][0] == "CN=leaf.example"


def test_naive_time_means_utc(pki):
    assert _check(pki, at=AT.replace(tzinfo=None)).valid


def test_default_time_is_now(pki):
    # The chain was issued for 2026-01-01 + 365 days; "now" decides.
    now = datetime.datetime.now(UTC)
    expected = START <= now <= START + datetime.timedelta(days=365)
    assert _check(pki).valid is expected


def test_pem_bytes_are_accepted(pki):
    def pem(cert):
        return cert.public_bytes(serialization.Encoding.PEM)

    result = verify_certificate(pem(pki["leaf"][0]), [pem(pki["root"][0])],
                                [pem(pki["inter"][0])], at=AT)
    assert result.valid


def test_trusted_certificate_is_its_own_path(pki):
    root = pki["root"][0]
    result = verify_certificate(root, [root], at=AT)
    assert result.valid and result.path == ["CN=Root"]


def test_extra_untrusted_certificates_are_ignored(pki):
    stray = issue("Stray CA", p256(), ca=True)[0]
    result = verify_certificate(pki["leaf"][0], [pki["root"][0]],
                                [stray, pki["leaf"][0], pki["inter"][0]], at=AT)
    assert result.valid and len(result.path) == 3


# --------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------

def test_expired_leaf(pki):
    result = _check(pki, at=LATER)
    assert not result.valid and result.rule == "validity.expired"
    assert result.reason == "certificate has expired (notAfter 2027-01-01T00:00:00Z)"


def test_time_checks_can_be_turned_off(pki):
    assert _check(pki, at=LATER, check_time=False).valid


def test_leaf_not_yet_valid(pki):
    result = _check(pki, at=START - datetime.timedelta(days=1))
    assert not result.valid and result.rule == "validity.not_yet_valid"
    assert result.reason == "certificate is not yet valid (notBefore 2026-01-01T00:00:00Z)"


def test_expired_intermediate_is_named():
    root = issue("Root", p256(), ca=True, days=3650)
    inter = issue("Short CA", p256(), root, ca=True, days=30)
    leaf = issue("leaf", p256(), inter, days=365)
    result = verify_certificate(leaf[0], [root[0]], [inter[0]], at=AT)
    assert not result.valid and result.rule == "validity.expired"
    assert result.reason == "CA certificate CN=Short CA has expired (notAfter 2026-01-31T00:00:00Z)"


# --------------------------------------------------------------------------
# Revocation
# --------------------------------------------------------------------------

def test_revoked_leaf(pki):
    when = datetime.datetime(2026, 2, 1, 12, 30, tzinfo=UTC)
    crl = make_crl(pki["inter"], [(pki["leaf"][0].serial_number,
                                   x509.ReasonFlags.key_compromise, when)])
    result = _check(pki, crls=[crl], at=AT)
    assert not result.valid and result.revoked and result.rule == "revocation.revoked"
    assert result.reason == "certificate is revoked (keyCompromise, 2026-02-01T12:30:00Z)"
    assert result.revocation_reason == "keyCompromise"
    assert result.revocation_date == when
    assert result.as_dict()["revocation_date"] == "2026-02-01T12:30:00Z"


def test_revoked_without_reason_is_unspecified(pki):
    crl = make_crl(pki["inter"], [(pki["leaf"][0].serial_number, None, START)])
    result = _check(pki, crls=[crl], at=AT)
    assert result.revoked and "(unspecified, 2026-01-01T00:00:00Z)" in result.reason


def test_revoked_intermediate(pki):
    crl = make_crl(pki["root"], [(pki["inter"][0].serial_number,
                                  x509.ReasonFlags.ca_compromise, START)])
    result = _check(pki, crls=[crl], at=AT)
    assert not result.valid and result.revoked
    assert result.reason.startswith("CA certificate CN=Intermediate is revoked (cACompromise, ")


def test_crl_listing_other_serials(pki):
    crls = [make_crl(pki["inter"], [(12345, x509.ReasonFlags.superseded, START)]),
            make_crl(pki["root"])]
    result = _check(pki, crls=crls, at=AT)
    assert result.valid, result.reason
    assert sum("checked against CRL" in line for line in result.details) == 2


def test_crl_signed_by_another_key(pki):
    crl = make_crl(pki["inter"], signer=p256())
    result = _check(pki, crls=[crl], at=AT)
    assert not result.valid and result.rule == "crl.invalid"
    assert result.reason.startswith("CRL of CN=Intermediate: signature does not verify")


def test_forged_crl_entries_are_not_believed(pki):
    # A CRL with a bad signature listing the leaf: the failure is the CRL, not revocation.
    crl = make_crl(pki["inter"], [(pki["leaf"][0].serial_number, None, START)], signer=p256())
    result = _check(pki, crls=[crl], at=AT)
    assert not result.valid and not result.revoked and result.rule == "crl.invalid"


def test_stale_crl(pki):
    crl = make_crl(pki["inter"], days=7)
    result = _check(pki, crls=[crl], at=AT)
    assert not result.valid and result.rule == "crl.expired"
    assert result.reason == "CRL of CN=Intermediate has expired (nextUpdate 2026-02-27T00:00:00Z)"
    assert _check(pki, crls=[crl], at=AT, check_time=False).valid


def test_stale_crl_still_revokes_without_time_checks(pki):
    crl = make_crl(pki["inter"], [(pki["leaf"][0].serial_number, None, START)], days=7)
    result = _check(pki, crls=[crl], at=AT, check_time=False)
    assert not result.valid and result.revoked


def test_crl_from_the_future(pki):
    crl = make_crl(pki["inter"], this_update=AT + datetime.timedelta(days=1))
    result = _check(pki, crls=[crl], at=AT)
    assert not result.valid and result.rule == "crl.not_yet_valid"


def test_verify_crl(pki):
    crl = make_crl(pki["inter"])
    assert verify_crl(crl, pki["inter"][0], at=AT).valid
    wrong = verify_crl(crl, pki["root"][0], at=AT)
    assert not wrong.valid and wrong.rule == "crl.invalid"
    late = verify_crl(crl, pki["inter"][0], at=LATER)
    assert not late.valid and late.rule == "crl.expired"
    assert verify_crl(crl, pki["inter"][0], at=LATER, check_time=False).valid


def test_crl_issuer_without_crl_sign():
    root = issue("Root", p256(), ca=True, key_usage={"key_cert_sign"})
    result = verify_crl(make_crl(root), root[0], at=AT)
    assert not result.valid and result.rule == "crl.invalid"
    assert "cRLSign" in result.reason


# --------------------------------------------------------------------------
# Wrong issuer, missing certificates, loops
# --------------------------------------------------------------------------

def test_missing_intermediate(pki):
    result = verify_certificate(pki["leaf"][0], [pki["root"][0]], at=AT)
    assert not result.valid and result.rule == "chain.no_path"
    assert result.reason == ("no path to a trusted root (no certificate found for issuer "
                             "CN=Intermediate of CN=leaf.example)")


def test_forged_issuer_without_key_identifier(pki):
    # Claims the root as issuer but is signed by another key.
    forged = issue("forged", p256(), (pki["root"][0], p384()), aki=False,
                   digest=hashes.SHA384())[0]
    result = verify_certificate(forged, [pki["root"][0]], at=AT)
    assert not result.valid and result.rule == "signature.invalid"
    assert result.reason == ("certificate CN=forged: signature does not verify with issuer "
                             "CN=Root (ecdsa-with-SHA384)")


def test_forged_issuer_with_key_identifier(pki):
    forged = issue("forged", p256(), (pki["root"][0], p384()))[0]
    result = verify_certificate(forged, [pki["root"][0]], at=AT)
    assert not result.valid and result.rule == "chain.no_path"


def test_untrusted_self_signed_root(pki):
    other = issue("Other Root", p256(), ca=True)[0]
    result = verify_certificate(pki["leaf"][0], [other], [pki["inter"][0], pki["root"][0]], at=AT)
    assert not result.valid and result.rule == "chain.no_path"
    assert result.reason == "no path to a trusted root (self-signed certificate CN=Root is not trusted)"


def test_no_trusted_certificates(pki):
    result = verify_certificate(pki["leaf"][0], [], [pki["inter"][0]], at=AT)
    assert not result.valid and result.rule == "chain.no_path"


def test_key_rollover_same_name():
    old = issue("Root", p256(), ca=True)
    new = issue("Root", p256(), ca=True)
    leaf = issue("leaf", p256(), new)[0]
    assert verify_certificate(leaf, [old[0], new[0]], at=AT).valid
    # Without key identifiers both roots are tried and the right one is
    # found; the leaf is still refused, for lacking its AKI (RFC 5280 4.2.1.1).
    bare = issue("leaf2", p256(), new, aki=False)[0]
    result = verify_certificate(bare, [old[0], new[0]], at=AT)
    assert [failure.rule for failure in result.failures] == ["aki.missing"]
    assert result.path == ["CN=leaf2", "CN=Root"]


def test_loop_between_cross_certificates_terminates():
    key_a, key_b = p256(), p256()
    a_self = issue("CA A", key_a, ca=True)
    b_by_a = issue("CA B", key_b, a_self, ca=True)
    a_by_b = issue("CA A", key_a, b_by_a, ca=True)
    leaf = issue("leaf", p256(), b_by_a)[0]
    trusted_elsewhere = issue("Unrelated", p256(), ca=True)[0]
    result = verify_certificate(leaf, [trusted_elsewhere], [b_by_a[0], a_by_b[0]], at=AT)
    assert not result.valid and result.rule == "chain.no_path"
    assert result.reason == "no path to a trusted root (certificate loop at CN=CA B)"


# --------------------------------------------------------------------------
# CA flags and path length
# --------------------------------------------------------------------------

def test_intermediate_without_ca_flag():
    root = issue("Root", p256(), ca=True)
    inter = issue("Not A CA", p256(), root, ca=False, key_usage={"key_cert_sign"})
    leaf = issue("leaf", p256(), inter)[0]
    result = verify_certificate(leaf, [root[0]], [inter[0]], at=AT)
    assert not result.valid and result.rule == "basic_constraints.not_ca"
    assert result.reason == "CA certificate CN=Not A CA is not a CA (cA is false)"


def test_intermediate_without_basic_constraints():
    root = issue("Root", p256(), ca=True)
    inter = issue("Bare", p256(), root, basic_constraints=False, key_usage=None)
    leaf = issue("leaf", p256(), inter)[0]
    result = verify_certificate(leaf, [root[0]], [inter[0]], at=AT)
    assert not result.valid and result.reason == "CA certificate CN=Bare is not a CA (no basicConstraints)"


def test_intermediate_without_key_cert_sign():
    root = issue("Root", p256(), ca=True)
    inter = issue("CRL only", p256(), root, ca=True, key_usage={"crl_sign"})
    leaf = issue("leaf", p256(), inter)[0]
    result = verify_certificate(leaf, [root[0]], [inter[0]], at=AT)
    assert not result.valid and result.rule == "key_usage.key_cert_sign"
    assert result.reason == "CA certificate CN=CRL only: keyUsage does not include keyCertSign"


def test_path_length_zero_root_refuses_intermediates():
    root = issue("Root", p256(), ca=True, path_length=0)
    inter = issue("Intermediate", p256(), root, ca=True)
    leaf = issue("leaf", p256(), inter)[0]
    result = verify_certificate(leaf, [root[0]], [inter[0]], at=AT)
    assert not result.valid and result.rule == "basic_constraints.path_length"
    assert result.reason == "CA certificate CN=Root: pathLenConstraint 0 exceeded (1 CA certificate below it)"
    # A leaf straight under the pathLen-0 root is fine.
    direct = issue("direct", p256(), root)[0]
    assert verify_certificate(direct, [root[0]], at=AT).valid


def test_path_length_one_allows_one_intermediate_only():
    root = issue("Root", p256(), ca=True, path_length=1)
    first = issue("First", p256(), root, ca=True)
    second = issue("Second", p256(), first, ca=True)
    leaf = issue("leaf", p256(), second)[0]
    result = verify_certificate(leaf, [root[0]], [first[0], second[0]], at=AT)
    assert not result.valid and result.rule == "basic_constraints.path_length"
    assert "pathLenConstraint 1 exceeded (2 CA certificates below it)" in result.reason
    shallow = issue("shallow", p256(), first)[0]
    assert verify_certificate(shallow, [root[0]], [first[0]], at=AT).valid


def test_intermediate_path_length_zero_below_it():
    root = issue("Root", p256(), ca=True)
    inter = issue("Issuing", p256(), root, ca=True, path_length=0)
    sub = issue("Sub", p256(), inter, ca=True)
    leaf = issue("leaf", p256(), sub)[0]
    result = verify_certificate(leaf, [root[0]], [inter[0], sub[0]], at=AT)
    assert not result.valid and result.reason.startswith("CA certificate CN=Issuing: pathLenConstraint 0")


# --------------------------------------------------------------------------
# Other algorithms
# --------------------------------------------------------------------------

def _pss(digest):
    return padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.DIGEST_LENGTH)


@pytest.fixture(scope="module")
def pss_chain():
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = issue("PSS Root", root_key, ca=True, pss=_pss(hashes.SHA256()))
    leaf = issue("pss.example", rsa.generate_private_key(public_exponent=65537, key_size=2048),
                 root, digest=hashes.SHA384(), pss=_pss(hashes.SHA384()))
    return root, leaf


def test_rsa_pss_chain(pss_chain):
    root, leaf = pss_chain
    assert leaf[0].signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.10"
    result = verify_certificate(leaf[0], [root[0]], at=AT)
    assert result.valid, result.reason
    der = leaf[0].public_bytes(serialization.Encoding.DER)
    damaged = bytearray(der)
    damaged[-8] ^= 1
    bad = verify_certificate(x509.load_der_x509_certificate(bytes(damaged)), [root[0]], at=AT)
    assert not bad.valid and bad.reason.endswith("(RSASSA-PSS)")


def _pss_params_der(cert):
    decoded, dummy = decoder.decode(cert.public_bytes(serialization.Encoding.DER),
                                    asn1Spec=rfc5280.Certificate())
    return bytes(decoded["signatureAlgorithm"]["parameters"])


def test_rsa_pss_from_der_parameters(pss_chain):
    root, leaf = pss_chain
    cert = leaf[0]
    params = _pss_params_der(cert)
    verify_signature(root[1].public_key(), "1.2.840.113549.1.1.10", params, cert.signature,
                     cert.tbs_certificate_bytes)
    with pytest.raises(VerificationError, match="RSASSA-PSS signature does not verify"):
        verify_signature(root[1].public_key(), "1.2.840.113549.1.1.10", params,
                         cert.signature, cert.tbs_certificate_bytes[:-1] + b"\x00")


def test_rsa_pss_defaults_to_sha1_and_is_refused(pss_chain):
    root, leaf = pss_chain
    with pytest.raises(VerificationError, match="SHA-1"):
        verify_signature(root[1].public_key(), "1.2.840.113549.1.1.10", b"\x30\x00",
                         leaf[0].signature, leaf[0].tbs_certificate_bytes)
    with pytest.raises(VerificationError, match="without parameters"):
        verify_signature(root[1].public_key(), "1.2.840.113549.1.1.10", None,
                         leaf[0].signature, leaf[0].tbs_certificate_bytes)


def test_ml_dsa_chain():
    from dilithium_py.ml_dsa import ML_DSA_65

    root = issue("ML-DSA Root", mldsa.MLDSA87PrivateKey.generate(), ca=True, days=3650)
    inter = issue("ML-DSA Issuing", mldsa.MLDSA65PrivateKey.generate(), root, ca=True)
    leaf = issue("mldsa.example", mldsa.MLDSA44PrivateKey.generate(), inter)
    result = verify_certificate(leaf[0], [root[0]], [inter[0]], at=AT)
    assert result.valid, result.reason
    # dilithium-py agrees on the leaf's ML-DSA-65 signature.
    raw = inter[1].public_key().public_bytes_raw()
    assert ML_DSA_65.verify(raw, leaf[0].tbs_certificate_bytes, leaf[0].signature, ctx=b"")

    damaged = bytearray(leaf[0].public_bytes(serialization.Encoding.DER))
    damaged[-8] ^= 1
    cert = x509.load_der_x509_certificate(bytes(damaged))
    bad = verify_certificate(cert, [root[0]], [inter[0]], at=AT)
    assert not bad.valid
    assert bad.reason == ("certificate CN=mldsa.example: signature does not verify with issuer "
                          "CN=ML-DSA Issuing (ML-DSA-65)")
    assert not ML_DSA_65.verify(raw, cert.tbs_certificate_bytes, cert.signature, ctx=b"")


def test_ml_dsa_level_mismatch_is_named():
    root = issue("Root", mldsa.MLDSA87PrivateKey.generate(), ca=True)
    other = mldsa.MLDSA65PrivateKey.generate()
    with pytest.raises(VerificationError, match=r"signature algorithm ML-DSA-87 does not match "
                                                r"issuer key \(ML-DSA-65 key\)"):
        verify_certificate_signature(root[0], other.public_key())


def test_ed25519_chain():
    root = issue("Ed Root", ed25519.Ed25519PrivateKey.generate(), ca=True)
    leaf = issue("ed.example", ed25519.Ed25519PrivateKey.generate(), root)
    assert verify_certificate(leaf[0], [root[0]], at=AT).valid


def test_mixed_algorithm_chain():
    root = issue("EC Root", p384(), ca=True, digest=hashes.SHA384())
    inter = issue("ML-DSA Issuing", mldsa.MLDSA65PrivateKey.generate(), root, ca=True,
                  digest=hashes.SHA384())
    leaf = issue("leaf", p256(), inter)
    crl = make_crl(inter)
    result = verify_certificate(leaf[0], [root[0]], [inter[0]], crls=[crl], at=AT)
    assert result.valid, result.reason


# --------------------------------------------------------------------------
# Malformed input
# --------------------------------------------------------------------------

def test_garbage_certificate_is_an_input_error(pki):
    with pytest.raises(InputError, match="^certificate: not a PEM or DER certificate$"):
        verify_certificate(b"junk", [pki["root"][0]])
    with pytest.raises(InputError, match="^CRL: not a PEM or DER CRL$"):
        verify_certificate(pki["leaf"][0], [pki["root"][0]], crls=[b"\x30\x03\x02\x01"])
    with pytest.raises(InputError, match="not a certificate"):
        verify_certificate(42, [pki["root"][0]])


def test_time_must_be_a_datetime(pki):
    with pytest.raises(InputError, match="datetime"):
        _check(pki, at="2026-03-01")


def test_outer_and_inner_signature_algorithms_must_agree(pki):
    # Rewrite the outer signatureAlgorithm to SHA-512 while the TBS says SHA-384.
    cert = pki["inter"][0]
    decoded, dummy = decoder.decode(cert.public_bytes(serialization.Encoding.DER),
                                    asn1Spec=rfc5280.Certificate())
    decoded["signatureAlgorithm"]["algorithm"] = univ.ObjectIdentifier(
        "1.2.840.10045.4.3.4")
    tampered = x509.load_der_x509_certificate(encoder.encode(decoded))
    with pytest.raises(VerificationError, match="differs from the signature field"):
        verify_certificate_signature(tampered, pki["root"][1].public_key())
    result = verify_certificate(tampered, [pki["root"][0]], at=AT)
    assert not result.valid and "differs" in result.reason
