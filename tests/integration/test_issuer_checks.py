"""What a CA certificate must say before it signs, and that every profile of
a batch is checked (ops.cert.issuance.check_can_issue through
batch_sign.Signing).

The CA certificate is replaced by one for the same key with other
extensions (as a CA certificate installed from elsewhere could be): without
basicConstraints, with cA false, with a keyUsage that lacks keyCertSign, or
past its notAfter, nothing is signed and the CA directory is unchanged, for
a single issue and for a batch; a CA certificate without keyUsage at all
(RFC 5280 leaves the check to keyUsage when it is present) still issues.
"""

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from qpki.errors import InputError
from qpki.ops.ca.commands import ca_init
from qpki.ops.cert.batch import CsrInput, cert_issue_batch
from qpki.ops.cert.commands import cert_issue

from batch_support import csr, make_issuing

CA_USAGE = x509.KeyUsage(digital_signature=False, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=True, crl_sign=True, encipher_only=False,
                         decipher_only=False)
NO_CERT_SIGN = x509.KeyUsage(digital_signature=True, content_commitment=False,
                             key_encipherment=False, data_encipherment=False,
                             key_agreement=False, key_cert_sign=False, crl_sign=True,
                             encipher_only=False, decipher_only=False)
CA_TRUE = x509.BasicConstraints(ca=True, path_length=None)

# name -> (extensions of the replaced CA certificate, expired, refusal or None)
CA_CERTIFICATES = {
    "no basicConstraints": ([CA_USAGE], False, "is not a CA"),
    "cA false": ([x509.BasicConstraints(ca=False, path_length=None), CA_USAGE], False,
                 "is not a CA"),
    "keyUsage without keyCertSign": ([CA_TRUE, NO_CERT_SIGN], False, "lacks keyCertSign"),
    "expired": ([CA_TRUE, CA_USAGE], True, "CA certificate CN=Replaced expired on "),
    "no keyUsage": ([CA_TRUE], False, None),
}


def replace_ca_certificate(ca_dir: Path, extensions: list, expired: bool) -> None:
    """A self-signed ca.crt for the same key (an ``ec/root-ca`` directory)
    with ``extensions`` (all critical) and the old names and dates, or
    (``expired``) a notAfter of yesterday."""
    key = serialization.load_pem_private_key(
        (ca_dir / "private" / "ca.ecdsa-p384.key").read_bytes(), None)
    old = x509.load_pem_x509_certificate((ca_dir / "ca.crt").read_bytes())
    yesterday = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    builder = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(old.subject)
               .serial_number(old.serial_number)
               .not_valid_before(yesterday - datetime.timedelta(days=1) if expired
                                 else old.not_valid_before_utc)
               .not_valid_after(yesterday if expired else old.not_valid_after_utc)
               .public_key(key.public_key())
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              False))
    for extension in extensions:
        builder = builder.add_extension(extension, True)
    cert = builder.sign(key, hashes.SHA384())
    (ca_dir / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@pytest.mark.parametrize("name", sorted(CA_CERTIFICATES))
def test_what_the_ca_certificate_says_decides_whether_it_signs(name, tmp_path, tree_snapshot):
    extensions, expired, refusal = CA_CERTIFICATES[name]
    ca = tmp_path / "ca"
    ca_init(str(ca), "ec/root-ca", {"cn": "Replaced"})
    replace_ca_certificate(ca, extensions, expired)
    single = csr("one.example.com", ["one.example.com"])
    batch = [("%d.csr" % n, csr("b%d.example.com" % n, ["b%d.example.com" % n]))
             for n in range(2)]
    if refusal is None:
        issued = cert_issue(str(ca), "ec/tls-server", single)
        result = cert_issue_batch(str(ca), "ec/tls-server", batch, jobs=1)
        ca_cert = x509.load_pem_x509_certificate((ca / "ca.crt").read_bytes())
        for serial in [issued.serial] + [e.serial for e in result.certificates]:
            cert = x509.load_pem_x509_certificate(
                (ca / "certs" / ("%040X.crt" % int(serial, 16))).read_bytes())
            cert.verify_directly_issued_by(ca_cert)
        return
    before = tree_snapshot(ca, exclude=["*.lock"])
    with pytest.raises(InputError, match=refusal):
        cert_issue(str(ca), "ec/tls-server", single)
    with pytest.raises(InputError, match=refusal):
        cert_issue_batch(str(ca), "ec/tls-server", batch, jobs=1)
    assert tree_snapshot(ca, exclude=["*.lock"]) == before


def test_every_profile_of_a_batch_is_checked(tmp_path, tree_snapshot):
    """A batch whose items use two profiles: the CA profile that the issuing
    CA's pathLen 0 forbids is refused even when a leaf profile follows it."""
    issuing = make_issuing(tmp_path)
    before = tree_snapshot(issuing, exclude=["*.lock"])
    items = [CsrInput(csr("Sneaky Sub CA"), "sub.csr", profile="ec/issuing-ca",
                      values={"cn": "Sneaky Sub CA"}),
             CsrInput(csr("leaf.example.com", ["leaf.example.com"]), "leaf.csr")]
    with pytest.raises(InputError, match="pathLen"):
        cert_issue_batch(str(issuing), "ec/tls-server", items, jobs=1)
    assert tree_snapshot(issuing, exclude=["*.lock"]) == before
