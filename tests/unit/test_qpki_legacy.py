"""QPKI's non-standard forms: legacy composite (pre-draft-13) and catalyst CSRs.

Vectors: tests/vectors/qpki (QPKI's own, shared set), tests/vectors/qpki-extra
(crossval/: more of QPKI's own files; made/: made the way QPKI makes them,
see its README). The construction is first checked on QPKI's bytes by code
that does not use qpki (cryptography's primitives and pyasn1), then our
reader must accept what QPKI made, say it is legacy, and refuse every
damaged variant, naming the component that fails. What we produce stays
draft-13 and the standard catalyst attributes.
"""

import subprocess

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.hazmat.primitives.serialization import Encoding
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ
from pyasn1_modules import rfc2986, rfc5280

import hybrid_reference as ref
from qpki_vectors import (AT, CROSSVAL, MADE, QPKI, QPKI_CATALYST_OIDS, csr_attribute_values,
                          der_of, legacy_pair, qpki_alt_public_key, signed_parts, spki_of,
                          with_signature)
from qpki.algorithms.composite_legacy import LegacyCompositePublicKey
from qpki.algorithms.composite_params import params_by_name
from qpki.errors import InputError, VerificationError
from qpki.x509.catalyst import QPKI_CSR, csr_catalyst
from qpki.x509.catalyst_verify import check_catalyst_csr
from qpki.x509.legacy import composite_form, legacy_findings
from qpki.x509.parse import (load_certificate, load_certificate_file, load_crl, load_crl_file,
                             load_csr, load_csr_file, public_key_of_certificate,
                             public_key_of_csr)
from qpki.x509.signature import (verify_certificate_signature, verify_crl_signature,
                                 verify_csr_signature)
from qpki.x509.verify import verify_certificate, verify_crl

QPKI_CA = QPKI / "composite-legacy/ca.crt"
QPKI_LEAF = QPKI / "composite-legacy/certs/02.crt"
QPKI_CRL = CROSSVAL / "composite/ca/crl/ca.crl"
QPKI_CSR_COMPOSITE = CROSSVAL / "csr/composite.csr"
QPKI_CSR_CATALYST = CROSSVAL / "csr/catalyst.csr"
MADE_LEGACY = MADE / "composite-legacy-mldsa65"
MADE_CATALYST = MADE / "csr/catalyst-p384-mldsa87.csr"

# (object, its issuer) for every signed composite object: the issuer's key checks it.
SIGNED = [
    (QPKI_CA, QPKI_CA), (QPKI_LEAF, QPKI_CA), (QPKI_CRL, QPKI_CA),
    (QPKI_CSR_COMPOSITE, None),
    (MADE_LEGACY / "ca.crt", MADE_LEGACY / "ca.crt"),
    (MADE_LEGACY / "certs/02.crt", MADE_LEGACY / "ca.crt"),
    (MADE_LEGACY / "crl/ca.crl", MADE_LEGACY / "ca.crt"),
    (MADE_LEGACY / "crl/ca.crl.der", MADE_LEGACY / "ca.crt"),
    (MADE_LEGACY / "leaf.csr", None),
]
IDS = [f"{p.parent.name}/{p.name}" for p, dummy in SIGNED]
CURVES = {"1.3.6.1.5.5.7.6.45": ec.SECP256R1, "1.3.6.1.5.5.7.6.46": ec.SECP384R1,
          "1.3.6.1.5.5.7.6.54": ec.SECP521R1}


def _pair(data):
    """The two octet strings of a SEQUENCE OF two BIT STRINGs, or None."""
    try:
        seq, rest = decoder.decode(data)
        parts = [seq[0].asOctets(), seq[1].asOctets()]
    except Exception:  # noqa: BLE001 - pyasn1 error, or not two BIT STRINGs
        return None
    return None if rest or len(seq) != 2 else parts


def reference_legacy_ok(signed_der, key_der):
    """(ML-DSA ok, ECDSA ok) under QPKI's construction, without qpki:
    M = DER(OID) || TBS; ML-DSA over M, empty context; ECDSA-SHA-512 over M."""
    tbs, oid, signature = signed_parts(signed_der)
    key_oid, key_bits = spki_of(key_der)
    assert key_oid == oid
    if _pair(key_bits) is None or _pair(signature) is None:
        return (False, False)
    mldsa_pk, point = _pair(key_bits)
    mldsa_sig, ecdsa_sig = _pair(signature)
    message = encoder.encode(univ.ObjectIdentifier(oid)) + tbs
    cls = mldsa.MLDSA87PublicKey if len(mldsa_pk) == 2592 else mldsa.MLDSA65PublicKey
    results = []
    try:
        cls.from_public_bytes(mldsa_pk).verify(mldsa_sig, message, b"")
        results.append(True)
    except Exception:  # noqa: BLE001 - InvalidSignature
        results.append(False)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(CURVES[oid](), point).verify(
            ecdsa_sig, message, ec.ECDSA(hashes.SHA512()))
        results.append(True)
    except Exception:  # noqa: BLE001 - InvalidSignature
        results.append(False)
    return tuple(results)


def kind_of(path):
    if path.suffix == ".csr":
        return "csr"
    return "crl" if path.parent.name == "crl" else "certificate"


def check_signature(data, kind, issuer):
    """Our verification of a certificate, CRL or request (bytes)."""
    if kind == "csr":
        csr = load_csr(data)
        verify_csr_signature(csr)
        return csr
    key = public_key_of_certificate(load_certificate_file(issuer))
    if kind == "crl":
        crl = load_crl(data)
        verify_crl_signature(crl, key)
        return crl
    cert = load_certificate(data)
    verify_certificate_signature(cert, key)
    return cert


# --------------------------------------------------------------------------
# The construction, checked on QPKI's bytes without qpki
# --------------------------------------------------------------------------

@pytest.mark.parametrize("signed,issuer", SIGNED, ids=IDS)
def test_reference_construction_holds_for_every_vector(signed, issuer):
    assert reference_legacy_ok(der_of(signed), der_of(issuer or signed)) == (True, True)


# --------------------------------------------------------------------------
# Our reader: verifies, says legacy, refuses damage
# --------------------------------------------------------------------------

@pytest.mark.parametrize("signed,issuer", SIGNED, ids=IDS)
def test_legacy_objects_verify_and_are_reported(signed, issuer):
    obj = check_signature(signed.read_bytes(), kind_of(signed), issuer)
    if kind_of(signed) == "csr":
        assert isinstance(public_key_of_csr(obj), LegacyCompositePublicKey)
    assert composite_form(obj) == "legacy"
    [finding] = legacy_findings(obj)
    assert "QPKI's pre-draft-13 composite form" in finding and "not a standard" in finding


def test_qpki_chain_and_crl_verify_with_legacy_notes():
    ca, leaf = load_certificate_file(QPKI_CA), load_certificate_file(QPKI_LEAF)
    result = verify_certificate(leaf, [ca], crls=[load_crl_file(QPKI_CRL)], at=AT)
    assert result.valid, result.reason
    assert result.path == [leaf.subject.rfc4514_string(), ca.subject.rfc4514_string()]
    assert [line.split(":")[0] for line in result.legacy] == [
        "certificate CN=composite.test.local", "certificate CN=Test Composite CA",
        "CRL of CN=Test Composite CA"]
    crl = verify_crl(load_crl_file(QPKI_CRL), ca, at=AT)
    assert crl.valid and len(crl.legacy) == 1


def test_made_crl_lists_the_revoked_leaf():
    ca, leaf = load_certificate_file(MADE_LEGACY / "ca.crt"), load_certificate_file(MADE_LEGACY / "certs/02.crt")
    result = verify_certificate(leaf, [ca], crls=[load_crl_file(MADE_LEGACY / "crl/ca.crl.der")], at=AT)
    assert not result.valid and result.rule == "revocation.revoked"
    assert result.revocation_reason == "keyCompromise"


@pytest.mark.parametrize("signed,issuer", SIGNED, ids=IDS)
@pytest.mark.parametrize("component", ["ML-DSA", "ECDSA"])
def test_a_damaged_component_is_named(signed, issuer, component):
    der = der_of(signed)
    tbs, oid, signature = signed_parts(der)
    first, second = _pair(signature)
    if component == "ML-DSA":
        first = first[:40] + bytes([first[40] ^ 1]) + first[41:]
    else:
        second = second[:-3] + bytes([second[-3] ^ 1]) + second[-2:]
    damaged = with_signature(der, legacy_pair(first, second))
    assert reference_legacy_ok(damaged, der_of(issuer or signed)) == (
        (False, True) if component == "ML-DSA" else (True, False))
    with pytest.raises(VerificationError, match=f"legacy signature is invalid: {component} "
                                                "component does not verify"):
        check_signature(damaged, kind_of(signed), issuer)


def test_a_tbs_change_breaks_both_components():
    der = der_of(QPKI_LEAF)
    cert, dummy = decoder.decode(der, asn1Spec=rfc5280.Certificate())
    cert["tbsCertificate"]["serialNumber"] = 3
    damaged = encoder.encode(cert)
    ca = load_certificate_file(QPKI_CA)
    result = verify_certificate(damaged, [ca], at=AT)
    assert not result.valid and result.rule == "signature.invalid"
    assert "ML-DSA and ECDSA components do not verify" in result.reason


def test_draft13_signature_under_a_legacy_key_is_refused():
    key = public_key_of_certificate(load_certificate_file(QPKI_CA))
    tbs, _oid, signature = signed_parts(der_of(QPKI_LEAF))
    first, second = _pair(signature)
    with pytest.raises(VerificationError, match="not in the legacy encoding"):
        key.verify(first + second, tbs)


def test_legacy_key_without_a_known_construction_is_refused():
    # ML-DSA-44 + Ed25519 in the legacy wrapper: no producer's construction is known.
    params = params_by_name("composite-mldsa44-ed25519")
    raw = legacy_pair(b"\x01" * 1312, b"\x02" * 32)
    with pytest.raises(InputError, match="no known legacy construction"):
        LegacyCompositePublicKey.from_bytes(params, raw)


def test_legacy_key_cannot_be_written_out():
    key = public_key_of_certificate(load_certificate_file(QPKI_CA))
    assert not hasattr(key, "public_bytes_raw") and not hasattr(key, "spki_der")
    from qpki.algorithms.registry import algorithm_for_public_key

    assert algorithm_for_public_key(key) is None  # so no profile accepts it as a subject key


# --------------------------------------------------------------------------
# QPKI's catalyst CSRs
# --------------------------------------------------------------------------

CATALYST_CSRS = [QPKI_CSR_CATALYST, MADE_CATALYST]


def reference_qpki_catalyst_alt_ok(csr_der):
    """QPKI's alternative proof of possession, without qpki: ML-DSA (dilithium-py)
    over the DER request info with only the attributes other than .100-.102."""
    request, dummy = decoder.decode(csr_der, asn1Spec=rfc2986.CertificationRequest())
    info = request["certificationRequestInfo"]
    plain = rfc2986.CertificationRequestInfo()
    for name in ("version", "subject", "subjectPKInfo"):
        plain[name] = info[name]
    kept = [a for a in info["attributes"] if str(a["type"]) not in QPKI_CATALYST_OIDS]
    for position, attribute in enumerate(kept):
        plain["attributes"].setComponentByPosition(position, attribute)
    values = csr_attribute_values(csr_der)
    key_oid, alt_key, signature = (values[oid] for oid in QPKI_CATALYST_OIDS)
    spki, dummy = decoder.decode(key_oid, asn1Spec=rfc5280.SubjectPublicKeyInfo())
    algorithm, dummy = decoder.decode(alt_key, asn1Spec=rfc5280.AlgorithmIdentifier())
    bits, dummy = decoder.decode(signature, asn1Spec=univ.BitString())
    oid = str(algorithm["algorithm"])
    assert str(spki["algorithm"]["algorithm"]) == oid
    return ref.ML_DSA[oid].verify(spki["subjectPublicKey"].asOctets(), encoder.encode(plain),
                                  bits.asOctets())


@pytest.mark.parametrize("path", CATALYST_CSRS, ids=lambda p: p.name)
def test_qpki_catalyst_csr_is_read_and_both_signatures_verify(path):
    der = der_of(path)
    assert reference_qpki_catalyst_alt_ok(der)
    done = subprocess.run(["openssl", "req", "-in", str(path), "-noout", "-verify"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "verify OK" in done.stdout + done.stderr, done
    csr = load_csr_file(path)  # was "not a PEM or DER certificate request"
    assert getattr(csr, "reencoded", False)  # its attributes are not in DER order
    assert csr.public_bytes(Encoding.DER) == der  # written out as received
    verify_csr_signature(csr)
    found = check_catalyst_csr(csr)
    assert found.convention is QPKI_CSR and not found.convention.standard
    assert found.alt_public_key.public_bytes_raw() == qpki_alt_public_key(der)


@pytest.mark.parametrize("path", CATALYST_CSRS, ids=lambda p: p.name)
def test_damaged_qpki_alternative_signature_is_refused(path):
    der = der_of(path)
    old = csr_attribute_values(der)[QPKI_CATALYST_OIDS[2]]
    new = old[:-5] + bytes([old[-5] ^ 1]) + old[-4:]
    damaged = der.replace(old, new)
    assert not reference_qpki_catalyst_alt_ok(damaged)
    with pytest.raises(VerificationError, match="alternative signature .* does not verify"):
        check_catalyst_csr(load_csr(damaged))


@pytest.mark.parametrize("path", CATALYST_CSRS, ids=lambda p: p.name)
def test_damaged_qpki_classical_signature_is_refused(path):
    der = der_of(path)
    _tbs, _oid, signature = signed_parts(der)
    r_s, dummy = decoder.decode(signature)
    r_s[0] = int(r_s[0]) ^ 1
    damaged = with_signature(der, encoder.encode(r_s))
    with pytest.raises(VerificationError, match="signature does not verify"):
        verify_csr_signature(load_csr(damaged))


def test_mixed_attribute_conventions_are_refused():
    der = der_of(QPKI_CSR_CATALYST)
    request, dummy = decoder.decode(der, asn1Spec=rfc2986.CertificationRequest())
    info = request["certificationRequestInfo"]
    for attribute in info["attributes"]:
        if str(attribute["type"]) == "2.16.840.1.101.2.1.2.101":
            attribute["type"] = univ.ObjectIdentifier("2.5.29.73")
    with pytest.raises(InputError, match="mixes catalyst attributes"):
        csr_catalyst(encoder.encode(info))


# --------------------------------------------------------------------------
# What the CA makes of them, and what qpki writes itself
# --------------------------------------------------------------------------

def test_ca_issues_a_standard_catalyst_certificate_from_a_qpki_catalyst_csr(tmp_path):
    from qpki.ops.ca.commands import ca_init
    from qpki.ops.cert.commands import cert_issue

    ca_init(str(tmp_path / "root"), "hybrid/catalyst/root-ca", {"cn": "Catalyst Root"})
    issued = cert_issue(str(tmp_path / "root"), "hybrid/catalyst/tls-server",
                        QPKI_CSR_CATALYST.read_bytes(), str(tmp_path / "leaf.crt"),
                        {"cn": "csr.catalyst.test.local"}, csr_where="catalyst.csr")
    assert issued.changed
    leaf, root = der_of(tmp_path / "leaf.crt"), der_of(tmp_path / "root/ca.crt")
    assert ref.classical_ok(leaf, root)
    assert ref.catalyst_alt_ok(leaf, root)  # X.509 §9.8 extensions, checked with dilithium-py
    extensions = {e.oid.dotted_string for e in load_certificate(leaf).extensions}
    assert {"2.5.29.72", "2.5.29.73", "2.5.29.74"} <= extensions
    assert not extensions & set(QPKI_CATALYST_OIDS)
    # The certified alternative key is the one QPKI's request proved possession of.
    assert ref.alt_public_key(leaf)[1] == qpki_alt_public_key(der_of(QPKI_CSR_CATALYST))


def test_what_qpki_writes_is_draft13_composite(tmp_path):
    from qpki.ops.ca.commands import ca_init
    from qpki.ops.credential.enroll import credential_enroll
    from qpki.ops.crl.commands import crl_gen
    from qpki.ops.keys.commands import csr_gen

    ca_init(str(tmp_path / "root"), "hybrid/composite/root-ca", {"cn": "Composite Root"})
    leaf = credential_enroll(str(tmp_path / "root"), str(tmp_path / "creds"),
                             "hybrid/composite/tls-server", {"cn": "c.example.com"}).to_dict()
    crl = crl_gen(str(tmp_path / "root")).to_dict()
    csr_gen(str(tmp_path / "c.csr"), "c.example.com", algorithm="composite-mldsa65-ecdsa-p256",
            key_out=str(tmp_path / "c.key"))
    root = der_of(tmp_path / "root/ca.crt")
    signed = {"root": (root, root), "leaf": (der_of(leaf["cert_path"]), root),
              "crl": (der_of(crl["paths"][0]), root), "csr": (der_of(tmp_path / "c.csr"), None)}
    for name, (der, issuer) in signed.items():
        tbs, oid, signature = signed_parts(der)
        key_oid, raw_key = spki_of(issuer or der)
        # Under the draft-13 construction (reference code, not qpki's): raw
        # concatenations, Prefix || Label || len(ctx) || ctx || PH(M).
        assert ref.composite_components_ok(oid, raw_key, signature, tbs) == (True, True), name
        assert reference_legacy_ok(der, issuer or der) == (False, False), name
        obj = {"crl": load_crl, "csr": load_csr}.get(name, load_certificate)(der)
        assert composite_form(obj) == "draft-13" and legacy_findings(obj) == [], name


def test_damaged_ber_requests_give_only_one_line_errors():
    from qpki.errors import QpkiError

    der = der_of(QPKI_CSR_CATALYST)
    variants = [der[:n] for n in range(0, len(der), 97)]
    variants += [der[:n] + bytes([der[n] ^ 0xFF]) + der[n + 1:] for n in range(0, len(der), 61)]
    outcomes = {"read": 0, "refused": 0}
    for data in variants:
        try:
            csr = load_csr(data)
        except InputError as exc:
            assert "\n" not in str(exc)
            outcomes["refused"] += 1
            continue
        outcomes["read"] += 1
        for check in (verify_csr_signature, check_catalyst_csr):
            try:
                check(csr)
            except QpkiError as exc:
                assert "\n" not in str(exc)
    assert outcomes["refused"] > 0 and outcomes["read"] > 0
