"""ops.cert.details.certificate_report(ca_dir=...): a certificate's status in
its CA's records (what qpki_cert_info returns as ``revocation``)."""

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qpki.ops.cert.details import certificate_report


def csr(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    return x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])).sign(
            key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_good_revoked_and_foreign(tmp_path, qpki_cli):
    for name in ("ca", "other"):
        qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", f"cn={name}", "--ca-dir", name,
                 check=True)
    (tmp_path / "a.csr").write_bytes(csr("a.example.com"))
    qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr", "a.csr",
             "--var", "cn=a.example.com", "--out", "a.crt", check=True)
    data = (tmp_path / "a.crt").read_bytes()
    serial = f"{x509.load_pem_x509_certificate(data).serial_number:X}"
    good = certificate_report(data, "a.crt", ca_dir=str(tmp_path / "ca")).revocation
    assert good is not None and good.to_dict() == {"status": "good", "serial": serial}
    qpki_cli("cert", "revoke", serial, "--ca-dir", "ca", "--reason", "keyCompromise",
             "--invalidity-date", "2026-01-01T00:00:00Z", check=True)
    revoked = certificate_report(data, "a.crt", ca_dir=str(tmp_path / "ca")).revocation
    assert revoked is not None and revoked.status == "revoked" and revoked.revocation
    assert revoked.revocation.reason == "keyCompromise"
    assert revoked.revocation.invalidity_date == "2026-01-01T00:00:00Z"
    assert revoked.revocation.revoked_at
    foreign = certificate_report(data, "a.crt", ca_dir=str(tmp_path / "other")).revocation
    assert foreign is not None and foreign.status == "unknown"
    assert "not issued by" in (foreign.note or "")
    assert "revocation" not in certificate_report(data, "a.crt").to_dict()
