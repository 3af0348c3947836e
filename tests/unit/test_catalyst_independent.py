"""Catalyst chains checked by code that shares nothing with qpki's catalyst
modules: the PreTBS is rebuilt in hybrid_reference.py from the ASN.1 of
X.509 (10/2019) §9.8, the alternative ML-DSA signatures are checked with
dilithium-py and the classical ones with cryptography called directly.
Every check must fail once a byte of the PQC signature, of the classical
signature or of the signed TBS is flipped."""

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from pyasn1.codec.der import encoder

import hybrid_reference as ref
from qpki.ops.ca.commands import ca_init
from qpki.ops.cert.revoke import cert_revoke
from qpki.ops.credential.enroll import credential_enroll
from qpki.ops.crl.commands import crl_gen


def _der(path):
    data = open(path, "rb").read()
    if data.startswith(b"-----BEGIN X509 CRL"):
        return x509.load_pem_x509_crl(data).public_bytes(Encoding.DER)
    return x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    base = tmp_path_factory.mktemp("catalyst")
    ca_init(str(base / "root"), "hybrid/catalyst/root-ca", {"cn": "Catalyst Root"})
    ca_init(str(base / "issuing"), "hybrid/catalyst/issuing-ca", {"cn": "Catalyst Issuing"},
            parent_dir=str(base / "root"))
    leaf = credential_enroll(str(base / "issuing"), str(base / "creds"),
                             "hybrid/catalyst/tls-server", {"cn": "www.example.com"}).to_dict()
    plain = credential_enroll(str(base / "issuing"), str(base / "creds"), "ec/tls-server",
                              {"cn": "plain.example.com"}).to_dict()
    cert_revoke(str(base / "issuing"), plain["serial"], "keyCompromise")
    crl = crl_gen(str(base / "issuing")).to_dict()
    ca_init(str(base / "mlroot"), "ml/root-ca", {"cn": "ML Root"})
    ca_init(str(base / "mlcat"), "hybrid/catalyst/issuing-ca", {"cn": "Catalyst under ML"},
            parent_dir=str(base / "mlroot"))
    mlleaf = credential_enroll(str(base / "mlcat"), str(base / "creds"),
                               "hybrid/catalyst/tls-client", {"cn": "client"}).to_dict()
    return {
        "root": _der(base / "root/ca.crt"),
        "issuing": _der(base / "issuing/ca.crt"),
        "leaf": _der(leaf["cert_path"]),
        "plain": _der(plain["cert_path"]),
        "crl": _der(crl["paths"][0]),
        "mlroot": _der(base / "mlroot/ca.crt"),
        "mlcat": _der(base / "mlcat/ca.crt"),
        "mlleaf": _der(mlleaf["cert_path"]),
    }


CATALYST_LINKS = [("root", "root"), ("issuing", "root"), ("leaf", "issuing"),
                  ("plain", "issuing"), ("mlleaf", "mlcat")]


@pytest.mark.parametrize("name,issuer", CATALYST_LINKS)
def test_both_signatures_verify_independently(pki, name, issuer):
    assert ref.catalyst_alt_ok(pki[name], pki[issuer])
    assert ref.classical_ok(pki[name], pki[issuer])


def test_alt_algorithms_follow_the_issuers_pqc_keys(pki):
    def alt_oid(name):
        tbs = ref.decode_certificate(pki[name])["tbsCertificate"]
        return ref._alt_signature(ref.extensions_of(tbs))[0]

    assert alt_oid("root") == alt_oid("issuing") == "2.16.840.1.101.3.4.3.19"  # ML-DSA-87
    assert alt_oid("leaf") == alt_oid("plain") == "2.16.840.1.101.3.4.3.18"  # ML-DSA-65
    assert ref.alt_public_key(pki["leaf"])[0] == "2.16.840.1.101.3.4.3.18"
    assert ref.alt_public_key(pki["plain"]) is None  # ec profile: no alternative key


def _alt_signature_bytes(der, crl=False):
    outer = ref.decode_crl(der) if crl else ref.decode_certificate(der)
    tbs = outer["tbsCertList" if crl else "tbsCertificate"]
    return ref._alt_signature(ref.extensions_of(tbs, "crlExtensions" if crl else "extensions"))[1]


def _flip_serial(der):
    cert = ref.decode_certificate(der)
    cert["tbsCertificate"]["serialNumber"] = int(cert["tbsCertificate"]["serialNumber"]) ^ 1
    return encoder.encode(cert)


def _flip_last(der):
    out = bytearray(der)
    out[-1] ^= 0x01  # last byte of the classical ECDSA signature
    return bytes(out)


@pytest.mark.parametrize("name,issuer", [("issuing", "root"), ("leaf", "issuing")])
def test_flipped_pqc_signature_fails(pki, name, issuer):
    tampered = ref.flip_byte(pki[name], _alt_signature_bytes(pki[name])[:32], 100)
    assert not ref.catalyst_alt_ok(tampered, pki[issuer])


@pytest.mark.parametrize("name,issuer", [("issuing", "root"), ("leaf", "issuing")])
def test_flipped_classical_signature_fails(pki, name, issuer):
    tampered = _flip_last(pki[name])
    assert not ref.classical_ok(tampered, pki[issuer])
    assert ref.catalyst_alt_ok(tampered, pki[issuer])  # the other signature is untouched


@pytest.mark.parametrize("name,issuer", [("issuing", "root"), ("leaf", "issuing")])
def test_flipped_tbs_fails_both(pki, name, issuer):
    tampered = _flip_serial(pki[name])
    assert not ref.catalyst_alt_ok(tampered, pki[issuer])
    assert not ref.classical_ok(tampered, pki[issuer])


def test_crl_both_signatures_and_flips(pki):
    crl, issuer = pki["crl"], pki["issuing"]
    assert ref.catalyst_crl_alt_ok(crl, issuer)
    assert ref.classical_ok(crl, issuer, crl=True)
    pqc_flip = ref.flip_byte(crl, _alt_signature_bytes(crl, crl=True)[:32], 7)
    assert not ref.catalyst_crl_alt_ok(pqc_flip, issuer)
    classical_flip = _flip_last(crl)
    assert not ref.classical_ok(classical_flip, issuer, crl=True)
    assert ref.catalyst_crl_alt_ok(classical_flip, issuer)
    parsed = ref.decode_crl(crl)
    number = parsed["tbsCertList"]["revokedCertificates"][0]["userCertificate"]
    parsed["tbsCertList"]["revokedCertificates"][0]["userCertificate"] = int(number) ^ 1
    tbs_flip = encoder.encode(parsed)
    assert not ref.catalyst_crl_alt_ok(tbs_flip, issuer)
    assert not ref.classical_ok(tbs_flip, issuer, crl=True)


def test_ml_dsa_root_over_catalyst_issuing(pki):
    # The issuing CA's own certificate: one ML-DSA-87 signature, no 73 / 74,
    # but its PQC key in 72 for what it issues.
    assert ref.mldsa_ok(pki["mlcat"], pki["mlroot"])
    extensions = ref.extensions_of(ref.decode_certificate(pki["mlcat"])["tbsCertificate"])
    assert ref.ID_CE_SUBJECT_ALT_PUBLIC_KEY_INFO in extensions
    assert ref.ID_CE_ALT_SIGNATURE_VALUE not in extensions
    tampered = _flip_serial(pki["mlcat"])
    assert not ref.mldsa_ok(tampered, pki["mlroot"])
    # What it issues is catalyst.
    assert ref.catalyst_alt_ok(pki["mlleaf"], pki["mlcat"])
    assert ref.classical_ok(pki["mlleaf"], pki["mlcat"])


def test_catalyst_csr_proofs_of_possession(tmp_path):
    from qpki.ops.keys.commands import csr_gen

    csr_gen(str(tmp_path / "req.csr"), "leaf.example.com", algorithm="ecdsa-p256",
            key_out=str(tmp_path / "k.key"), alt_algorithm="ml-dsa-65",
            alt_key_out=str(tmp_path / "alt.key"), dns_names=["leaf.example.com"])
    csr = x509.load_pem_x509_csr((tmp_path / "req.csr").read_bytes())
    der = csr.public_bytes(Encoding.DER)
    assert ref.catalyst_csr_alt_ok(der)
    # The classical proof of possession, over the whole info (74 included).
    csr.public_key().verify(csr.signature, csr.tbs_certrequest_bytes, ec.ECDSA(hashes.SHA256()))
    request = ref.decoder.decode(der, asn1Spec=ref.rfc2986.CertificationRequest())[0]
    attributes = request["certificationRequestInfo"]["attributes"]
    signature = next(bytes(a["values"][0]) for a in attributes
                     if str(a["type"]) == ref.ID_CE_ALT_SIGNATURE_VALUE)
    assert not ref.catalyst_csr_alt_ok(ref.flip_byte(der, signature[40:72], 3))


@pytest.mark.parametrize("given", [{"alt_algorithm": "ml-dsa-65"}, {"alt_key_out": "alt.key"}])
def test_a_catalyst_csr_without_its_whole_second_key_is_refused(tmp_path, given):
    from qpki.errors import InputError
    from qpki.ops.keys.commands import csr_gen

    if "alt_key_out" in given:
        given = {"alt_key_out": str(tmp_path / given["alt_key_out"])}
    with pytest.raises(InputError, match="alternative .PQC. key") as refused:
        csr_gen(str(tmp_path / "c.csr"), "c.example.com", algorithm="ecdsa-p256",
                key_out=str(tmp_path / "c.key"), **given)
    missing = ("the path for the new alternative key" if "alt_algorithm" in given
               else "the algorithm of the new alternative key")
    assert f"({missing} is not given)" in str(refused.value)
    assert "--" not in str(refused.value)
    assert not (tmp_path / "c.csr").exists()
