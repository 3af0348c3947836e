"""Composite (draft-13) keys in the registry and composite CAs end to end.

Our composite certificates and CRLs are checked under the draft's
construction by code that does not use qpki's composite module: M' is built
in hybrid_reference.py, the ML-DSA component is verified with dilithium-py
(Label as context) and the ECDSA component with cryptography."""

import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyasn1.codec.der import encoder

import hybrid_reference as ref
from qpki.algorithms.composite import CompositePrivateKey, CompositePublicKey
from qpki.algorithms.composite_algorithm import composite_name_for
from qpki.algorithms.registry import algorithm_for_oid, algorithm_names, get_algorithm
from qpki.algorithms.spki import load_spki, spki_der
from qpki.errors import HsmError, InputError
from qpki.ops.ca.commands import ca_init
from qpki.ops.ca.keys import KeyRequest
from qpki.ops.cert.commands import cert_verify
from qpki.ops.credential.enroll import credential_enroll
from qpki.ops.crl.commands import crl_gen, crl_verify
from qpki.ops.describe.objects import describe_certificate
from qpki.profiles.builtin_roles import role_definition
from qpki.profiles.profile import Profile
from qpki.signer.keyfile import read_private_key
from qpki.store.private_key import write_private_key
from qpki.signer.software import SoftwareSigner
from qpki.x509.signature import verify_certificate_signature

# ---------------------------------------------------------------------------
# Registry glue
# ---------------------------------------------------------------------------


def test_registry_knows_every_draft13_composite():
    names = [n for n in algorithm_names() if n.startswith("composite-")]
    assert len(names) == 18
    algorithm = get_algorithm("composite-mldsa65-ecdsa-p256")
    assert algorithm.family == "composite"
    assert algorithm.key_oid == algorithm.signature_oid() == "1.3.6.1.5.5.7.6.45"
    assert algorithm_for_oid("1.3.6.1.5.5.7.6.54").name == "composite-mldsa87-ecdsa-p521"


@pytest.mark.parametrize("classical,pqc,options,expected", [
    ("ecdsa-p256", "ml-dsa-44", None, "composite-mldsa44-ecdsa-p256"),
    ("ecdsa-p256", "ml-dsa-65", None, "composite-mldsa65-ecdsa-p256"),
    ("ecdsa-p384", "ml-dsa-65", None, "composite-mldsa65-ecdsa-p384"),
    ("ecdsa-p384", "ml-dsa-87", None, "composite-mldsa87-ecdsa-p384"),
    ("ecdsa-p521", "ml-dsa-87", None, "composite-mldsa87-ecdsa-p521"),
    ("rsa-2048", "ml-dsa-44", None, "composite-mldsa44-rsa2048-pkcs15"),
    ("rsa-2048", "ml-dsa-44", {"scheme": "pss"}, "composite-mldsa44-rsa2048-pss"),
    ("rsa-4096", "ml-dsa-87", None, "composite-mldsa87-rsa4096-pss"),
])
def test_profile_pairs(classical, pqc, options, expected):
    assert composite_name_for(classical, pqc, options) == expected


def test_key_files_spki_and_signer(tmp_path):
    algorithm = get_algorithm("composite-mldsa44-ecdsa-p256")
    key = algorithm.generate()
    for passphrase in (None, b"secret"):
        path = tmp_path / ("k%s.pem" % bool(passphrase))
        write_private_key(str(path), key, passphrase)
        assert b"PRIVATE KEY" in path.read_bytes()
        loaded = read_private_key(str(path), passphrase)
        assert isinstance(loaded, CompositePrivateKey)
        assert loaded.public_key() == key.public_key()
    public = load_spki(spki_der(key.public_key()))
    assert isinstance(public, CompositePublicKey) and public == key.public_key()
    signer = SoftwareSigner(key, algorithm.name)
    assert signer.crypto_key() is None  # assembled by pyasn1, like SLH-DSA
    signature = signer.sign(b"message")
    algorithm.verify(key.public_key(), signature, b"message")
    with pytest.raises(InputError):
        SoftwareSigner(key, "composite-mldsa65-ecdsa-p256")


def test_rsa_pss_composite_ca(tmp_path):
    data = role_definition("root-ca", "hybrid")
    data.update(name="test/composite-rsa", validity="30d", algorithms=["rsa-2048", "ml-dsa-44"],
                mode="composite", signature={"scheme": "pss"})
    result = ca_init(str(tmp_path / "ca"), Profile(data), {"cn": "RSA composite"}).to_dict()
    assert result["keys"][0]["algorithm"] == "composite-mldsa44-rsa2048-pss"
    cert = x509.load_pem_x509_certificate((tmp_path / "ca/ca.crt").read_bytes())
    assert cert.signature_algorithm_oid.dotted_string == "1.3.6.1.5.5.7.6.37"
    verify_certificate_signature(cert, load_spki(_spki(cert)))


def _spki(cert):
    tbs = ref.decode_certificate(cert.public_bytes(Encoding.DER))["tbsCertificate"]
    return encoder.encode(tbs["subjectPublicKeyInfo"])


def test_composite_keys_stay_out_of_the_hsm(tmp_path):
    with pytest.raises(HsmError, match="software-only"):
        ca_init(str(tmp_path / "ca"), "hybrid/composite/root-ca", {"cn": "x"},
                key=KeyRequest(hsm_config=str(tmp_path / "hsm.yaml"), key_label="k"))
    assert not (tmp_path / "ca").exists()


# ---------------------------------------------------------------------------
# A composite chain, checked independently
# ---------------------------------------------------------------------------


def _der(path):
    data = open(path, "rb").read()
    if b"X509 CRL" in data:
        return x509.load_pem_x509_crl(data).public_bytes(Encoding.DER)
    return x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    base = tmp_path_factory.mktemp("composite")
    ca_init(str(base / "root"), "hybrid/composite/root-ca", {"cn": "Composite Root"})
    ca_init(str(base / "issuing"), "hybrid/composite/issuing-ca", {"cn": "Composite Issuing"},
            parent_dir=str(base / "root"))
    leaf = credential_enroll(str(base / "issuing"), str(base / "creds"),
                             "hybrid/composite/tls-server", {"cn": "c.example.com"}).to_dict()
    crl = crl_gen(str(base / "issuing")).to_dict()
    return {"base": base, "root": _der(base / "root/ca.crt"),
            "issuing": _der(base / "issuing/ca.crt"), "leaf": _der(leaf["cert_path"]),
            "crl": _der(crl["paths"][0]), "enroll": leaf}


def test_metadata_holds_one_composite_key(chain):
    meta = json.loads((chain["base"] / "root/ca.meta.json").read_text())
    assert meta["keys"] == [{"id": "default", "algorithm": "composite-mldsa87-ecdsa-p521",
                             "storage": {"type": "software",
                                         "path": "private/ca.composite-mldsa87-ecdsa-p521.key"}}]
    cred = json.loads((chain["base"] / "creds" / chain["enroll"]["id"]
                       / "credential.meta.json").read_text())
    entry = cred["certificates"][0]
    assert entry["algorithm"] == "composite-mldsa65-ecdsa-p256"
    assert entry["storage"] == [{"type": "software",
                                 "path": "signature.composite-mldsa65-ecdsa-p256.key"}]


@pytest.mark.parametrize("name,issuer", [("root", "root"), ("issuing", "root"),
                                         ("leaf", "issuing")])
def test_certificates_verify_under_the_draft_construction(chain, name, issuer):
    assert ref.composite_signed_ok(chain[name], chain[issuer]) == (True, True)


def test_crl_verifies_under_the_draft_construction(chain):
    assert ref.composite_signed_ok(chain["crl"], chain["issuing"], crl=True) == (True, True)


def _signature(der):
    return ref.decode_certificate(der)["signature"].asOctets()


def test_flips_break_the_right_component(chain):
    leaf, issuing = chain["leaf"], chain["issuing"]
    signature = _signature(leaf)
    mldsa_flip = ref.flip_byte(leaf, signature[:32], 50)
    assert ref.composite_signed_ok(mldsa_flip, issuing) == (False, True)
    trad_flip = bytearray(leaf)
    trad_flip[-1] ^= 0x01  # last byte: inside the ECDSA part (mldsaSig || tradSig)
    assert ref.composite_signed_ok(bytes(trad_flip), issuing) == (True, False)
    cert = ref.decode_certificate(leaf)
    cert["tbsCertificate"]["serialNumber"] = int(cert["tbsCertificate"]["serialNumber"]) ^ 1
    assert ref.composite_signed_ok(encoder.encode(cert), issuing) == (False, False)

    # Our own verification agrees and names the broken component.
    root_pem = (chain["base"] / "root/ca.crt").read_bytes()
    issuing_pem = (chain["base"] / "issuing/ca.crt").read_bytes()
    assert cert_verify(leaf, root_pem, issuing_pem)["valid"]
    result = cert_verify(mldsa_flip, root_pem, issuing_pem)
    assert not result["valid"] and "ML-DSA component does not verify" in result["reason"]
    result = cert_verify(bytes(trad_flip), root_pem, issuing_pem)
    assert not result["valid"] and "ECDSA component does not verify" in result["reason"]


def test_our_crl_verify_and_description(chain):
    issuing_pem = (chain["base"] / "issuing/ca.crt").read_bytes()
    assert crl_verify(chain["crl"], issuing_pem).to_dict()["valid"]
    info = describe_certificate(x509.load_der_x509_certificate(chain["leaf"]))
    assert info["public_key_algorithm"] == "composite-mldsa65-ecdsa-p256"
    assert info["signature_algorithm"] == "composite-mldsa65-ecdsa-p256"
    assert info["hybrid"] == "composite"
    assert info["composite_components"] == ["ml-dsa-65", "ECDSA secp256r1"]
