"""Custom YAML profiles: loading, schema errors, templates and extensions."""

import datetime
import textwrap

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from qpki.errors import ProfileError
from qpki.profiles import Profile, load_profile

FULL = """
name: acme/web
description: ACME web servers
algorithm: ecdsa-p256
validity: 90d
signature: {hash: sha384}
variables:
  cn: {type: dns_name, required: true}
  org: {type: string, default: ACME}
  units: {type: list}
  dcs: {type: list, default: [example, com]}
  dns_names: {type: dns_names, allow_wildcard: true}
  ips: {type: ip_list}
  host: {type: string, default: pki.acme.example}
subject:
  cn: "{{ cn }}"
  o: "{{ org }}"
  ou: ["{{ units }}"]
  dc: ["{{ dcs }}"]
  c: FR
extensions:
  basicConstraints: {ca: false}
  keyUsage: {usages: [digitalSignature, keyAgreement], critical: false}
  extKeyUsage: [serverAuth, clientAuth, 1.3.6.1.4.1.99999.7]
  subjectAltName:
    dns: ["{{ dns_names }}", "static.acme.example"]
    ip: ["{{ ips }}"]
    uri: ["https://{{ host }}/id/{{ cn }}"]
    dns_include_cn: true
  certificatePolicies:
    - {oid: 1.3.6.1.4.1.99999.1.1, cps: "http://{{ host }}/cps"}
    - anyPolicy
  crlDistributionPoints: ["http://{{ host }}/ca.crl", "ldap://{{ host }}/cn=ca"]
  authorityInfoAccess:
    ocsp: ["http://{{ host }}/ocsp"]
    ca_issuers: ["http://{{ host }}/ca.crt"]
"""


def write(tmp_path, text, name="profile.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def ext(rendered, cls):
    found = [e for e in rendered.extensions if isinstance(e.value, cls)]
    return found[0] if found else None


def test_full_custom_profile_renders_and_encodes(tmp_path):
    profile = load_profile(write(tmp_path, FULL))
    assert profile.name == "acme/web" and profile.source.endswith("profile.yaml")
    assert profile.validity == datetime.timedelta(days=90)
    assert profile.signature == {"hash": "sha384"}
    r = profile.render({"cn": "www.acme.example", "units": "Web,Ops", "dns_names": "*.acme.example",
                        "ips": "192.0.2.7"})
    # Subject: list variables expand, literal values stay, fixed RDN order.
    assert r.subject.rfc4514_string() == "CN=www.acme.example,OU=Ops,OU=Web,O=ACME,C=FR,DC=com,DC=example"
    assert [e.oid.dotted_string for e in r.extensions] == [
        "2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.17", "2.5.29.32", "2.5.29.31", "1.3.6.1.5.5.7.1.1"]
    ku = ext(r, x509.KeyUsage)
    assert not ku.critical and ku.value.key_agreement
    assert [o.dotted_string for o in ext(r, x509.ExtendedKeyUsage).value][-1] == "1.3.6.1.4.1.99999.7"
    san = ext(r, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.acme.example", "*.acme.example", "static.acme.example"]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        "https://pki.acme.example/id/www.acme.example"]
    policies = ext(r, x509.CertificatePolicies).value
    assert policies[0].policy_qualifiers == ["http://pki.acme.example/cps"]
    assert policies[1].policy_identifier.dotted_string == "2.5.29.32.0"
    cdp = ext(r, x509.CRLDistributionPoints).value
    assert [n.value for n in cdp[0].full_name] == ["http://pki.acme.example/ca.crl", "ldap://pki.acme.example/cn=ca"]
    aia = ext(r, x509.AuthorityInformationAccess)
    assert not aia.critical
    assert [d.access_method for d in aia.value] == [AuthorityInformationAccessOID.OCSP,
                                                    AuthorityInformationAccessOID.CA_ISSUERS]
    # And the whole set encodes into a real certificate.
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(r.subject).issuer_name(r.subject)
               .public_key(key.public_key()).serial_number(1)
               .not_valid_before(now).not_valid_after(now + r.validity))
    for e in r.extensions:
        builder = builder.add_extension(e.value, e.critical)
    cert = builder.sign(key, hashes.SHA384())
    reloaded = x509.load_pem_x509_certificate(cert.public_bytes(serialization.Encoding.PEM))
    assert list(reloaded.extensions) == r.extensions


def test_optional_variables_drop_entries_and_empty_extensions(tmp_path):
    text = """
    algorithm: ecdsa-p256
    validity: 1y
    variables:
      cn: {type: string, required: true}
      crl: {type: uri}
      names: {type: dns_names}
    subject: {cn: "{{ cn }}"}
    extensions:
      subjectAltName: {dns: ["{{ names }}"]}
      crlDistributionPoints: ["{{ crl }}"]
    """
    profile = load_profile(write(tmp_path, text, "leaf.yml"))
    assert profile.name == "leaf"  # defaults to the file stem
    assert profile.validity == datetime.timedelta(days=365)
    r = profile.render({"cn": "x"})
    assert r.extensions == []


def test_empty_subject_makes_san_critical():
    profile = Profile({"name": "t/nosubj", "algorithm": "ecdsa-p256", "validity": "8h",
                       "variables": {"names": {"type": "dns_names", "required": True}},
                       "extensions": {"subjectAltName": {"dns": ["{{ names }}"]}}})
    r = profile.render({"names": "a.example"})
    assert len(r.subject) == 0
    assert ext(r, x509.SubjectAlternativeName).critical
    assert profile.validity == datetime.timedelta(hours=8)


def test_name_constraints_on_a_ca():
    profile = Profile({"name": "t/ca", "algorithm": "ecdsa-p384", "validity": "30m",
                       "subject": {"cn": "Constrained CA"},
                       "extensions": {
                           "basicConstraints": {"ca": True, "path_len": 0},
                           "keyUsage": ["keyCertSign", "cRLSign"],
                           "nameConstraints": {"permitted": {"dns": ["example.com", ".example.org"],
                                                             "ip": ["10.0.0.0/8"],
                                                             "email": ["example.com"]},
                                               "excluded": {"dns": ["bad.example.com"]}},
                           "ocspNoCheck": {"critical": False}}})
    r = profile.render({})
    nc = ext(r, x509.NameConstraints)
    assert nc.critical
    assert len(nc.value.permitted_subtrees) == 4 and len(nc.value.excluded_subtrees) == 1
    assert ext(r, x509.OCSPNoCheck) is not None
    assert profile.is_ca and profile.path_len == 0


def test_catalyst_and_composite_custom():
    p = Profile({"name": "t/h", "algorithms": ["ecdsa-p384", "slh-dsa-sha2-128s"], "mode": "catalyst",
                 "validity": "1d"})
    assert p.algorithms == ("ecdsa-p384", "slh-dsa-sha2-128s") and p.mode == "catalyst"


BASE = {"name": "t/x", "algorithm": "ecdsa-p256", "validity": "1d"}


@pytest.mark.parametrize("changes,field,fragment", [
    ({"colour": "red"}, None, 'unknown key "colour"'),
    ({"validity": "forever"}, "validity", '"forever" is not a duration'),
    ({"validity": 365}, "validity", "is not a duration"),
    ({"validity": "0d"}, "validity", "not a positive duration"),
    ({"algorithm": "ecdsa-p999"}, "algorithm", 'unknown algorithm "ecdsa-p999"'),
    ({"mode": "catalyst"}, "mode", "needs two algorithms"),
    ({"signature": {"scheme": "rot13"}}, "signature.scheme", '"rot13" is not one of'),
    ({"signature": {"salt": 1}}, "signature", 'unknown key "salt"'),
    ({"subject": {"cn": "x", "title": "y"}}, "subject", 'unknown attribute "title"'),
    ({"subject": {"cn": "{{ nope }}"}}, "subject.cn", 'undeclared variable "nope"'),
    ({"subject": {"cn": "{{ cn | upper }}"}}, "subject.cn", "only {{ name }} substitutions"),
    ({"extensions": {"fancyExtension": {}}}, "extensions", 'unknown extension "fancyExtension"'),
    ({"extensions": {"subjectKeyIdentifier": {}}}, "extensions", "added automatically"),
    ({"extensions": {"keyUsage": ["digitalSignature", "fly"]}}, "extensions.keyUsage", 'unknown key usage "fly"'),
    ({"extensions": {"keyUsage": ["keyEncipherment"]}}, "extensions.keyUsage", "not possible with a ecdsa-p256"),
    ({"extensions": {"keyUsage": ["keyCertSign"]}}, "extensions.keyUsage", "needs basicConstraints ca"),
    ({"extensions": {"keyUsage": ["encipherOnly"]}}, "extensions.keyUsage", "need keyAgreement"),
    ({"extensions": {"keyUsage": {"usages": ["digitalSignature"], "critical": "yes"}}},
     "extensions.keyUsage.critical", "must be true or false"),
    ({"extensions": {"extKeyUsage": ["serverAuth", "flying"]}}, "extensions.extKeyUsage",
     'unknown extended key usage "flying"'),
    ({"extensions": {"basicConstraints": {"ca": False, "path_len": 1}}}, "extensions.basicConstraints.path_len",
     "only allowed when ca is true"),
    ({"extensions": {"basicConstraints": {"ca": True, "pathlen": 1}}}, "extensions.basicConstraints",
     'unknown key "pathlen"'),
    ({"extensions": {"subjectAltName": {"dns": ["bad_name!"]}}}, "extensions.subjectAltName.dns",
     '"bad_name!" is not a valid DNS name'),
    ({"extensions": {"subjectAltName": {"ip": ["10.0.0.300"]}}}, "extensions.subjectAltName.ip",
     "not a valid IP address"),
    ({"extensions": {"subjectAltName": {"x400": ["a"]}}}, "extensions.subjectAltName", 'unknown key "x400"'),
    ({"extensions": {"crlDistributionPoints": ["no-scheme/ca.crl"]}}, "extensions.crlDistributionPoints.uris",
     "scheme"),
    ({"extensions": {"authorityInfoAccess": {"ocsp": ["http://o"], "critical": True}}},
     "extensions.authorityInfoAccess.critical", "must not be critical"),
    ({"extensions": {"certificatePolicies": [{"oid": "x.y"}]}}, "extensions.certificatePolicies.policies[0].oid",
     "not a dotted OID"),
    ({"extensions": {"nameConstraints": {"permitted": {"dns": ["example.com"]}}}},
     "extensions.nameConstraints", "only allowed in a CA profile"),
])
def test_schema_errors_name_profile_field_and_value(changes, field, fragment):
    data = dict(BASE)
    data["variables"] = {"cn": {"type": "string"}}
    data.update(changes)
    with pytest.raises(ProfileError) as info:
        Profile(data)
    message = str(info.value)
    prefix = "profile t/x: " + (field + ": " if field else "")
    assert message.startswith(prefix), message
    assert fragment in message, message


@pytest.mark.parametrize("data,fragment", [
    ({"algorithms": ["ecdsa-p256", "ml-dsa-65"]}, "mode: missing is not one of"),
    ({"algorithms": ["ml-dsa-65", "ecdsa-p256"], "mode": "composite"}, "first algorithm must be classical"),
    ({"algorithms": ["ecdsa-p256", "slh-dsa-sha2-128f"], "mode": "composite"}, "second algorithm"),
    ({"algorithms": ["ecdsa-p256"], "mode": "catalyst"}, "or two with a mode"),
    ({"algorithm": "ecdsa-p256", "algorithms": ["ecdsa-p256", "ml-dsa-65"]}, "exactly one of"),
])
def test_algorithm_combinations(data, fragment):
    raw = {"name": "t/x", "validity": "1d"}
    raw.update(data)
    with pytest.raises(ProfileError, match=fragment):
        Profile(raw)


def test_yaml_file_errors(tmp_path):
    with pytest.raises(ProfileError, match="not found"):
        load_profile(str(tmp_path / "missing.yaml"))
    bad = write(tmp_path, "name: x\n  validity: [\n", "bad.yaml")
    with pytest.raises(ProfileError, match=r'profile file ".*bad.yaml": invalid YAML'):
        load_profile(bad)
    dup = write(tmp_path, "algorithm: ecdsa-p256\nvalidity: 1d\nvalidity: 2d\n", "dup.yaml")
    with pytest.raises(ProfileError, match="duplicate key"):
        load_profile(dup)
    listing = write(tmp_path, "- a\n", "list.yaml")
    with pytest.raises(ProfileError, match="expected a mapping"):
        load_profile(listing)


def test_yaml_file_unknown_extension_and_bad_validity(tmp_path):
    path = write(tmp_path, """
    name: custom/one
    algorithm: ecdsa-p256
    validity: 1d
    extensions:
      policyMappings: {}
    """)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert str(info.value).startswith('profile custom/one: extensions: unknown extension "policyMappings"')
    path = write(tmp_path, "name: custom/two\nalgorithm: ecdsa-p256\nvalidity: 12x\n", "two.yaml")
    with pytest.raises(ProfileError, match=r'^profile custom/two: validity: "12x" is not a duration'):
        load_profile(path)


def test_list_variable_in_single_subject_value_is_refused():
    with pytest.raises(ProfileError, match="list variable a needs a list of templates"):
        Profile({"name": "t/tpl", "algorithm": "ecdsa-p256", "validity": "1d",
                 "variables": {"a": {"type": "list"}}, "subject": {"ou": "{{ a }}"}})


def test_scalar_values_are_formatted_in_templates():
    profile = Profile({
        "name": "t/tpl", "algorithm": "ecdsa-p256", "validity": "1d",
        "variables": {"n": {"type": "integer"}, "flag": {"type": "boolean"}, "life": {"type": "duration"}},
        "subject": {"cn": "n={{n}} flag={{ flag }} life={{life}}"},
    })
    r = profile.render({"n": "5", "flag": "no", "life": "36h"})
    assert r.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "n=5 flag=false life=1d12h"
    assert r.values["life"] == datetime.timedelta(hours=36)


def test_two_list_variables_in_one_template_is_an_error():
    profile = Profile({
        "name": "t/tpl", "algorithm": "ecdsa-p256", "validity": "1d",
        "variables": {"a": {"type": "list"}, "b": {"type": "list"}},
        "extensions": {"subjectAltName": {"uri": ["urn:{{ a }}:{{ b }}"]}},
    })
    assert profile.render({}).extensions == []
    with pytest.raises(ProfileError, match="more than one list variable"):
        profile.render({"a": "x", "b": "y"})


def test_rendered_values_are_checked_against_the_field():
    profile = Profile({
        "name": "t/tpl", "algorithm": "ecdsa-p256", "validity": "1d",
        "variables": {"host": {"type": "string"}, "c": {"type": "string"}},
        "subject": {"c": "{{ c }}"},
        "extensions": {"crlDistributionPoints": ["http://{{ host }}/x.crl"],
                       "subjectAltName": {"dns": ["{{ host }}"]}},
    })
    with pytest.raises(ProfileError, match=r'extensions.subjectAltName.dns: "a b" is not a valid DNS name'):
        profile.render({"host": "a b"})
    with pytest.raises(ProfileError, match=r'subject.c: "FRA" is not a two-letter country code'):
        profile.render({"c": "FRA"})


@pytest.mark.parametrize("value", ["evil\nCN=admin", "tab\there", "bell\x07", "del\x7f", "c1\x85"])
def test_subject_values_with_control_characters_are_refused(value):
    profile = Profile({
        "name": "t/cc", "algorithm": "ecdsa-p256", "validity": "1d",
        "variables": {"cn": {"type": "string"}},
        "subject": {"cn": "{{ cn }}"},
    })
    with pytest.raises(ProfileError, match=r"subject.cn: .* contains a control character") as info:
        profile.render({"cn": value})
    assert "\n" not in str(info.value)
    assert profile.render({"cn": "plain name"}).subject.rfc4514_string() == "CN=plain name"
