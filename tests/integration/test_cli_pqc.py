"""ML-DSA and SLH-DSA PKIs through the CLI, every signature checked twice:
by cryptography / our verify path, and by an independent pure-Python
implementation (dilithium-py for ML-DSA, slh-dsa for SLH-DSA)."""

import json

import pytest
import slhdsa
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87
from pyasn1.codec.der import decoder
from pyasn1_modules import rfc5280

ML_DSA = {"2.16.840.1.101.3.4.3.17": ML_DSA_44, "2.16.840.1.101.3.4.3.18": ML_DSA_65,
          "2.16.840.1.101.3.4.3.19": ML_DSA_87}
SLH_DSA = {"2.16.840.1.101.3.4.3.21": slhdsa.sha2_128f, "2.16.840.1.101.3.4.3.25": slhdsa.sha2_256f,
           "2.16.840.1.101.3.4.3.23": slhdsa.sha2_192f}


def raw_public_key(cert):
    """(OID, raw key bits) straight from the certificate DER."""
    parsed, dummy = decoder.decode(cert.public_bytes(Encoding.DER), asn1Spec=rfc5280.Certificate())
    spki = parsed["tbsCertificate"]["subjectPublicKeyInfo"]
    return str(spki["algorithm"]["algorithm"]), spki["subjectPublicKey"].asOctets()


def independent_verify(cert, issuer):
    oid = cert.signature_algorithm_oid.dotted_string
    key_oid, key = raw_public_key(issuer)
    assert key_oid == oid, "issuer key and signature algorithm differ"
    if oid in ML_DSA:
        return ML_DSA[oid].verify(key, cert.tbs_certificate_bytes, cert.signature)
    return slhdsa.PublicKey.from_digest(key, SLH_DSA[oid]).verify_pure(
        cert.tbs_certificate_bytes, cert.signature)


def flipped(cert):
    """The same certificate with the last signature byte changed."""
    der = bytearray(cert.public_bytes(Encoding.DER))
    der[-1] ^= 0x01
    return x509.load_der_x509_certificate(bytes(der))


def load(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_ml_dsa_three_tier(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ml/root-ca", "--var", "cn=ML Root", "--ca-dir", "root",
             check=True)
    qpki_cli("ca", "init", "--profile", "ml/issuing-ca", "--var", "cn=ML Issuing",
             "--ca-dir", "issuing", "--parent", "root", check=True)
    cred = qpki_cli("credential", "enroll", "--ca-dir", "issuing", "--cred-dir", "creds",
                    "--profile", "ml/tls-server", "--var", "cn=pq.example.com",
                    "--var", "dns_names=pq.example.com", "--json", check=True).json()
    root, issuing = load(tmp_path / "root/ca.crt"), load(tmp_path / "issuing/ca.crt")
    leaf = load(tmp_path / cred["cert_path"])
    assert root.signature_algorithm_oid.dotted_string == "2.16.840.1.101.3.4.3.19"
    assert leaf.signature_algorithm_oid.dotted_string == "2.16.840.1.101.3.4.3.18"
    for cert, issuer in ((root, root), (issuing, root), (leaf, issuing)):
        cert.verify_directly_issued_by(issuer)
        assert independent_verify(cert, issuer) is True
        assert independent_verify(flipped(cert), issuer) is False

    qpki_cli("crl", "gen", "--ca-dir", "issuing", check=True)
    crl = x509.load_pem_x509_crl((tmp_path / "issuing/crl/ca.crl").read_bytes())
    dummy, key = raw_public_key(issuing)
    assert ML_DSA_65.verify(key, crl.tbs_certlist_bytes, crl.signature)

    ours = qpki_cli("cert", "verify", cred["cert_path"], "--ca", "root/ca.crt",
                    "--untrusted", "issuing/ca.crt", "--json")
    assert ours.returncode == 0, ours.output
    assert ours.json()["valid"] is True


def test_slh_dsa_root_and_leaf(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "slh/root-ca", "--var", "cn=SLH Root", "--ca-dir", "root",
             check=True)
    qpki_cli("csr", "gen", "--algorithm", "slh-dsa-sha2-128f", "--key-out", "leaf.key",
             "--cn", "slh.example.com", "--dns", "slh.example.com", "--out", "leaf.csr",
             check=True)
    issued = qpki_cli("cert", "issue", "--ca-dir", "root", "--profile", "slh/tls-server",
                      "--csr", "leaf.csr", "--out", "leaf.crt", "--json")
    assert issued.returncode == 0, issued.output
    root, leaf = load(tmp_path / "root/ca.crt"), load(tmp_path / "leaf.crt")
    for cert, issuer in ((root, root), (leaf, root)):
        assert independent_verify(cert, issuer) is True
        assert independent_verify(flipped(cert), issuer) is False
    # The leaf's own key is SLH-DSA-SHA2-128f, as the profile asks.
    assert raw_public_key(leaf)[0] == "2.16.840.1.101.3.4.3.21"
    ours = qpki_cli("cert", "verify", "leaf.crt", "--ca", "root/ca.crt")
    assert ours.returncode == 0, ours.output
    (tmp_path / "bad.crt").write_bytes(flipped(leaf).public_bytes(Encoding.PEM))
    assert qpki_cli("cert", "verify", "bad.crt", "--ca", "root/ca.crt").returncode == 1


@pytest.mark.parametrize("profile", ["ml/root-ca", "slh/root-ca", "ec/root-ca"])
def test_no_private_key_readable_by_others(tmp_path, qpki_cli, profile):
    qpki_cli("ca", "init", "--profile", profile, "--var", "cn=Root", "--ca-dir", "ca", check=True)
    cred = qpki_cli("credential", "enroll", "--ca-dir", "ca", "--cred-dir", "creds",
                    "--profile", profile.split("/")[0] + "/tls-client", "--var", "cn=client",
                    "--json", check=True).json()
    keys = list(tmp_path.rglob("*.key"))
    assert len(keys) == 2, keys
    for key in keys:
        assert key.stat().st_mode & 0o077 == 0, f"{key} is readable by group/others"
    meta = json.loads((tmp_path / "ca/ca.meta.json").read_text())
    assert list(meta) == ["profile", "created", "keys", "store"]
    assert meta["keys"][0]["storage"]["type"] == "software"
    assert (tmp_path / "ca" / meta["keys"][0]["storage"]["path"]).stat().st_mode & 0o777 == 0o600
    assert cred["id"]
