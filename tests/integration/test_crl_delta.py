"""Delta CRLs (RFC 5280 §5.2.4; issue 16, item 4): what they hold, read by
cryptography and openssl, and openssl's verdict with base + delta."""

import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def csr(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    return x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])).sign(
            key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def verdict(work, cert, delta=True):
    args = ["openssl", "verify", "-crl_check", "-CAfile", "ca/ca.crt", "-CRLfile",
            "ca/crl/ca.crl"]
    if delta:
        args += ["-use_deltas", "-CRLfile", "ca/crl/ca-delta.crl"]
    done = subprocess.run(args + [cert], cwd=work, capture_output=True, text=True, check=False)
    return "ok" if done.returncode == 0 else ("revoked" if "certificate revoked" in done.stderr
                                              else done.stderr)


def test_delta_lists_new_revocations_and_releases(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Delta CA", "--ca-dir", "ca",
             "--delta-crl-url", "http://pki.test/ca-delta.crl", check=True)
    refused = qpki_cli("crl", "gen", "--ca-dir", "ca", "--delta")
    assert refused.returncode == 1 and "no full CRL" in refused.stderr
    serials = {}
    for name in ("held", "late", "fine"):
        (tmp_path / f"{name}.csr").write_bytes(csr(f"{name}.example.com"))
        serials[name] = qpki_cli("cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server",
                                 "--csr", f"{name}.csr", "--var", f"cn={name}.example.com",
                                 "--out", f"{name}.crt", "--json", check=True).json()["serial"]
    qpki_cli("cert", "revoke", serials["held"], "--ca-dir", "ca", "--reason", "certificateHold",
             check=True)
    base = qpki_cli("crl", "gen", "--ca-dir", "ca", "--json", check=True).json()
    full = x509.load_pem_x509_crl((tmp_path / "ca/crl/ca.crl").read_bytes())
    freshest = full.extensions.get_extension_for_class(x509.FreshestCRL).value
    assert freshest[0].full_name[0].value == "http://pki.test/ca-delta.crl"
    qpki_cli("cert", "revoke", serials["late"], "--ca-dir", "ca", "--reason", "keyCompromise",
             check=True)
    qpki_cli("cert", "unhold", serials["held"], "--ca-dir", "ca", check=True)
    made = qpki_cli("crl", "gen", "--ca-dir", "ca", "--delta", "--json", check=True).json()
    assert made["base_crl_number"] == base["crl_number"] and made["crl_number"] > base["crl_number"]

    delta = x509.load_der_x509_crl((tmp_path / "ca/crl/ca-delta.crl.der").read_bytes())
    indicator = delta.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    assert indicator.critical and indicator.value.crl_number == base["crl_number"]
    reasons = {f"{entry.serial_number:X}": entry.extensions.get_extension_for_class(
        x509.CRLReason).value.reason for entry in delta}
    assert reasons == {serials["late"]: x509.ReasonFlags.key_compromise,
                       serials["held"]: x509.ReasonFlags.remove_from_crl}
    issuer = x509.load_pem_x509_certificate((tmp_path / "ca/ca.crt").read_bytes())
    assert delta.is_signature_valid(issuer.public_key())
    assert not any(entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
                   == x509.ReasonFlags.remove_from_crl for entry in full
                   if entry.extensions)  # removeFromCRL only in deltas

    assert verdict(tmp_path, "late.crt") == "revoked"
    assert verdict(tmp_path, "late.crt", delta=False) == "ok"  # the base does not know yet
    assert verdict(tmp_path, "held.crt") == "ok"
    assert verdict(tmp_path, "held.crt", delta=False) == "revoked"
    assert verdict(tmp_path, "fine.crt") == "ok"
    assert qpki_cli("audit", "verify", "--ca-dir", "ca").returncode == 0
    assert qpki_cli("ca", "check", "--ca-dir", "ca").returncode == 0
