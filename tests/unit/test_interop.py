"""Our verifier against certificates, CRLs and CSRs made by QPKI (Go).

The vectors are vendored in tests/vectors/qpki (origin and licence in its
README). They are required: a missing file FAILS the tests, so a broken
checkout can never look like a pass.

Each artifact must verify against its CA at a fixed moment inside its
validity window, and must fail once one byte of its signature is flipped.
ML-DSA signatures are also checked with dilithium-py, an implementation we
did not write, so our verdicts are cross-checked.
"""


import pytest
from cryptography import x509

from qpki.errors import InputError, VerificationError
from qpki.x509.parse import (load_certificate, load_certificate_file, load_crl, load_crl_file,
                             load_csr, load_csr_file, public_key_of_certificate,
                             public_key_of_csr)
from qpki.x509.signature import (verify_certificate_signature, verify_crl_signature,
                                 verify_csr_signature)
from qpki.x509.verify import verify_certificate, verify_crl

from interop_vectors import (AFTER_CRLS, AFTER_LEAVES, AT, flip_signature_byte, qpki_vectors,
                             vector_path)

FAMILIES = ["classical/ecdsa", "classical/rsa", "pqc/mldsa"]
LEAVES = ["certs/%02d.crt" % n for n in range(2, 7)]
CRLS = ["crl/ca.crl", "crl/ca.crl.der"]
CSRS = ["csr/ecdsa.csr", "csr/mldsa87.csr"]


@pytest.fixture(scope="module")
def qpki_dir():
    return qpki_vectors()


def _ca(qpki_dir, family):
    return load_certificate_file(qpki_dir / family / "ca.crt")


def _der(obj):
    from cryptography.hazmat.primitives.serialization import Encoding

    return obj.public_bytes(Encoding.DER)


# --------------------------------------------------------------------------
# The vectors are all there and all covered
# --------------------------------------------------------------------------

def test_vectors_carry_their_origin_and_licence():
    readme = vector_path("qpki/README.md").read_text()
    assert "github.com/remiblancher/qpki" in readme and "Apache-2.0" in readme


def test_every_vector_is_covered(qpki_dir):
    expected = {"%s/%s" % (f, name) for f in FAMILIES for name in ["ca.crt"] + LEAVES + CRLS}
    expected |= set(CSRS)
    # composite-legacy/ and ca-dirs/ belong to the legacy-format and CA-directory tests.
    found = {p.relative_to(qpki_dir).as_posix()
             for folder in [*FAMILIES, "csr"] for p in (qpki_dir / folder).rglob("*")
             if p.is_file()}
    assert found == expected


# --------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_ca_certificate_is_self_signed_and_trusted(qpki_dir, family):
    ca = _ca(qpki_dir, family)
    verify_certificate_signature(ca, public_key_of_certificate(ca))
    result = verify_certificate(ca, [ca], at=AT)
    assert result.valid, result.reason
    assert result.path == [ca.subject.rfc4514_string()]


@pytest.mark.parametrize("name", LEAVES)
@pytest.mark.parametrize("family", FAMILIES)
def test_certificate_verifies_against_its_ca(qpki_dir, family, name):
    ca = _ca(qpki_dir, family)
    cert = load_certificate_file(qpki_dir / family / name)
    verify_certificate_signature(cert, public_key_of_certificate(ca))
    crls = [load_crl_file(qpki_dir / family / c) for c in CRLS]
    result = verify_certificate(cert, [ca], crls=crls, at=AT)
    assert result.valid, result.reason
    assert result.rule == "ok" and not result.revoked
    assert result.path == [cert.subject.rfc4514_string(), ca.subject.rfc4514_string()]
    assert any("checked against CRL" in line for line in result.details)


@pytest.mark.parametrize("name", ["ca.crt"] + LEAVES)
@pytest.mark.parametrize("family", FAMILIES)
def test_flipped_certificate_signature_fails(qpki_dir, family, name):
    ca = _ca(qpki_dir, family)
    cert = load_certificate_file(qpki_dir / family / name)
    damaged = x509.load_der_x509_certificate(flip_signature_byte(_der(cert)))
    with pytest.raises(VerificationError) as info:
        verify_certificate_signature(damaged, public_key_of_certificate(ca))
    assert "signature does not verify with issuer CN=%s" % ca.subject.get_attributes_for_oid(
        x509.NameOID.COMMON_NAME)[0].value in str(info.value)
    if name != "ca.crt":  # a trusted CA certificate is an anchor, not re-checked
        result = verify_certificate(damaged, [ca], at=AT)
        assert not result.valid and result.rule == "signature.invalid"
        assert "signature does not verify" in result.reason


@pytest.mark.parametrize("family", FAMILIES)
def test_leaves_expire_in_2027(qpki_dir, family):
    ca = _ca(qpki_dir, family)
    cert = load_certificate_file(qpki_dir / family / "certs/02.crt")
    result = verify_certificate(cert, [ca], at=AFTER_LEAVES)
    assert not result.valid and result.rule == "validity.expired"
    assert result.reason.startswith("certificate has expired (notAfter 2027-02-14T")
    assert verify_certificate(cert, [ca], at=AFTER_LEAVES, check_time=False).valid


def test_wrong_ca_gives_no_path(qpki_dir):
    rsa_ca = _ca(qpki_dir, "classical/rsa")
    cert = load_certificate_file(qpki_dir / "classical/ecdsa/certs/02.crt")
    result = verify_certificate(cert, [rsa_ca], at=AT)
    assert not result.valid and result.rule == "chain.no_path"
    assert result.reason.startswith("no path to a trusted root")


def test_key_of_another_type_is_named(qpki_dir):
    rsa_ca = _ca(qpki_dir, "classical/rsa")
    cert = load_certificate_file(qpki_dir / "classical/ecdsa/certs/02.crt")
    with pytest.raises(VerificationError) as info:
        verify_certificate_signature(cert, public_key_of_certificate(rsa_ca))
    assert str(info.value) == ("certificate CN=ecdsa.test.local: signature algorithm "
                               "ecdsa-with-SHA384 does not match issuer key (RSA-4096 key)")


# --------------------------------------------------------------------------
# CRLs
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", CRLS)
@pytest.mark.parametrize("family", FAMILIES)
def test_crl_verifies_against_its_ca(qpki_dir, family, name):
    ca = _ca(qpki_dir, family)
    crl = load_crl_file(qpki_dir / family / name)
    verify_crl_signature(crl, public_key_of_certificate(ca))
    result = verify_crl(crl, ca, at=AT)
    assert result.valid, result.reason
    # Their nextUpdate is long past: stale now, fine without time checks.
    stale = verify_crl(crl, ca, at=AFTER_CRLS)
    assert not stale.valid and stale.rule == "crl.expired"
    assert "has expired (nextUpdate 2026-02-21T" in stale.reason
    assert verify_crl(crl, ca, check_time=False).valid


@pytest.mark.parametrize("name", CRLS)
@pytest.mark.parametrize("family", FAMILIES)
def test_flipped_crl_signature_fails(qpki_dir, family, name):
    ca = _ca(qpki_dir, family)
    crl = load_crl_file(qpki_dir / family / name)
    damaged = x509.load_der_x509_crl(flip_signature_byte(_der(crl)))
    with pytest.raises(VerificationError, match="signature does not verify"):
        verify_crl_signature(damaged, public_key_of_certificate(ca))
    result = verify_crl(damaged, ca, at=AT)
    assert not result.valid and result.rule == "crl.invalid"
    # A leaf checked with that CRL fails too: its issuer's CRL is not authentic.
    leaf = load_certificate_file(qpki_dir / family / "certs/02.crt")
    chained = verify_certificate(leaf, [ca], crls=[damaged], at=AT)
    assert not chained.valid and chained.rule == "crl.invalid"


def test_crl_of_another_ca_is_refused(qpki_dir):
    crl = load_crl_file(qpki_dir / "classical/rsa/crl/ca.crl")
    result = verify_crl(crl, _ca(qpki_dir, "classical/ecdsa"), at=AT)
    assert not result.valid and result.rule == "crl.invalid"


def test_pem_and_der_crls_are_the_same(qpki_dir):
    for family in FAMILIES:
        pem = load_crl((qpki_dir / family / "crl/ca.crl").read_bytes(), "pem")
        der = load_crl((qpki_dir / family / "crl/ca.crl.der").read_bytes(), "der")
        assert _der(pem) == _der(der)


# --------------------------------------------------------------------------
# CSRs
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", CSRS)
def test_csr_verifies_itself(qpki_dir, name):
    csr = load_csr_file(qpki_dir / name)
    verify_csr_signature(csr)


@pytest.mark.parametrize("name", CSRS)
def test_flipped_csr_signature_fails(qpki_dir, name):
    csr = load_csr_file(qpki_dir / name)
    damaged = load_csr(flip_signature_byte(_der(csr)), "damaged")
    with pytest.raises(VerificationError, match=r"^certificate request CN=CSR Test .*: "
                                                r"signature does not verify \("):
        verify_csr_signature(damaged)


def test_certificate_loader_refuses_a_csr(qpki_dir):
    with pytest.raises(InputError, match="not a PEM or DER certificate "
                                         r"\(found PEM CERTIFICATE REQUEST\)"):
        load_certificate((qpki_dir / "csr/ecdsa.csr").read_bytes(), "file ecdsa.csr")


# --------------------------------------------------------------------------
# dilithium-py agrees on every ML-DSA signature
# --------------------------------------------------------------------------

def _dilithium(public_key):
    from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87

    raw = public_key.public_bytes_raw()
    scheme = {1312: ML_DSA_44, 1952: ML_DSA_65, 2592: ML_DSA_87}[len(raw)]
    return lambda message, signature: scheme.verify(raw, message, signature, ctx=b"")


def _mldsa_artifacts(qpki_dir):
    """(label, tbs, signature, signer public key) of every ML-DSA signature."""
    family = qpki_dir / "pqc/mldsa"
    ca = load_certificate_file(family / "ca.crt")
    ca_key = public_key_of_certificate(ca)
    out = [("ca.crt", ca.tbs_certificate_bytes, ca.signature, ca_key)]
    for name in LEAVES:
        cert = load_certificate_file(family / name)
        out.append((name, cert.tbs_certificate_bytes, cert.signature, ca_key))
    for name in CRLS:
        crl = load_crl_file(family / name)
        out.append((name, crl.tbs_certlist_bytes, crl.signature, ca_key))
    csr = load_csr_file(qpki_dir / "csr/mldsa87.csr")
    out.append(("mldsa87.csr", csr.tbs_certrequest_bytes, csr.signature, public_key_of_csr(csr)))
    return out


def test_dilithium_py_agrees_on_mldsa_signatures(qpki_dir):
    artifacts = _mldsa_artifacts(qpki_dir)
    assert len(artifacts) == 9
    for label, tbs, signature, key in artifacts:
        verify = _dilithium(key)
        assert verify(tbs, signature) is True, label
        damaged = bytearray(signature)
        damaged[-8] ^= 0x01
        assert verify(tbs, bytes(damaged)) is False, label


def test_dilithium_py_rejects_what_we_reject(qpki_dir):
    """Same damaged certificate: both implementations say no."""
    family = qpki_dir / "pqc/mldsa"
    ca = load_certificate_file(family / "ca.crt")
    cert = load_certificate_file(family / "certs/02.crt")
    damaged = x509.load_der_x509_certificate(flip_signature_byte(_der(cert)))
    key = public_key_of_certificate(ca)
    assert _dilithium(key)(damaged.tbs_certificate_bytes, damaged.signature) is False
    with pytest.raises(VerificationError, match=r"\(ML-DSA-87\)$"):
        verify_certificate_signature(damaged, key)


def test_missing_vector_fails_not_skips(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="test vector missing: .*nowhere"):
        vector_path("nowhere/ca.crt", root=tmp_path)
