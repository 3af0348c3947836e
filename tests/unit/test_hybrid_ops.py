"""Catalyst CAs, credentials, issuance and verification through ops.

Every verdict of qpki's verifier here is checked again by code we did not
write (hybrid_reference.py: dilithium-py over the PreTBS rebuilt from the
X.509 ASN.1, cryptography's ECDSA called directly, and ``openssl verify``
for the classical chain), and must agree."""

import json
import os
import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from qpki.algorithms.registry import get_algorithm
from qpki.errors import InputError
from qpki.ops.ca.authority import Authority
from qpki.ops.ca.commands import ca_init
from qpki.ops.cert.commands import cert_issue, cert_verify
from qpki.ops.credential.enroll import credential_enroll
from qpki.ops.crl.commands import crl_gen, crl_verify
from qpki.ops.describe.objects import describe_certificate, describe_crl
from qpki.ops.cert.issuance import issue
from qpki.ops.keys.commands import csr_gen
from qpki.profiles.loader import load_profile
from qpki.signer.software import SoftwareSigner
from qpki.store.lock import ca_lock
from qpki.x509.catalyst_sign import sign_catalyst_csr
from qpki.x509.catalyst_verify import alt_public_key
from qpki.x509.crl import build_crl
from qpki.x509.verify import verify_certificate, verify_crl

import hybrid_reference as ref


def pem_of(obj):
    return obj.public_bytes(Encoding.PEM)


def der_of(pem):
    """DER of a PEM certificate or CRL."""
    if b"X509 CRL" in pem:
        return x509.load_pem_x509_crl(pem).public_bytes(Encoding.DER)
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


def openssl_verifies(tmp_path, root_pem, issuing_pem, leaf_pem):
    """``openssl verify`` of the classical chain (it ignores the catalyst extensions)."""
    for name, data in (("root.pem", root_pem), ("issuing.pem", issuing_pem),
                       ("leaf.pem", leaf_pem)):
        (tmp_path / name).write_bytes(data)
    done = subprocess.run(["openssl", "verify", "-CAfile", "root.pem", "-untrusted",
                           "issuing.pem", "leaf.pem"], cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    return done.returncode == 0 and done.stdout.strip().endswith(": OK")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    base = tmp_path_factory.mktemp("hybrid")
    ca_init(str(base / "root"), "hybrid/catalyst/root-ca", {"cn": "Catalyst Root"})
    ca_init(str(base / "issuing"), "hybrid/catalyst/issuing-ca", {"cn": "Catalyst Issuing"},
            parent_dir=str(base / "root"))
    leaf = credential_enroll(str(base / "issuing"), str(base / "creds"),
                             "hybrid/catalyst/tls-server", {"cn": "www.example.com"}).to_dict()

    def read(path):
        with open(path, "rb") as handle:
            return handle.read()

    return {"base": base, "enroll": leaf, "root": read(base / "root/ca.crt"),
            "issuing": read(base / "issuing/ca.crt"), "leaf": read(leaf["cert_path"])}


def test_ca_meta_has_classical_and_pqc_keys(pki):
    meta = json.loads((pki["base"] / "root/ca.meta.json").read_text())
    assert meta["profile"] == "hybrid/catalyst/root-ca"
    assert meta["keys"] == [
        {"id": "classical", "algorithm": "ecdsa-p384",
         "storage": {"type": "software", "path": "private/ca.ecdsa-p384.key"}},
        {"id": "pqc", "algorithm": "ml-dsa-87",
         "storage": {"type": "software", "path": "private/ca.ml-dsa-87.key"}},
    ]
    for name in ("ca.ecdsa-p384.key", "ca.ml-dsa-87.key"):
        mode = os.stat(pki["base"] / "root/private" / name).st_mode
        assert stat.S_IMODE(mode) == 0o600
    issuing = json.loads((pki["base"] / "issuing/ca.meta.json").read_text())
    assert [(k["id"], k["algorithm"]) for k in issuing["keys"]] == [
        ("classical", "ecdsa-p256"), ("pqc", "ml-dsa-65")]


def test_ca_certificates_carry_their_pqc_keys(pki):
    with Authority(str(pki["base"] / "issuing")) as authority:
        assert authority.alt_signer.algorithm.name == "ml-dsa-65"
        assert alt_public_key(authority.cert) == authority.alt_signer.public_key()
        assert authority.signer.algorithm.name == "ecdsa-p256"


def test_credential_lists_both_keys(pki):
    cred_dir = pki["base"] / "creds" / pki["enroll"]["id"]
    meta = json.loads((cred_dir / "credential.meta.json").read_text())
    (entry,) = meta["certificates"]
    assert entry["algorithm"] == "ecdsa-p256" and entry["alt_algorithm"] == "ml-dsa-65"
    assert entry["storage"] == [{"type": "software", "path": "signature.ecdsa-p256.key"},
                                {"type": "software", "path": "signature.ml-dsa-65.key"}]
    from qpki.signer.keyfile import read_private_key

    leaf = x509.load_pem_x509_certificate(pki["leaf"])
    alt_key = read_private_key(str(cred_dir / "signature.ml-dsa-65.key"))
    assert alt_public_key(leaf) == alt_key.public_key()


def test_full_and_classical_only_verification(pki, tmp_path):
    result = cert_verify(pki["leaf"], pki["root"], pki["issuing"])
    assert result["valid"], result
    assert any("alternative signature (ML-DSA-65) verified" in d for d in result["details"])
    assert any("alternative signature (ML-DSA-87) verified" in d for d in result["details"])
    assert cert_verify(pki["leaf"], pki["root"], pki["issuing"], classical_only=True)["valid"]
    # The same verdicts from code we did not write.
    root, issuing, leaf = (der_of(pki[k]) for k in ("root", "issuing", "leaf"))
    for signed, issuer in ((root, root), (issuing, root), (leaf, issuing)):
        assert ref.classical_ok(signed, issuer) and ref.catalyst_alt_ok(signed, issuer)
    assert openssl_verifies(tmp_path, pki["root"], pki["issuing"], pki["leaf"])


def _rogue_pqc(authority, algorithm):
    """Swap the CA's PQC signer for an unrelated key of the same algorithm."""
    authority.signers["pqc"] = SoftwareSigner(get_algorithm(algorithm).generate(), algorithm)


def test_bad_alternative_signature_is_named(pki, tmp_path):
    issuing_dir = str(pki["base"] / "issuing")
    with Authority(issuing_dir) as authority:
        _rogue_pqc(authority, "ml-dsa-65")
        profile = load_profile("ec/tls-server")
        rendered = profile.render({"cn": "rogue.example.com"})
        key = get_algorithm("ecdsa-p256").generate()
        with ca_lock(issuing_dir):
            cert = issue(authority, profile, rendered, key.public_key())
    result = cert_verify(pem_of(cert), pki["root"], pki["issuing"])
    assert not result["valid"]
    assert "alternative signature (ML-DSA-65) does not verify" in result["reason"]
    assert "the classical signature verified" in result["reason"]
    # A legacy client sees a good certificate.
    assert cert_verify(pem_of(cert), pki["root"], pki["issuing"], classical_only=True)["valid"]
    issuing = der_of(pki["issuing"])
    der = cert.public_bytes(Encoding.DER)
    assert ref.classical_ok(der, issuing) and not ref.catalyst_alt_ok(der, issuing)
    assert openssl_verifies(tmp_path, pki["root"], pki["issuing"], pem_of(cert))


def test_bad_classical_signature_is_named(pki):
    der = bytearray(x509.load_pem_x509_certificate(pki["leaf"]).public_bytes(Encoding.DER))
    der[-1] ^= 0x01
    result = cert_verify(bytes(der), pki["root"], pki["issuing"])
    assert not result["valid"] and result["reason"].endswith("(ecdsa-with-SHA256)")
    assert not ref.classical_ok(bytes(der), der_of(pki["issuing"]))


def test_crl_alternative_signature(pki):
    issuing_dir = str(pki["base"] / "issuing")
    result = crl_gen(issuing_dir).to_dict()
    crl_pem = open(result["paths"][0], "rb").read()
    assert result["alt_signature_algorithm"] == "ML-DSA-65"
    checked = crl_verify(crl_pem, pki["issuing"]).to_dict()
    assert checked["valid"]
    assert "alternative signature (ML-DSA-65) verified" in checked["details"][0]
    issuing = der_of(pki["issuing"])
    assert ref.classical_ok(der_of(crl_pem), issuing, crl=True)
    assert ref.catalyst_crl_alt_ok(der_of(crl_pem), issuing)
    with Authority(issuing_dir) as authority:
        _rogue_pqc(authority, "ml-dsa-65")
        crl = build_crl(signer=authority.signer, issuer=authority.cert.subject,
                        issuer_key_id=authority.key_id, crl_number=99,
                        this_update=authority.cert.not_valid_before_utc,
                        next_update=authority.cert.not_valid_after_utc, revoked=[],
                        alt_signer=authority.alt_signer)
        issuer = authority.cert
    bad = verify_crl(crl, issuer, check_time=False)
    assert not bad.valid and "alternative signature" in bad.reason
    crl_der = crl.public_bytes(Encoding.DER)
    assert ref.classical_ok(crl_der, issuing, crl=True)
    assert not ref.catalyst_crl_alt_ok(crl_der, issuing)
    assert verify_crl(crl, issuer, check_time=False, classical_only=True).valid
    # A bad CRL is not used for revocation either.
    leaf = x509.load_pem_x509_certificate(pki["leaf"])
    root = x509.load_pem_x509_certificate(pki["root"])
    checked = verify_certificate(leaf, [root], [issuer], [crl])
    assert not checked.valid and checked.rule == "crl.invalid"


def test_catalyst_ca_signs_plain_profiles_too(pki):
    cred = credential_enroll(str(pki["base"] / "issuing"), str(pki["base"] / "creds"),
                             "ec/tls-client", {"cn": "plain client"}).to_dict()
    cert = x509.load_pem_x509_certificate(open(cred["cert_path"], "rb").read())
    info = describe_certificate(cert)
    assert info["alt_signature_algorithm"] == "ML-DSA-65"
    assert "alt_public_key_algorithm" not in info
    assert cert_verify(pem_of(cert), pki["root"], pki["issuing"])["valid"]
    der, issuing = cert.public_bytes(Encoding.DER), der_of(pki["issuing"])
    assert ref.classical_ok(der, issuing) and ref.catalyst_alt_ok(der, issuing)


def test_cert_info_shows_both_keys(pki):
    info = describe_certificate(x509.load_pem_x509_certificate(pki["leaf"]))
    assert info["public_key_algorithm"] == "ecdsa-p256"
    assert info["signature_algorithm"] == "ecdsa-with-SHA256"
    assert info["alt_public_key_algorithm"] == "ml-dsa-65"
    assert info["alt_signature_algorithm"] == "ML-DSA-65"
    names = [e["name"] for e in info["extensions"]]
    assert names[-2:] == ["altSignatureAlgorithm", "altSignatureValue"]
    assert "subjectAltPublicKeyInfo" in names


def test_cert_issue_from_catalyst_csr(pki, tmp_path):
    csr_gen(str(tmp_path / "req.csr"), "api.example.com", algorithm="ecdsa-p256",
            key_out=str(tmp_path / "k.key"), alt_algorithm="ml-dsa-65",
            alt_key_out=str(tmp_path / "alt.key"), dns_names=["api.example.com"])
    out = tmp_path / "api.crt"
    cert_issue(str(pki["base"] / "issuing"), "hybrid/catalyst/tls-server",
               (tmp_path / "req.csr").read_bytes(), out=str(out))
    cert = x509.load_pem_x509_certificate(out.read_bytes())
    csr = x509.load_pem_x509_csr((tmp_path / "req.csr").read_bytes())
    from qpki.x509.catalyst_verify import verify_catalyst_csr

    assert alt_public_key(cert) == verify_catalyst_csr(csr)
    assert cert_verify(out.read_bytes(), pki["root"], pki["issuing"])["valid"]
    # The request's alternative proof of possession and the certificate's
    # two signatures, checked independently.
    assert ref.catalyst_csr_alt_ok(csr.public_bytes(Encoding.DER))
    der, issuing = cert.public_bytes(Encoding.DER), der_of(pki["issuing"])
    assert ref.classical_ok(der, issuing) and ref.catalyst_alt_ok(der, issuing)
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    alt_key = load_pem_private_key((tmp_path / "alt.key").read_bytes(), None)
    assert ref.alt_public_key(der) == ("2.16.840.1.101.3.4.3.18",
                                       alt_key.public_key().public_bytes_raw())


def test_catalyst_profile_needs_an_alternative_key(pki, tmp_path):
    csr_gen(str(tmp_path / "plain.csr"), "p.example.com", algorithm="ecdsa-p256",
            key_out=str(tmp_path / "k.key"))
    with pytest.raises(InputError, match="no alternative public key"):
        cert_issue(str(pki["base"] / "issuing"), "hybrid/catalyst/tls-server",
                   (tmp_path / "plain.csr").read_bytes())


class _Liar(SoftwareSigner):
    """Announces one PQC key, signs with another: a failed proof of possession."""

    def __init__(self, key, announced, algorithm):
        super().__init__(key, algorithm)
        self._announced = announced

    def public_key(self):
        return self._announced


def test_csr_without_alternative_proof_of_possession_is_refused(pki):
    classical = SoftwareSigner(get_algorithm("ecdsa-p256").generate(), "ecdsa-p256")
    mldsa = get_algorithm("ml-dsa-65")
    liar = _Liar(mldsa.generate(), mldsa.generate().public_key(), "ml-dsa-65")
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "liar")]))
    csr = x509.load_der_x509_csr(sign_catalyst_csr(builder, classical, liar))
    with pytest.raises(InputError, match="alternative signature does not verify"):
        cert_issue(str(pki["base"] / "issuing"), "hybrid/catalyst/tls-server", pem_of(csr),
                   values={"cn": "liar"})


def test_ml_dsa_root_over_catalyst_issuing(tmp_path):
    ca_init(str(tmp_path / "mlroot"), "ml/root-ca", {"cn": "ML Root"})
    ca_init(str(tmp_path / "cat"), "hybrid/catalyst/issuing-ca", {"cn": "Catalyst"},
            parent_dir=str(tmp_path / "mlroot"))
    cred = credential_enroll(str(tmp_path / "cat"), str(tmp_path / "creds"),
                             "hybrid/catalyst/tls-server", {"cn": "m.example.com"}).to_dict()
    root = (tmp_path / "mlroot/ca.crt").read_bytes()
    cat = (tmp_path / "cat/ca.crt").read_bytes()
    info = describe_certificate(x509.load_pem_x509_certificate(cat))
    assert info["signature_algorithm"] == "ML-DSA-87"
    assert info["alt_public_key_algorithm"] == "ml-dsa-65"
    assert "alt_signature_algorithm" not in info
    leaf = open(cred["cert_path"], "rb").read()
    result = cert_verify(leaf, root, cat)
    assert result["valid"], result
    assert result["details"] == ["CN=m.example.com: alternative signature (ML-DSA-65) verified"]
    # ML-DSA-87 root signature and the catalyst leaf's two, independently.
    assert ref.mldsa_ok(der_of(cat), der_of(root))
    assert ref.classical_ok(der_of(leaf), der_of(cat))
    assert ref.catalyst_alt_ok(der_of(leaf), der_of(cat))
    crl = crl_gen(str(tmp_path / "cat")).to_dict()
    assert describe_crl(x509.load_pem_x509_crl(open(crl["paths"][0], "rb").read()))[
        "hybrid"] == "catalyst"
