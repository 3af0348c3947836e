"""Builtin profiles: catalogue facts, rendering, and real certificate encoding."""

import datetime
import json
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from qpki.errors import ProfileError
from qpki.profiles import list_profiles, load_profile

ALL = [p.name for p in list_profiles()]

# name -> (algorithms, mode, validity days, path_len if CA)
FACTS = {
    "ec/root-ca": (("ecdsa-p384",), None, 7300, 1),
    "ec/issuing-ca": (("ecdsa-p256",), None, 3650, 0),
    "ec/tls-server": (("ecdsa-p256",), None, 365, None),
    "ec/tls-client": (("ecdsa-p256",), None, 365, None),
    "ec/code-signing": (("ecdsa-p256",), None, 365, None),
    "ec/email": (("ecdsa-p256",), None, 365, None),
    "ec/signing": (("ecdsa-p256",), None, 365, None),
    "ec/timestamping": (("ecdsa-p256",), None, 1095, None),
    "ec/ocsp-responder": (("ecdsa-p384",), None, 365, None),
    "rsa/root-ca": (("rsa-4096",), None, 7300, 1),
    "rsa/issuing-ca": (("rsa-4096",), None, 3650, 0),
    "rsa/tls-server": (("rsa-2048",), None, 365, None),
    "rsa/tls-client": (("rsa-2048",), None, 365, None),
    "rsa/code-signing": (("rsa-2048",), None, 365, None),
    "rsa/email": (("rsa-2048",), None, 365, None),
    "rsa/signing": (("rsa-2048",), None, 365, None),
    "rsa/timestamping": (("rsa-2048",), None, 1095, None),
    "rsa/ocsp-responder": (("rsa-2048",), None, 365, None),
    "rsa-pss/tls-server": (("rsa-4096",), None, 365, None),
    "ml/root-ca": (("ml-dsa-87",), None, 7300, 1),
    "ml/issuing-ca": (("ml-dsa-65",), None, 3650, 0),
    "ml/tls-server": (("ml-dsa-65",), None, 365, None),
    "ml/tls-client": (("ml-dsa-65",), None, 365, None),
    "ml/code-signing": (("ml-dsa-65",), None, 365, None),
    "ml/signing": (("ml-dsa-65",), None, 365, None),
    "ml/email": (("ml-dsa-65",), None, 365, None),
    "ml/encryption": (("ml-kem-768",), None, 365, None),
    "ml/ocsp-responder": (("ml-dsa-65",), None, 365, None),
    "slh/root-ca": (("slh-dsa-sha2-256f",), None, 7300, 1),
    "slh/issuing-ca": (("slh-dsa-sha2-192f",), None, 3650, 0),
    "slh/tls-server": (("slh-dsa-sha2-128f",), None, 365, None),
    "slh/tls-client": (("slh-dsa-sha2-128f",), None, 365, None),
    "slh/signing": (("slh-dsa-sha2-256s",), None, 365, None),
    "slh/ocsp-responder": (("slh-dsa-sha2-128f",), None, 365, None),
    "hybrid/catalyst/root-ca": (("ecdsa-p384", "ml-dsa-87"), "catalyst", 7300, 1),
    "hybrid/catalyst/issuing-ca": (("ecdsa-p256", "ml-dsa-65"), "catalyst", 3650, 0),
    "hybrid/catalyst/tls-server": (("ecdsa-p256", "ml-dsa-65"), "catalyst", 365, None),
    "hybrid/catalyst/tls-client": (("ecdsa-p256", "ml-dsa-65"), "catalyst", 365, None),
    "hybrid/composite/root-ca": (("ecdsa-p521", "ml-dsa-87"), "composite", 7300, 1),
    "hybrid/composite/issuing-ca": (("ecdsa-p256", "ml-dsa-65"), "composite", 3650, 0),
    "hybrid/composite/tls-server": (("ecdsa-p256", "ml-dsa-65"), "composite", 365, None),
    "hybrid/composite/tls-client": (("ecdsa-p256", "ml-dsa-65"), "composite", 365, None),
    "hybrid/composite/ocsp-responder": (("ecdsa-p256", "ml-dsa-65"), "composite", 365, None),
}

MINIMAL = {"email": {"cn": "Alice", "email": "alice@example.com"}}


def minimal_vars(name):
    return dict(MINIMAL.get(name.split("/")[-1], {"cn": "test.example.com"}))


_KEYS = {}


def key_for(algorithm):
    """One cached private key per classical algorithm."""
    if algorithm not in _KEYS:
        if algorithm.startswith("ecdsa-"):
            curve = {"p256": ec.SECP256R1, "p384": ec.SECP384R1, "p521": ec.SECP521R1}[algorithm[6:]]
            _KEYS[algorithm] = ec.generate_private_key(curve())
        else:
            _KEYS[algorithm] = rsa.generate_private_key(65537, int(algorithm[4:]))
    return _KEYS[algorithm]


def self_signed(profile, rendered):
    """Build and re-parse a certificate carrying the rendered extensions."""
    key = key_for(profile.algorithms[0])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(rendered.subject).issuer_name(rendered.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + rendered.validity))
    for ext in rendered.extensions:
        builder = builder.add_extension(ext.value, critical=ext.critical)
    kwargs = {}
    if profile.signature.get("scheme") == "pss":
        kwargs["rsa_padding"] = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
    cert = builder.sign(key, hashes.SHA256(), **kwargs)
    der = cert.public_bytes(serialization.Encoding.DER)
    return x509.load_der_x509_certificate(der), der


def test_catalogue_is_exactly_the_documented_set():
    assert sorted(FACTS) == ALL


def test_list_is_sorted_and_cached():
    names = [p.name for p in list_profiles()]
    assert names == sorted(names)
    assert load_profile("ec/root-ca") is load_profile("ec/root-ca")


@pytest.mark.parametrize("name", sorted(FACTS))
def test_builtin_facts(name):
    algorithms, mode, days, path_len = FACTS[name]
    profile = load_profile(name)
    assert profile.name == name
    assert profile.algorithms == algorithms
    assert profile.mode == mode
    assert profile.validity == datetime.timedelta(days=days)
    assert profile.is_ca == (path_len is not None)
    assert profile.path_len == path_len
    assert profile.description
    json.dumps(profile.to_dict())  # plain data


@pytest.mark.parametrize("name", ALL)
def test_every_builtin_renders_with_minimal_vars(name):
    profile = load_profile(name)
    rendered = profile.render(minimal_vars(name))
    assert rendered.validity == profile.validity
    assert rendered.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    oids = [e.oid for e in rendered.extensions]
    assert oids[0] == ExtensionOID.BASIC_CONSTRAINTS
    assert ExtensionOID.SUBJECT_KEY_IDENTIFIER not in oids
    assert ExtensionOID.AUTHORITY_KEY_IDENTIFIER not in oids
    assert len(set(oids)) == len(oids)
    # Rendering is deterministic.
    assert profile.render(minimal_vars(name)).extensions == rendered.extensions


@pytest.mark.parametrize("name", [n for n in ALL if n.split("/")[0] in ("ec", "rsa", "rsa-pss")])
def test_classical_builtins_encode_into_a_certificate(name):
    profile = load_profile(name)
    rendered = profile.render(minimal_vars(name))
    cert, der = self_signed(profile, rendered)
    assert list(cert.extensions) == rendered.extensions
    assert cert.subject == rendered.subject
    if shutil.which("openssl"):
        out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-text"],
                             input=der, capture_output=True, check=True)
        assert b"X509v3 Basic Constraints: critical" in out.stdout


@pytest.mark.parametrize("name", [n for n in ALL if n.split("/")[0] in ("ec", "rsa", "rsa-pss")])
def test_classical_builtins_with_all_optional_vars_encode(name):
    profile = load_profile(name)
    values = minimal_vars(name)
    values.update({"o": "Example Org", "ou": "PKI", "c": "FR"})
    if "crl_url" in profile.variables:
        values.update({"crl_url": "http://pki.example.com/ca.crl",
                       "ocsp_url": "http://ocsp.example.com",
                       "ca_issuers_url": "http://pki.example.com/ca.crt"})
    if "dns_names" in profile.variables:
        values.update({"dns_names": "a.example.com,*.b.example.com", "ip_addresses": "192.0.2.1,2001:db8::1"})
    if name.endswith("tls-client"):
        values["email"] = "bob@example.com"
    rendered = profile.render(values)
    cert, dummy = self_signed(profile, rendered)
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "FR"
    if "crl_url" in profile.variables:
        cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        assert cdp[0].full_name[0].value == "http://pki.example.com/ca.crl"
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
        assert not aia.critical and len(aia.value) == 2


def _ext(rendered, cls):
    for ext in rendered.extensions:
        if isinstance(ext.value, cls):
            return ext
    return None


@pytest.mark.parametrize("family", ["ec", "rsa", "ml", "slh", "hybrid/catalyst", "hybrid/composite"])
def test_ca_roles(family):
    for role in ("root-ca", "issuing-ca"):
        r = load_profile("%s/%s" % (family, role)).render({"cn": "CA"})
        bc = _ext(r, x509.BasicConstraints)
        assert bc.critical and bc.value.ca
        ku = _ext(r, x509.KeyUsage)
        assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign and ku.value.digital_signature
        assert _ext(r, x509.ExtendedKeyUsage) is None


def test_tls_server_key_usage_depends_on_family():
    ec_ku = _ext(load_profile("ec/tls-server").render({"cn": "a.example"}), x509.KeyUsage).value
    rsa_ku = _ext(load_profile("rsa/tls-server").render({"cn": "a.example"}), x509.KeyUsage).value
    assert ec_ku.digital_signature and not ec_ku.key_encipherment
    assert rsa_ku.digital_signature and rsa_ku.key_encipherment


def test_leaf_roles():
    cases = {
        "ec/tls-server": ExtendedKeyUsageOID.SERVER_AUTH,
        "ec/tls-client": ExtendedKeyUsageOID.CLIENT_AUTH,
        "ec/code-signing": ExtendedKeyUsageOID.CODE_SIGNING,
        "ec/email": ExtendedKeyUsageOID.EMAIL_PROTECTION,
        "ec/timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
        "ec/ocsp-responder": ExtendedKeyUsageOID.OCSP_SIGNING,
    }
    for name, eku in cases.items():
        r = load_profile(name).render(minimal_vars(name))
        assert _ext(r, x509.BasicConstraints).value.ca is False
        assert list(_ext(r, x509.ExtendedKeyUsage).value) == [eku]
    assert _ext(load_profile("ec/timestamping").render({"cn": "tsa"}), x509.ExtendedKeyUsage).critical
    assert _ext(load_profile("ec/ocsp-responder").render({"cn": "ocsp"}), x509.OCSPNoCheck) is not None
    signing = _ext(load_profile("ec/signing").render({"cn": "s"}), x509.KeyUsage).value
    assert signing.digital_signature and signing.content_commitment
    email = load_profile("ec/email").render({"cn": "Alice", "email": "alice@example.com"})
    assert _ext(email, x509.SubjectAlternativeName).value.get_values_for_type(x509.RFC822Name) == ["alice@example.com"]


def test_ml_kem_encryption_is_key_encipherment_only():
    ku = _ext(load_profile("ml/encryption").render({"cn": "kem"}), x509.KeyUsage).value
    flags = {k: getattr(ku, k) for k in ("digital_signature", "content_commitment", "key_encipherment",
                                         "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign")}
    assert flags == {k: k == "key_encipherment" for k in flags}


def test_tls_server_sans_and_wildcards():
    profile = load_profile("ec/tls-server")
    r = profile.render({"cn": "www.example.com", "dns_names": "*.example.com,www.example.com",
                        "ip_addresses": "10.1.2.3"})
    san = _ext(r, x509.SubjectAlternativeName).value
    # The CN comes first, duplicates are dropped.
    assert san.get_values_for_type(x509.DNSName) == ["www.example.com", "*.example.com"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["10.1.2.3"]
    with pytest.raises(ProfileError, match="wildcard"):
        profile.render({"cn": "x.example.com", "dns_names": "a.*.example.com"})


def test_tls_server_rejects_cn_that_is_not_a_dns_name():
    with pytest.raises(ProfileError, match=r"profile ec/tls-server: extensions.subjectAltName.dns_include_cn: "
                                           r"CN \"not a host\" is not a valid DNS name"):
        load_profile("ec/tls-server").render({"cn": "not a host"})


def test_ca_country_pattern():
    with pytest.raises(ProfileError, match=r"profile ec/root-ca: variable c: \"FRA\" does not match pattern"):
        load_profile("ec/root-ca").render({"cn": "Root", "c": "FRA"})


def test_rsa_pss_signature_option():
    assert load_profile("rsa-pss/tls-server").signature == {"scheme": "pss"}
    assert load_profile("rsa/tls-server").signature == {}


def test_unknown_builtin_name():
    with pytest.raises(ProfileError) as info:
        load_profile("ec/nope")
    assert str(info.value) == 'unknown profile "ec/nope" (see qpki profile list)'


def test_profile_is_immutable():
    profile = load_profile("ec/root-ca")
    with pytest.raises(AttributeError):
        profile.name = "x"
    profile.variables["cn"]["required"] = False
    profile.signature["scheme"] = "pss"
    assert profile.variables["cn"]["required"] is True
    assert profile.signature == {}


def test_profile_algorithm_names_match_the_registry():
    from qpki.algorithms.registry import algorithm_names
    from qpki.profiles.algorithm_rules import KNOWN

    # Composite algorithms are named in profiles as a pair (mode: composite),
    # so profiles know every other registry name and no composite one.
    assert sorted(KNOWN) == [n for n in algorithm_names() if not n.startswith("composite-")]
