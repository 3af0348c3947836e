"""`qpki cert issue` refuses a bad request for every algorithm family it
accepts (issue 20, item 1): a CSR whose signature or signed body was
tampered with, and a CSR whose key is of another size, curve or parameter
set than the profile's (both ways where there are two). Each refusal is
exit 1 with a one-line error naming the file and the reason, nothing on
stdout, and the CA directory byte-for-byte as it was.

Each family also has a positive control: the untouched CSR is issued with
the same profile, so a refusal can only come from what was changed.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.type import univ
from pyasn1_modules import rfc2986, rfc5280

from conftest import diff_snapshots, tree_snapshot
from qpki.errors import InputError

CN = "request.example.com"
SIGNATURE_REFUSED = "CSR signature does not verify"


# ----------------------------------------------------------------------- requests

def _name(cn: str = CN) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@functools.lru_cache(maxsize=None)
def key_of(algorithm: str):
    """One private key per algorithm name (rsa-1024: a key no profile takes)."""
    if algorithm == "rsa-1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    from qpki.algorithms.registry import get_algorithm

    return get_algorithm(algorithm).generate()


@functools.lru_cache(maxsize=None)
def csr_der(algorithm: str, alt: str | None = None, pss: bool = False) -> bytes:
    """A correctly self-signed CSR for a key of ``algorithm`` (catalyst with
    an ``alt`` key; an RSA-PSS signature with ``pss``)."""
    if algorithm == "rsa-1024" or pss:
        builder = x509.CertificateSigningRequestBuilder().subject_name(_name())
        extra = {"rsa_padding": padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                            salt_length=32)} if pss else {}
        return builder.sign(key_of(algorithm), hashes.SHA256(), **extra).public_bytes(
            serialization.Encoding.DER)
    from qpki.signer.software import SoftwareSigner
    from qpki.x509.csr import build_csr

    alt_signer = SoftwareSigner(key_of(alt), alt) if alt else None
    csr = build_csr(SoftwareSigner(key_of(algorithm), algorithm), _name(), alt_signer=alt_signer)
    return csr.public_bytes(serialization.Encoding.DER)


def catalyst_with_wrong_alt_signature(algorithm: str, alt: str) -> bytes:
    """A catalyst CSR whose classical signature is good but whose alternative
    signature was made by another key than the one it names."""
    from qpki.algorithms.registry import get_algorithm
    from qpki.signer.software import SoftwareSigner
    from qpki.x509.csr import build_csr

    claimed = key_of(alt).public_key()

    class ClaimsAnotherKey(SoftwareSigner):
        def public_key(self):
            return claimed

    impostor = ClaimsAnotherKey(get_algorithm(alt).generate(), alt)
    csr = build_csr(SoftwareSigner(key_of(algorithm), algorithm), _name(), alt_signer=impostor)
    return csr.public_bytes(serialization.Encoding.DER)


def flip_signature(der: bytes) -> bytes:
    """``der`` with a byte of its signature (the last field) flipped."""
    damaged = bytearray(der)
    damaged[-6] ^= 0x01
    return bytes(damaged)


def flip_body(der: bytes) -> bytes:
    """``der`` with one letter of the subject's CN changed (still parses)."""
    needle = CN.encode()
    assert der.count(needle) == 1
    return der.replace(needle, b"request.examplf.com")


# ----------------------------------------------------------------------- the table

@dataclasses.dataclass(frozen=True)
class Family:
    """A profile's subject algorithm and the requests it must refuse."""

    name: str
    profile: dict  # custom profile body (or {"builtin": name})
    algorithm: str  # the CSR key that fits
    wrong: tuple[str, ...]  # keys that do not fit (sizes/sets both ways)
    alt: str | None = None  # catalyst alternative algorithm
    pss: bool = False  # the CSR is signed with RSA-PSS


def _single(algorithm: str, **extra) -> dict:
    return {"algorithm": algorithm, **extra}


def _hybrid(classical: str, pqc: str, mode: str, **extra) -> dict:
    return {"algorithms": [classical, pqc], "mode": mode, **extra}


def _slh_wrong(hash_: str, bits: str, speed: str) -> tuple[str, str]:
    """Two SLH-DSA sets that differ from (hash_, bits, speed): the other speed
    (or, for an "f" set, the next size) and the other hash. Only "f" sets,
    whose signatures take milliseconds rather than seconds."""
    other_hash = "shake" if hash_ == "sha2" else "sha2"
    near_bits = bits if speed == "s" else {"128": "192", "192": "256", "256": "128"}[bits]
    return f"slh-dsa-{hash_}-{near_bits}f", f"slh-dsa-{other_hash}-{bits}f"


FAMILIES = [
    Family("ecdsa-p256", _single("ecdsa-p256"), "ecdsa-p256", ("ecdsa-p384", "ed25519")),
    Family("ecdsa-p384", _single("ecdsa-p384"), "ecdsa-p384", ("ecdsa-p256", "ecdsa-p521")),
    Family("ecdsa-p521", _single("ecdsa-p521"), "ecdsa-p521", ("ecdsa-p384",)),
    Family("ed25519", _single("ed25519"), "ed25519", ("ecdsa-p256", "ml-dsa-44")),
    # The builtin rsa/tls-server is the profile of the issue's RSA row.
    Family("rsa-2048", {"builtin": "rsa/tls-server"}, "rsa-2048", ("rsa-1024", "rsa-3072")),
    Family("rsa-3072", _single("rsa-3072"), "rsa-3072", ("rsa-2048", "rsa-4096")),
    Family("rsa-4096", _single("rsa-4096"), "rsa-4096", ("rsa-3072",)),
    Family("rsa-pss", {"builtin": "rsa-pss/tls-server"}, "rsa-4096", ("rsa-3072",), pss=True),
    Family("ml-dsa-44", _single("ml-dsa-44"), "ml-dsa-44", ("ml-dsa-65",)),
    Family("ml-dsa-65", {"builtin": "ml/tls-server"}, "ml-dsa-65", ("ml-dsa-44", "ml-dsa-87")),
    Family("ml-dsa-87", _single("ml-dsa-87"), "ml-dsa-87", ("ml-dsa-65", "slh-dsa-sha2-256f")),
    *[Family(f"slh-dsa-{h}-{bits}{speed}", _single(f"slh-dsa-{h}-{bits}{speed}"),
             f"slh-dsa-{h}-{bits}{speed}", _slh_wrong(h, bits, speed))
      for h in ("sha2", "shake") for bits in ("128", "192", "256") for speed in ("s", "f")],
    Family("composite-mldsa44-ecdsa-p256", _hybrid("ecdsa-p256", "ml-dsa-44", "composite"),
           "composite-mldsa44-ecdsa-p256", ("composite-mldsa65-ecdsa-p256", "ml-dsa-44")),
    Family("composite-mldsa65-ecdsa-p256", {"builtin": "hybrid/composite/tls-server"},
           "composite-mldsa65-ecdsa-p256",
           ("composite-mldsa44-ecdsa-p256", "composite-mldsa65-ecdsa-p384", "ecdsa-p256")),
    Family("composite-mldsa65-ecdsa-p384", _hybrid("ecdsa-p384", "ml-dsa-65", "composite"),
           "composite-mldsa65-ecdsa-p384", ("composite-mldsa87-ecdsa-p384",)),
    Family("composite-mldsa87-ecdsa-p384", _hybrid("ecdsa-p384", "ml-dsa-87", "composite"),
           "composite-mldsa87-ecdsa-p384", ("composite-mldsa87-ecdsa-p521",)),
    Family("composite-mldsa87-ecdsa-p521", _hybrid("ecdsa-p521", "ml-dsa-87", "composite"),
           "composite-mldsa87-ecdsa-p521", ("composite-mldsa87-ecdsa-p384",)),
    Family("composite-mldsa44-ed25519", _hybrid("ed25519", "ml-dsa-44", "composite"),
           "composite-mldsa44-ed25519", ("composite-mldsa65-ed25519",)),
    Family("composite-mldsa65-ed25519", _hybrid("ed25519", "ml-dsa-65", "composite"),
           "composite-mldsa65-ed25519", ("composite-mldsa44-ed25519",)),
    Family("composite-mldsa44-rsa2048-pkcs15", _hybrid("rsa-2048", "ml-dsa-44", "composite"),
           "composite-mldsa44-rsa2048-pkcs15", ("composite-mldsa44-rsa2048-pss",)),
    Family("composite-mldsa44-rsa2048-pss",
           _hybrid("rsa-2048", "ml-dsa-44", "composite", signature={"scheme": "pss"}),
           "composite-mldsa44-rsa2048-pss", ("composite-mldsa44-rsa2048-pkcs15",)),
    Family("composite-mldsa65-rsa3072-pkcs15", _hybrid("rsa-3072", "ml-dsa-65", "composite"),
           "composite-mldsa65-rsa3072-pkcs15",
           ("composite-mldsa65-rsa3072-pss", "composite-mldsa65-rsa4096-pkcs15")),
    Family("composite-mldsa65-rsa3072-pss",
           _hybrid("rsa-3072", "ml-dsa-65", "composite", signature={"scheme": "pss"}),
           "composite-mldsa65-rsa3072-pss", ("composite-mldsa65-rsa3072-pkcs15",)),
    Family("composite-mldsa65-rsa4096-pkcs15", _hybrid("rsa-4096", "ml-dsa-65", "composite"),
           "composite-mldsa65-rsa4096-pkcs15", ("composite-mldsa65-rsa3072-pkcs15",)),
    Family("composite-mldsa65-rsa4096-pss",
           _hybrid("rsa-4096", "ml-dsa-65", "composite", signature={"scheme": "pss"}),
           "composite-mldsa65-rsa4096-pss", ("composite-mldsa87-rsa4096-pss",)),
    Family("composite-mldsa87-rsa3072-pss", _hybrid("rsa-3072", "ml-dsa-87", "composite"),
           "composite-mldsa87-rsa3072-pss", ("composite-mldsa87-rsa4096-pss",)),
    Family("composite-mldsa87-rsa4096-pss", _hybrid("rsa-4096", "ml-dsa-87", "composite"),
           "composite-mldsa87-rsa4096-pss", ("composite-mldsa87-rsa3072-pss",)),
    Family("catalyst-p256-mldsa65", {"builtin": "hybrid/catalyst/tls-server"}, "ecdsa-p256",
           ("ecdsa-p384",), alt="ml-dsa-65"),
    Family("catalyst-p384-mldsa87", _hybrid("ecdsa-p384", "ml-dsa-87", "catalyst"), "ecdsa-p384",
           ("ecdsa-p256",), alt="ml-dsa-87"),
    Family("catalyst-p256-slhdsa128f", _hybrid("ecdsa-p256", "slh-dsa-sha2-128f", "catalyst"),
           "ecdsa-p256", ("ecdsa-p521",), alt="slh-dsa-sha2-128f"),
]


def test_every_algorithm_a_profile_accepts_is_in_the_table():
    from qpki.algorithms.composite_algorithm import composite_name_for
    from qpki.profiles.algorithm_rules import CLASSICAL, ML_DSA, SLH_DSA

    covered = {f.algorithm for f in FAMILIES if f.alt is None}
    reachable = set(CLASSICAL) | set(ML_DSA) | set(SLH_DSA)
    for classical in CLASSICAL:
        for pqc in ML_DSA:
            for signature in ({}, {"scheme": "pss"}):
                try:
                    reachable.add(composite_name_for(classical, pqc, signature))
                except InputError:  # a pairing the draft does not define
                    pass
    assert reachable <= covered, sorted(reachable - covered)
    assert {f.alt for f in FAMILIES if f.alt} == {"ml-dsa-65", "ml-dsa-87", "slh-dsa-sha2-128f"}


# ----------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> Path:
    """An ECDSA root CA: it may sign a certificate for a key of any family."""
    from qpki.ops.ca.commands import ca_init

    base = tmp_path_factory.mktemp("requests")
    ca_init(str(base / "ca"), "ec/root-ca", {"cn": "Request Checks Root"})
    return base / "ca"


def profile_arg(family: Family, folder: Path) -> str:
    if "builtin" in family.profile:
        return family.profile["builtin"]
    body = {"description": f"test profile for {family.name}", **family.profile,
            "validity": "30d",
            "variables": {"cn": {"type": "string", "required": True}},
            "subject": {"cn": "{{ cn }}"},
            "extensions": {"keyUsage": {"critical": True, "usages": ["digitalSignature"]}}}
    path = folder / f"{family.name}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return str(path)


def expected_algorithm(profile: str) -> str:
    from qpki.ops.keys.hybrid import subject_algorithm
    from qpki.profiles.loader import load_profile

    return subject_algorithm(load_profile(profile))


def profile_name(profile: str) -> str:
    from qpki.profiles.loader import load_profile

    return load_profile(profile).name


def key_text(algorithm: str) -> str:
    """How a refusal names a key (never a Python class name)."""
    if algorithm.startswith("ecdsa-p"):
        return {"256": "EC secp256r1", "384": "EC secp384r1", "521": "EC secp521r1"}[
            algorithm[-3:]] + " key"
    if algorithm.startswith("rsa-"):
        return f"RSA-{algorithm[4:]} key"
    if algorithm == "ed25519":
        return "Ed25519 key"
    if algorithm.startswith("ml-dsa-"):
        return f"{algorithm.upper()} key"
    return f"{algorithm} key"


def refuse(qpki_cli, ca: Path, profile: str, data: bytes, name: str, folder: Path,
           message: str, *extra: str) -> None:
    """``qpki cert issue`` on ``data``: exit 1, one line naming the file and
    ``message``, nothing on stdout, the CA directory unchanged."""
    path = folder / name
    path.write_bytes(data)
    before = tree_snapshot(ca)
    done = qpki_cli("cert", "issue", "--ca-dir", ca, "--profile", profile, "--csr", path,
                    "--var", f"cn={CN}", *extra)
    assert done.returncode == 1, done
    assert done.stdout == "", done
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"qpki: error: {path}: "), done
    assert message in lines[0], done
    assert not diff_snapshots(before, tree_snapshot(ca))


def issue_in_process(ca: Path, profile: str, data: bytes) -> bytes:
    """The DER of the certificate ``cert_issue`` makes from request ``data``."""
    from qpki.ops.cert.commands import cert_issue

    result = cert_issue(str(ca), profile, data, values={"cn": CN})
    return x509.load_pem_x509_certificate(Path(result.paths[0]).read_bytes()).public_bytes(
        serialization.Encoding.DER)


def spki_of_certificate(der: bytes) -> bytes:
    cert, rest = der_decoder.decode(der, asn1Spec=rfc5280.Certificate())
    assert not rest
    return der_encoder.encode(cert["tbsCertificate"]["subjectPublicKeyInfo"])


def spki_of_request(der: bytes) -> bytes:
    request, rest = der_decoder.decode(der, asn1Spec=rfc2986.CertificationRequest())
    assert not rest
    return der_encoder.encode(request["certificationRequestInfo"]["subjectPKInfo"])


# ----------------------------------------------------------------------- the tests

@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_tampered_and_wrong_requests_are_refused(family, ca, qpki_cli, tmp_path):
    profile = profile_arg(family, tmp_path)
    good = csr_der(family.algorithm, family.alt, family.pss)
    # Positive control: the same profile issues the untouched request.
    assert spki_of_certificate(issue_in_process(ca, profile, good)) == spki_of_request(good)

    refuse(qpki_cli, ca, profile, flip_signature(good), "signature.der", tmp_path,
           SIGNATURE_REFUSED)
    refuse(qpki_cli, ca, profile, flip_body(good), "body.der", tmp_path, SIGNATURE_REFUSED)
    expects = expected_algorithm(profile)
    for wrong in family.wrong:
        refuse(qpki_cli, ca, profile, csr_der(wrong, family.alt), f"{wrong}.der", tmp_path,
               f"key is a {key_text(wrong)} but profile {profile_name(profile)} "
               f"expects {expects}")


CATALYSTS = [f for f in FAMILIES if f.alt]


@pytest.mark.parametrize("family", CATALYSTS, ids=[f.name for f in CATALYSTS])
def test_catalyst_requests_need_a_good_alternative_key(family, ca, qpki_cli, tmp_path):
    profile = profile_arg(family, tmp_path)
    name = profile_name(profile)
    refuse(qpki_cli, ca, profile, catalyst_with_wrong_alt_signature(family.algorithm, family.alt),
           "alt-signature.der", tmp_path, "CSR alternative signature does not verify")
    other = "ml-dsa-44" if family.alt != "ml-dsa-44" else "ml-dsa-65"
    refuse(qpki_cli, ca, profile, csr_der(family.algorithm, other), "alt-set.der", tmp_path,
           f"alternative key is a {key_text(other)} but profile {name} expects {family.alt}")
    refuse(qpki_cli, ca, profile, csr_der(family.algorithm), "no-alt.der", tmp_path,
           f"profile {name} is catalyst but the request has no alternative public key")


BATCH = [f for f in FAMILIES if f.name in ("ed25519", "ml-dsa-65", "rsa-2048",
                                           "slh-dsa-sha2-128f", "composite-mldsa65-ecdsa-p256",
                                           "catalyst-p256-mldsa65")]


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("family", BATCH, ids=[f.name for f in BATCH])
def test_a_batch_with_one_bad_request_issues_nothing(family, jobs, ca, qpki_cli, tmp_path):
    """The batch path (in this process, or checked in worker processes)
    applies the same checks: one bad request stops the whole batch."""
    profile = profile_arg(family, tmp_path)
    good = tmp_path / "a-good.der"
    good.write_bytes(csr_der(family.algorithm, family.alt, family.pss))
    for number, data in enumerate([flip_signature(csr_der(family.algorithm, family.alt,
                                                          family.pss)),
                                   csr_der(family.wrong[0], family.alt)]):
        refuse(qpki_cli, ca, profile, data, f"b-bad{number}.der", tmp_path,
               SIGNATURE_REFUSED if number == 0 else "but profile",
               "--csr", str(good), "--out-dir", str(tmp_path / "out"), "--jobs", jobs)
        assert not (tmp_path / "out").exists()


def relabel_signature_algorithm(der: bytes, oid: str) -> bytes:
    """``der`` with its signatureAlgorithm set to ``oid``. That field is
    outside what the CSR signs, so the signature itself stays good."""
    request, rest = der_decoder.decode(der, asn1Spec=rfc2986.CertificationRequest())
    assert not rest
    request["signatureAlgorithm"]["algorithm"] = univ.ObjectIdentifier(oid)
    return der_encoder.encode(request)


@pytest.mark.parametrize("algorithm, labelled_as", [
    ("ml-dsa-44", "1.3.101.112"),  # an ML-DSA signature that calls itself Ed25519
    ("ed25519", "2.16.840.1.101.3.4.3.17"),  # an Ed25519 one that calls itself ML-DSA-44
    ("ml-dsa-65", "2.16.840.1.101.3.4.3.17"),  # another ML-DSA set than the key's
])
def test_a_signature_algorithm_that_is_not_the_keys_is_refused(algorithm, labelled_as, ca,
                                                               qpki_cli, tmp_path):
    """The key verifies its own signature, but the request names another
    algorithm: refused, whichever verifier (cryptography's or ours) looks."""
    profile = profile_arg(Family(algorithm, _single(algorithm), algorithm, ()), tmp_path)
    good = csr_der(algorithm)
    assert spki_of_certificate(issue_in_process(ca, profile, good)) == spki_of_request(good)
    refuse(qpki_cli, ca, profile, relabel_signature_algorithm(good, labelled_as), "label.der",
           tmp_path, "does not match subject key")
