"""A profile's ``signature`` options are the CA's (issuance.signature_options):
RSA CAs take the scheme and the hash, EC CAs the hash, the other families
neither. Each certificate is read back with cryptography: its signature
algorithm and hash are the ones the options ask of that CA, and it verifies
with the CA's key.
"""

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import SignatureAlgorithmOID

from qpki.ops.ca.commands import ca_init
from qpki.ops.cert.batch import cert_issue_batch
from qpki.ops.cert.commands import cert_issue

from batch_support import csr

LEAF = """
name: t/{name}
algorithm: ecdsa-p256
validity: 30d
signature: {signature}
variables:
  cn: {{type: dns_name, required: true}}
subject: {{cn: "{{{{ cn }}}}"}}
extensions:
  basicConstraints: {{ca: false}}
  keyUsage: [digitalSignature]
  extKeyUsage: [serverAuth]
"""

# CA profile, leaf signature options -> (signature algorithm OID, hash name or None)
CASES = {
    "rsa pss sha512": ("rsa/root-ca", "{scheme: pss, hash: sha512}",
                       SignatureAlgorithmOID.RSASSA_PSS, "sha512"),
    "rsa pkcs1 sha384": ("rsa/root-ca", "{hash: sha384}",
                         SignatureAlgorithmOID.RSA_WITH_SHA384, "sha384"),
    "ec sha512, the scheme left out": ("ec/root-ca", "{scheme: pss, hash: sha512}",
                                       SignatureAlgorithmOID.ECDSA_WITH_SHA512, "sha512"),
    "ml-dsa, scheme and hash left out": ("ml/root-ca", "{scheme: pss, hash: sha512}",
                                         SignatureAlgorithmOID.ML_DSA_87, None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_signature_options_that_apply_to_the_ca_key(name, tmp_path: Path):
    ca_profile, options, algorithm, digest = CASES[name]
    ca = tmp_path / "ca"
    ca_init(str(ca), ca_profile, {"cn": "Options CA"})
    leaf = tmp_path / "leaf.yaml"
    leaf.write_text(LEAF.format(name=name.replace(" ", "-").replace(",", ""),
                                signature=options))
    issued = cert_issue(str(ca), str(leaf), csr("one.example.com"))
    batch = cert_issue_batch(str(ca), str(leaf), [("b.csr", csr("b.example.com"))], jobs=1)
    ca_cert = x509.load_pem_x509_certificate((ca / "ca.crt").read_bytes())
    for serial in (issued.serial, batch.certificates[0].serial):
        cert = x509.load_pem_x509_certificate(
            (ca / "certs" / ("%040X.crt" % int(serial, 16))).read_bytes())
        assert cert.signature_algorithm_oid == algorithm
        hash_algorithm = cert.signature_hash_algorithm
        assert (hash_algorithm.name if hash_algorithm else None) == digest
        if digest is not None:  # cryptography has no ML-DSA certificate check
            cert.verify_directly_issued_by(ca_cert)
            assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
