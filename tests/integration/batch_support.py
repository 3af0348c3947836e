"""Shared pieces of the batch issuance tests (tests/integration/test_batch_ops.py,
tests/integration/test_batch_fastpath.py): CSRs and a two-tier PKI."""

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from qpki.ops.ca import ca_init


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
