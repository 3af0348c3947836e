"""Rendering with a CSR: subject and SANs come from the CSR unless vars override."""

import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qpki.errors import ProfileError
from qpki.profiles import Profile, load_profile

_KEY = ec.generate_private_key(ec.SECP256R1())


def csr(cn=None, dns=(), ips=(), emails=(), ous=()):
    """A real CSR, parsed back, so the test uses what the x509 layer will pass."""
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []
    attrs += [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou) for ou in ous]
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
    names = ([x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
             + [x509.RFC822Name(e) for e in emails])
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    request = builder.sign(_KEY, hashes.SHA256())
    try:
        sans = list(request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        sans = []
    return request.subject, sans


def san_of(rendered):
    for e in rendered.extensions:
        if isinstance(e.value, x509.SubjectAlternativeName):
            return e.value
    return None


def cn_of(rendered):
    return rendered.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_cn_and_dns_names_come_from_the_csr():
    subject, sans = csr(cn="app.example.com", dns=["app.example.com", "alt.example.com"], ips=["192.0.2.5"])
    r = load_profile("ec/tls-server").render({}, csr_subject=subject, csr_sans=sans)
    assert cn_of(r) == "app.example.com"
    assert san_of(r).get_values_for_type(x509.DNSName) == ["app.example.com", "alt.example.com"]
    assert [str(i) for i in san_of(r).get_values_for_type(x509.IPAddress)] == ["192.0.2.5"]
    assert r.values["cn"] == "app.example.com"
    assert r.values["dns_names"] == ["app.example.com", "alt.example.com"]


def test_vars_override_the_csr():
    subject, sans = csr(cn="csr.example.com", dns=["csr.example.com"])
    r = load_profile("ec/tls-server").render({"cn": "var.example.com", "dns_names": "x.example.com"},
                                             csr_subject=subject, csr_sans=sans)
    assert cn_of(r) == "var.example.com"
    assert san_of(r).get_values_for_type(x509.DNSName) == ["var.example.com", "x.example.com"]


def test_a_name_given_by_the_operator_drops_every_csr_name():
    """Issue 13 item 6: the CSR's extra SANs and subject attributes never join
    names the operator gave (here only the CN)."""
    subject, sans = csr(cn="csr.example.com", dns=["d.example.com"], ips=["8.8.8.8"], ous=["Evil"])
    r = load_profile("ec/tls-server").render({"cn": "var.example.com"}, csr_subject=subject, csr_sans=sans)
    assert san_of(r).get_values_for_type(x509.DNSName) == ["var.example.com"]
    assert san_of(r).get_values_for_type(x509.IPAddress) == []
    assert r.subject.rfc4514_string() == "CN=var.example.com"


def test_names_given_without_the_required_cn_say_why_the_csr_is_not_used():
    subject, sans = csr(cn="csr.example.com", dns=["csr.example.com"])
    with pytest.raises(ProfileError, match=r"^profile ec/tls-server: variable cn: required but not "
                                           r"given \(the CSR's names are not used when names are "
                                           r"given: dns_names\)$"):
        load_profile("ec/tls-server").render({"dns_names": "x.example.com"},
                                             csr_subject=subject, csr_sans=sans)


def test_other_variables_do_not_stop_the_csr_names():
    subject, sans = csr(cn="csr.example.com", dns=["csr.example.com"])
    r = load_profile("ec/tls-server").render({"crl_url": "http://pki.example.com/ca.crl"},
                                             csr_subject=subject, csr_sans=sans)
    assert cn_of(r) == "csr.example.com"
    assert san_of(r).get_values_for_type(x509.DNSName) == ["csr.example.com"]


def test_required_cn_missing_everywhere():
    subject, sans = csr(dns=["a.example.com"])
    with pytest.raises(ProfileError, match=r"^profile ec/tls-server: variable cn: required but not given$"):
        load_profile("ec/tls-server").render({}, csr_subject=subject, csr_sans=sans)


def test_csr_values_are_validated_like_vars():
    subject, sans = csr(cn="ok.example.com", dns=["*.example.com"])
    # tls-client has no DNS SAN field: the CSR's DNS names are simply not used.
    r = load_profile("ec/tls-client").render({}, csr_subject=subject, csr_sans=sans)
    assert san_of(r) is None
    profile = Profile({"name": "t/strict", "algorithm": "ecdsa-p256", "validity": "1d",
                       "variables": {"cn": {"type": "string"}, "names": {"type": "dns_names"}},
                       "subject": {"cn": "{{ cn }}"},
                       "extensions": {"subjectAltName": {"dns": ["{{ names }}"]}}})
    with pytest.raises(ProfileError) as info:
        profile.render({}, csr_subject=subject, csr_sans=sans)
    assert "variable names" in str(info.value) and "from the CSR" in str(info.value)


def test_email_from_csr_for_single_value_variable():
    subject, sans = csr(cn="Alice", emails=["alice@example.com"])
    r = load_profile("ec/email").render({}, csr_subject=subject, csr_sans=sans)
    assert san_of(r).get_values_for_type(x509.RFC822Name) == ["alice@example.com"]
    assert r.values["email"] == "alice@example.com"


def test_ambiguous_csr_value_for_single_value_variable():
    subject, sans = csr(cn="Alice", emails=["a@example.com", "b@example.com"])
    with pytest.raises(ProfileError, match="variable email takes one"):
        load_profile("ec/email").render({}, csr_subject=subject, csr_sans=sans)
    # Giving the names explicitly resolves it.
    r = load_profile("ec/email").render({"cn": "Alice", "email": "a@example.com"},
                                        csr_subject=subject, csr_sans=sans)
    assert san_of(r).get_values_for_type(x509.RFC822Name) == ["a@example.com"]
    subject, dummy = csr(cn="Root", ous=["A", "B"])
    with pytest.raises(ProfileError, match="variable ou: the CSR subject has 2 ou values"):
        load_profile("ec/root-ca").render({}, csr_subject=subject)


def test_csr_beats_default_and_list_subject_fallback():
    profile = Profile({"name": "t/ou", "algorithm": "ecdsa-p256", "validity": "1d",
                       "variables": {"cn": {"type": "string", "default": "fallback"}, "units": {"type": "list"}},
                       "subject": {"cn": "{{ cn }}", "ou": ["{{ units }}"]}})
    subject, dummy = csr(cn="from-csr", ous=["A", "B"])
    r = profile.render({}, csr_subject=subject)
    assert cn_of(r) == "from-csr"
    assert r.values["units"] == ["A", "B"]
    assert cn_of(profile.render({})) == "fallback"


def test_unknown_variable_even_with_csr():
    subject, sans = csr(cn="a.example.com")
    with pytest.raises(ProfileError, match="unknown variable"):
        load_profile("ec/tls-server").render({"dns": "a.example.com"}, csr_subject=subject, csr_sans=sans)


def test_values_must_be_a_mapping():
    with pytest.raises(ProfileError, match="expected a mapping"):
        load_profile("ec/tls-server").render(["cn=a"])
