"""The path validation rules hold for PQC and hybrid chains as for classical ones.

Small chains are built here with the project's own signing code (x509.
certificate.certificate_builder / sign_certificate, SoftwareSigner) in five
families: ECDSA P-256 (the control, judged by cryptography's verifier),
ML-DSA-65, SLH-DSA-SHA2-128f, composite ML-DSA-65 + ECDSA P-256, and
catalyst (ECDSA P-256 with ML-DSA-65 alternative signatures; judged by our
engine, which checks both). Each family gets the same valid chain and the
same violations: a name outside the permitted subtree, a name inside an
excluded one, a pathLenConstraint exceeded, a leaf EKU without the purpose,
an intermediate EKU without it. Every violation must be refused with the
same rule in every family.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from qpki.algorithms.registry import get_algorithm
from qpki.signer.software import SoftwareSigner
from qpki.x509 import catalyst
from qpki.x509.certificate import certificate_builder, sign_certificate
from qpki.x509.keyid import key_identifier
from qpki.x509.verify import verify_certificate

UTC = datetime.timezone.utc
START = datetime.datetime(2026, 1, 1, tzinfo=UTC)
AT = datetime.datetime(2026, 6, 1, tzinfo=UTC)
FAMILIES = {  # name -> (algorithm, alternative algorithm for catalyst, engine expected)
    "ecdsa": ("ecdsa-p256", None, "cryptography"),
    "ml-dsa": ("ml-dsa-65", None, "qpki"),
    "slh-dsa": ("slh-dsa-sha2-128f", None, "qpki"),
    "composite": ("composite-mldsa65-ecdsa-p256", None, "qpki"),
    "catalyst": ("ecdsa-p256", "ml-dsa-65", "qpki"),
}


@dataclass
class Node:
    cert: x509.Certificate
    signer: SoftwareSigner
    alt_signer: SoftwareSigner | None


def _signer(algorithm: str) -> SoftwareSigner:
    spec = get_algorithm(algorithm)
    return SoftwareSigner(spec.generate(), spec)


class Kit:
    """Builds certificates of one family."""

    def __init__(self, family: str) -> None:
        self.algorithm, self.alt_algorithm, self.engine = FAMILIES[family]
        self.serial = 1000

    def issue(self, cn: str, issuer: Node | None = None, *, ca: bool = False,
              path_len: int | None = None, constraints: x509.NameConstraints | None = None,
              eku: list | None = None, dns: str | None = None) -> Node:
        signer = _signer(self.algorithm)
        alt = _signer(self.alt_algorithm) if self.alt_algorithm and ca else None
        ext = [x509.Extension(x509.BasicConstraints.oid, True, x509.BasicConstraints(ca, path_len))]
        usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment",
                               "key_agreement", "encipher_only", "decipher_only"), False)
        ext.append(x509.Extension(x509.KeyUsage.oid, True, x509.KeyUsage(
            digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, **usage)))
        if constraints is not None:
            ext.append(x509.Extension(x509.NameConstraints.oid, True, constraints))
        if eku is not None:
            ext.append(x509.Extension(x509.ExtendedKeyUsage.oid, False, x509.ExtendedKeyUsage(eku)))
        if dns is not None:
            ext.append(x509.Extension(x509.SubjectAlternativeName.oid, False,
                                      x509.SubjectAlternativeName([x509.DNSName(dns)])))
        if alt is not None:
            ext.append(catalyst.alt_public_key_extension(alt.public_key()))
        self.serial += 1
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        builder = certificate_builder(
            subject=name, issuer=issuer.cert.subject if issuer else name, serial=self.serial,
            not_before=START, not_after=START + datetime.timedelta(days=365), extensions=ext,
            subject_public_key=signer.public_key(),
            issuer_key_id=key_identifier(issuer.signer.public_key()) if issuer else None)
        signing = issuer or Node(None, signer, alt)
        cert = sign_certificate(builder, signing.signer, signer.public_key(),
                                alt_signer=signing.alt_signer)
        return Node(cert, signer, alt)


def _verify(leaf: Node, root: Node, *intermediates: Node, **asked):
    return verify_certificate(leaf.cert, [root.cert], [n.cert for n in intermediates], at=AT,
                              purpose="serverAuth", **asked)


SERVER = [ExtendedKeyUsageOID.SERVER_AUTH]
CLIENT = [ExtendedKeyUsageOID.CLIENT_AUTH]
PERMIT_EXAMPLE = x509.NameConstraints([x509.DNSName("example.com")], None)
EXCLUDE_BAD = x509.NameConstraints(None, [x509.DNSName("bad.example.com")])


@pytest.fixture(scope="module", params=list(FAMILIES))
def kit(request):
    return Kit(request.param)


def test_a_valid_chain_is_accepted(kit):
    root = kit.issue("Root", ca=True, constraints=PERMIT_EXAMPLE)
    inter = kit.issue("Issuing", root, ca=True, path_len=0, eku=SERVER)
    leaf = kit.issue("www.example.com", inter, eku=SERVER, dns="www.example.com")
    result = _verify(leaf, root, inter, host="www.example.com")
    assert result.valid, result.failures
    assert result.engine == kit.engine and len(result.path) == 3
    if kit.alt_algorithm:
        assert any("alternative signature (ML-DSA-65) verified" in d for d in result.details)


@pytest.mark.parametrize("violation, rule", [
    ("outside permitted subtree", "name_constraints.permitted"),
    ("inside excluded subtree", "name_constraints.excluded"),
    ("pathLenConstraint exceeded", "basic_constraints.path_length"),
    ("leaf EKU without the purpose", "eku.purpose"),
    ("intermediate EKU without the purpose", "eku.ca_chain"),
    ("host not in subjectAltName", "name.mismatch"),
])
def test_a_violation_is_refused_with_its_rule(kit, violation, rule):
    root = kit.issue("Root", ca=True, path_len=0 if "pathLen" in violation else None,
                     constraints=EXCLUDE_BAD if "excluded" in violation else PERMIT_EXAMPLE)
    inter = kit.issue("Issuing", root, ca=True,
                      eku=CLIENT if violation.startswith("intermediate EKU") else None)
    below = inter
    if "pathLen" in violation:
        below = kit.issue("Sub", inter, ca=True)
    dns = {"outside permitted subtree": "www.example.org",
           "inside excluded subtree": "bad.example.com"}.get(violation, "www.example.com")
    leaf = kit.issue(dns, below, eku=CLIENT if violation.startswith("leaf EKU") else SERVER,
                     dns=dns)
    host = "other.example.com" if violation.startswith("host") else dns
    chain = [inter] + ([below] if below is not inter else [])
    result = _verify(leaf, root, *chain, host=host)
    assert not result.valid
    assert result.rule == rule, result.failures
    assert result.engine == kit.engine
