"""Path validation rules the x509-limbo suite does not exercise, one by one.

Host matching details, name constraints on URI / e-mail attributes /
directoryName of intermediates / otherName, certificate policies,
the time-stamping and OCSP purposes, CRL usability, which engine judges
what, and the bounds of path building. Chains come from chain_kit; every
test runs both engines where the chain allows it.
"""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyasn1.codec.der import encoder
from pyasn1.type import univ
from pyasn1_modules import rfc5280

from chain_kit import AT, issue, make_crl, p256
from limbo_cases import case, question
from qpki.errors import UsageError
from qpki.x509.chain import PathSearch
from qpki.x509.names import host_matches, reference_host
from qpki.x509.parse import load_certificate, load_certificates
from qpki.x509.verify import verify_certificate

ENGINES = ["auto", "qpki"]
SERVER = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])


def san(*names):
    return x509.SubjectAlternativeName(list(names)), False


def constraints(permitted=None, excluded=None):
    return x509.NameConstraints(permitted, excluded), True


# -------------------------------------------------------------------- host names

@pytest.mark.parametrize("pattern, host, matches", [
    ("www.example.com", "WWW.Example.COM.", True),
    ("*.example.com", "www.example.com", True),
    ("*.example.com", "example.com", False),
    ("*.example.com", "a.b.example.com", False),
    ("w*.example.com", "www.example.com", False),
    ("*.com", "example.com", False),
    ("www.*.com", "www.example.com", False),
    ("xn--n3h.example", "\u2603.example", True),
    ("192.0.2.1", "192.0.2.1", True),  # a dNSName spelling an address names a host, not an IP
])
def test_host_matching(pattern, host, matches):
    wanted = reference_host(host)
    assert wanted is not None and host_matches(pattern, wanted) is matches


@pytest.mark.parametrize("engine", ENGINES)
def test_ip_is_matched_against_ip_entries_only(engine):
    root = issue("Root", p256(), ca=True)
    leaf = issue("leaf", p256(), root, extensions=[
        san(x509.DNSName("192.0.2.1"), x509.IPAddress(ipaddress.ip_address("2001:db8::1")))])[0]
    assert not verify_certificate(leaf, [root[0]], at=AT, ip="192.0.2.1", engine=engine).valid
    assert verify_certificate(leaf, [root[0]], at=AT, ip="2001:DB8::1", engine=engine).valid


def test_a_malformed_host_is_a_failed_rule_and_a_bad_ip_a_usage_error():
    root = issue("Root", p256(), ca=True)
    leaf = issue("leaf", p256(), root, extensions=[san(x509.DNSName("a_b.example"))])[0]
    result = verify_certificate(leaf, [root[0]], at=AT, host="a_b.example")
    assert result.rule == "name.invalid_reference"
    with pytest.raises(UsageError, match="is not an IPv4 or IPv6 address"):
        verify_certificate(leaf, [root[0]], at=AT, ip="192.168.001.001")


# -------------------------------------------------------------------- name constraints

@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("constraint, uri, valid", [
    ("host.example.com", "https://host.example.com/x", True),
    ("host.example.com", "https://other.example.com/x", False),
    (".example.com", "https://a.example.com:8443/", True),
    (".example.com", "https://example.com/", False),
    (".example.com", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", False),
])
def test_uri_constraints(engine, constraint, uri, valid):
    root = issue("Root", p256(), ca=True, extensions=[constraints(
        [x509.UniformResourceIdentifier(constraint)])])
    leaf = issue("leaf", p256(), root, extensions=[
        san(x509.UniformResourceIdentifier(uri))])[0]
    result = verify_certificate(leaf, [root[0]], at=AT, engine=engine)
    assert result.valid is valid
    assert result.engine == "qpki"  # cryptography's verifier does not process URI constraints
    if not valid:
        assert result.rule == "name_constraints.permitted"


@pytest.mark.parametrize("engine", ENGINES)
def test_email_constraints_apply_to_the_subject_email_attribute(engine):
    root = issue("Root", p256(), ca=True,
                 extensions=[constraints([x509.RFC822Name("example.com")])])
    leaf = issue("leaf", p256(), root, extensions=[san(x509.RFC822Name("a@example.com"))])[0]
    assert verify_certificate(leaf, [root[0]], at=AT, engine=engine).valid
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "m"),
                         x509.NameAttribute(NameOID.EMAIL_ADDRESS, "m@example.org")])
    hidden = issue("m", p256(), root, subject=subject,
                   extensions=[san(x509.RFC822Name("a@example.com"))])[0]
    result = verify_certificate(hidden, [root[0]], at=AT, engine=engine)
    assert result.rule == "name_constraints.permitted" and "m@example.org" in result.reason


@pytest.mark.parametrize("engine", ENGINES)
def test_directory_name_constraints_bind_intermediates_but_not_self_issued_ones(engine):
    base = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example")]
    root = issue("Root", p256(), ca=True, extensions=[constraints(
        [x509.DirectoryName(x509.Name(base))])])
    outside = issue("Outside CA", p256(), root, ca=True)
    leaf = issue("leaf", p256(), outside)[0]
    result = verify_certificate(leaf, [root[0]], [outside[0]], at=AT, engine=engine)
    assert result.rule == "name_constraints.permitted"
    assert any("CN=Outside CA' is not permitted" in f.message for f in result.failures)
    inside = issue("Inside", p256(), root, ca=True, subject=x509.Name(
        base + [x509.NameAttribute(NameOID.COMMON_NAME, "Inside")]))
    good = issue("leaf", p256(), inside, subject=x509.Name(
        base + [x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]))[0]
    assert verify_certificate(good, [root[0]], [inside[0]], at=AT, engine=engine).valid
    bad = issue("leaf", p256(), inside)[0]  # CN=leaf, outside O=Example
    assert verify_certificate(bad, [root[0]], [inside[0]], at=AT, engine=engine).rule == \
        "name_constraints.permitted"
    rollover = issue("Inside", p256(), inside, ca=True, subject=inside[0].subject)
    below = issue("leaf", p256(), rollover, subject=good.subject)[0]
    result = verify_certificate(below, [root[0]], [inside[0], rollover[0]], at=AT,
                                engine=engine)
    assert result.valid and len(result.path) == 4 and result.engine == "qpki"


@pytest.mark.parametrize("engine", ENGINES)
def test_other_name_constraints_refuse_other_names_they_cannot_judge(engine):
    form = x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), b"\x0c\x01a")
    root = issue("Root", p256(), ca=True, extensions=[constraints(excluded=[form])])
    plain = issue("leaf", p256(), root, extensions=[san(x509.DNSName("a.example"))])[0]
    assert verify_certificate(plain, [root[0]], at=AT, engine=engine).valid
    other = issue("leaf", p256(), root, extensions=[san(form)])[0]
    assert verify_certificate(other, [root[0]], at=AT, engine=engine).rule == \
        "name_constraints.unsupported"


# -------------------------------------------------------------------- policies

P1, P2, P3 = "1.3.6.1.4.1.55555.1", "1.3.6.1.4.1.55555.2", "1.3.6.1.4.1.55555.3"


def policies(*oids):
    return x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(o), None)
                                     for o in oids]), False


def mappings(*pairs):
    value = rfc5280.PolicyMappings()
    for index, (issuer_policy, subject_policy) in enumerate(pairs):
        item = value.componentType.clone()
        item["issuerDomainPolicy"] = univ.ObjectIdentifier(issuer_policy)
        item["subjectDomainPolicy"] = univ.ObjectIdentifier(subject_policy)
        value[index] = item
    oid = x509.ObjectIdentifier("2.5.29.33")
    return x509.UnrecognizedExtension(oid, encoder.encode(value)), True


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("leaf_policies, inter_extras, valid", [
    ((P1,), [], True),
    ((P2,), [], False),
    ((), [], False),
    ((P2,), [mappings((P1, P2))], True),
    ((P3,), [mappings((P1, P2))], False),
])
def test_an_explicit_policy_must_hold_down_to_the_leaf(engine, leaf_policies,
                                                       inter_extras, valid):
    root = issue("Root", p256(), ca=True)
    inter = issue("Issuing", p256(), root, ca=True, extensions=[
        policies(P1), (x509.PolicyConstraints(0, None), True), *inter_extras])
    leaf = issue("leaf", p256(), inter,
                 extensions=[policies(*leaf_policies)] if leaf_policies else [])[0]
    result = verify_certificate(leaf, [root[0]], [inter[0]], at=AT, engine=engine)
    assert result.valid is valid, result.failures
    if not valid:
        assert result.rule == "policy.explicit_required"


def test_without_a_required_policy_policies_do_not_matter():
    root = issue("Root", p256(), ca=True)
    inter = issue("Issuing", p256(), root, ca=True, extensions=[policies(P1)])
    leaf = issue("leaf", p256(), inter, extensions=[policies(P3)])[0]
    assert verify_certificate(leaf, [root[0]], [inter[0]], at=AT).valid


# -------------------------------------------------------------------- purposes

def eku(*oids, critical=False):
    return x509.ExtendedKeyUsage(list(oids)), critical


@pytest.mark.parametrize("purpose, usage, valid", [
    ("timeStamping", eku(ExtendedKeyUsageOID.TIME_STAMPING, critical=True), True),
    ("timeStamping", eku(ExtendedKeyUsageOID.TIME_STAMPING), False),
    ("timeStamping", eku(ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING,
                         critical=True), False),
    ("OCSPSigning", eku(ExtendedKeyUsageOID.OCSP_SIGNING), True),
    ("OCSPSigning", eku(ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE), False),
    ("OCSPSigning", None, False),
    ("codeSigning", None, True),
    ("codeSigning", eku(ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE), True),
    ("emailProtection", eku(ExtendedKeyUsageOID.CODE_SIGNING), False),
])
def test_purpose_rules(purpose, usage, valid):
    root = issue("Root", p256(), ca=True)
    leaf = issue("leaf", p256(), root, extensions=[usage] if usage else [])[0]
    for engine in ENGINES:
        result = verify_certificate(leaf, [root[0]], at=AT, purpose=purpose, engine=engine)
        assert result.valid is valid, (engine, result.failures)
        if not valid:
            assert result.rule == "eku.purpose"


def test_key_usage_must_allow_the_purpose():
    root = issue("Root", p256(), ca=True)
    leaf = issue("leaf", p256(), root, key_usage={"crl_sign"})[0]
    for engine in ENGINES:
        result = verify_certificate(leaf, [root[0]], at=AT, purpose="clientAuth", engine=engine)
        assert result.rule == "key_usage.purpose"


# -------------------------------------------------------------------- CRLs

def test_a_crl_without_crl_number_or_a_delta_crl_is_refused():
    root = issue("Root", p256(), ca=True)
    leaf = issue("leaf", p256(), root)[0]
    good = make_crl(root)
    assert verify_certificate(leaf, [root[0]], crls=[good], at=AT).valid
    for crl, words in ((_crl_without_number(root), "has no CRLNumber"),
                       (make_crl(root, extensions=[(x509.DeltaCRLIndicator(1), True)]),
                        "is a delta CRL")):
        result = verify_certificate(leaf, [root[0]], crls=[crl], at=AT)
        assert result.rule == "crl.invalid" and words in result.reason


def _crl_without_number(issuer):
    from cryptography.hazmat.primitives import hashes

    return (x509.CertificateRevocationListBuilder().issuer_name(issuer[0].subject)
            .last_update(AT - datetime.timedelta(days=1))
            .next_update(AT + datetime.timedelta(days=1))
            .sign(issuer[1], hashes.SHA256()))


def test_a_crl_limited_to_ca_certificates_does_not_speak_for_a_leaf():
    root = issue("Root", p256(), ca=True)
    leaf = issue("leaf", p256(), root)[0]
    only_cas = x509.IssuingDistributionPoint(None, None, False, True, None, False, False)
    crl = make_crl(root, [(leaf.serial_number, None, AT)], extensions=[(only_cas, True)])
    result = verify_certificate(leaf, [root[0]], crls=[crl], at=AT)
    assert result.valid and not any("checked against CRL" in d for d in result.details)
    everyone = make_crl(root, [(leaf.serial_number, None, AT)])
    assert verify_certificate(leaf, [root[0]], crls=[everyone], at=AT).rule == \
        "revocation.revoked"


# -------------------------------------------------------------------- engines and bounds

def test_which_engine_judges():
    root = issue("Root", p256(), ca=True)
    leaf = issue("leaf", p256(), root)[0]
    assert verify_certificate(leaf, [root[0]], at=AT).engine == "cryptography"
    assert verify_certificate(leaf, [root[0]], at=AT, check_time=False).engine == "qpki"
    ed_root = issue("Ed Root", ed25519.Ed25519PrivateKey.generate(), ca=True)
    ed_leaf = issue("leaf", p256(), ed_root)[0]
    assert verify_certificate(ed_leaf, [ed_root[0]], at=AT).engine == "qpki"
    with pytest.raises(UsageError, match="signature algorithm 1.3.101.112"):
        verify_certificate(ed_leaf, [ed_root[0]], at=AT, engine="cryptography")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case_id", ["pathological::pathological-chain-same-subject-same-key",
                                     "pathological::pathological-chain-same-subject-distinct-key"])
def test_path_building_work_is_bounded(case_id):
    """100 intermediates that all look like each other's issuer: the search
    ends within its budget (it used to run for more than ten minutes)."""
    asked = question(case(case_id))
    leaf = load_certificate(asked.leaf)
    search = PathSearch(leaf, load_certificates(asked.trusted),
                        load_certificates(asked.untrusted), at=asked.at)
    assert list(search.paths()) == []
    assert len(search._links) <= 64 and search.budget.candidates >= -1
    result = verify_certificate(leaf, load_certificates(asked.trusted),
                                load_certificates(asked.untrusted), at=asked.at, engine="qpki")
    assert result.rule in ("chain.budget", "chain.no_path", "signature.invalid")


def test_every_front_end_offers_the_same_purposes():
    import ast
    from pathlib import Path

    from qpki.cli.parser import PURPOSE_NAMES
    from qpki.x509.purpose import PURPOSES

    module = Path(__file__).resolve().parents[2] / "plugins/modules/qpki_cert_info.py"
    tree = ast.parse(module.read_text())
    listed = next(ast.literal_eval(node.value) for node in tree.body
                  if isinstance(node, ast.Assign) and node.targets[0].id == "PURPOSES")
    assert list(PURPOSE_NAMES) == list(PURPOSES) == listed
