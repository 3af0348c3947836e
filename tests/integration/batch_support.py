"""Shared pieces of the batch issuance tests (tests/integration/test_batch*.py):
CSRs, two-tier PKIs (in process and through the CLI), reading the results."""

import json
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import decoder
from pyasn1_modules import rfc5280

from qpki.ops.ca.commands import ca_init


def csr(cn, dns=(), key=None):
    """A PEM CSR for CN ``cn`` with DNS names ``dns``, signed by ``key`` (a new
    P-256 key by default)."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    if dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), False)
    key = key or ec.generate_private_key(ec.SECP256R1())
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.PEM)


def make_issuing(tmp_path):
    """tmp_path/root (ec/root-ca) and the issuing CA it signs, tmp_path/issuing
    (ec/issuing-ca), whose path is returned."""
    ca_init(str(tmp_path / "root"), "ec/root-ca", {"cn": "Root"})
    ca_init(str(tmp_path / "issuing"), "ec/issuing-ca", {"cn": "Issuing"},
            parent_dir=str(tmp_path / "root"))
    return tmp_path / "issuing"


ML_DSA_65_OID = "2.16.840.1.101.3.4.3.18"


def openssl(*args, cwd):
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)


SHA256 = hashes.SHA256()


def csr_pem(key, cn, dns=(), algorithm=SHA256):
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    if dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), False)
    return builder.sign(key, algorithm).public_bytes(Encoding.PEM)


def ec_csr_dir(folder, prefix, count):
    """``folder`` with ``count`` P-256 CSRs <prefix><n>.csr for <prefix><n>.example.com."""
    folder.mkdir()
    for number in range(count):
        cn = "%s%d.example.com" % (prefix, number)
        (folder / ("%s%d.csr" % (prefix, number))).write_bytes(
            csr_pem(ec.generate_private_key(ec.SECP256R1()), cn, [cn]))
    return folder


def openssl_csr(tmp_path, path, cn):
    proc = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                   "-nodes", "-keyout", "/dev/null", "-subj", "/CN=%s" % cn,
                   "-addext", "subjectAltName=DNS:%s,DNS:alt-%s" % (cn, cn), "-out", str(path),
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def load(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def sans(cert):
    return sorted(cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName))


def index_lines(ca_dir):
    return [line for line in (ca_dir / "index.txt").read_text().splitlines() if line]


def raw_public_key(cert):
    parsed, dummy = decoder.decode(cert.public_bytes(Encoding.DER), asn1Spec=rfc5280.Certificate())
    return parsed["tbsCertificate"]["subjectPublicKeyInfo"]["subjectPublicKey"].asOctets()


def two_tier(qpki_cli, family):
    qpki_cli("ca", "init", "--profile", f"{family}/root-ca", "--var", f"cn={family} Root",
             "--ca-dir", f"{family}-root", check=True)
    qpki_cli("ca", "init", "--profile", f"{family}/issuing-ca", "--var", f"cn={family} Issuing",
             "--ca-dir", f"{family}-issuing", "--parent", f"{family}-root", check=True)


def spied_hsm_issuing(softhsm_token, qpki_cli, tmp_path, spy):
    """tmp_path/root (software key) and tmp_path/issuing, whose P-256 key is
    in ``softhsm_token`` and reached through OpenSC's pkcs11-spy ``spy`` (run qpki
    with PKCS11SPY and PKCS11SPY_OUTPUT set to count its PKCS#11 calls)."""
    softhsm_token.keygen("EC:prime256v1", label="issuing-key", key_id="02")
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Root", "--ca-dir", "root",
             check=True)
    qpki_cli("ca", "init", "--hsm-config", softhsm_token.write_config(), "--key-label",
             "issuing-key", "--profile", "ec/issuing-ca", "--var", "cn=HSM Issuing",
             "--ca-dir", "issuing", "--parent", "root", check=True)
    spied = softhsm_token.write_config(tmp_path / "spy.yaml", lib=spy)
    meta_path = tmp_path / "issuing/ca.meta.json"
    meta = json.loads(meta_path.read_text())
    meta["keys"][0]["storage"]["config"] = str(spied)
    meta_path.write_text(json.dumps(meta))
