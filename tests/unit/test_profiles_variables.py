"""Typed variables: every type and constraint, var args and var files."""

import datetime
import re

import pytest

from qpki.errors import InputError, ProfileError
from qpki.profiles import Profile, load_var_file, parse_var_args


def make(variables, name="t/p"):
    """A minimal leaf profile declaring ``variables``."""
    return Profile({"name": name, "algorithm": "ecdsa-p256", "validity": "1d", "variables": variables})


def value_of(spec, raw):
    return make({"v": spec}).render({"v": raw}).values["v"]


def rejects(spec, raw, fragment):
    with pytest.raises(ProfileError) as info:
        make({"v": spec}).render({"v": raw})
    message = str(info.value)
    assert message.startswith("profile t/p: variable v: "), message
    assert fragment in message, message
    assert "\n" not in message


# (spec, good raw value, expected typed value, bad raw value, message fragment)
CASES = [
    ({"type": "string"}, "abc", "abc", ["a"], "expected a string"),
    ({"type": "string", "pattern": "[A-Z]{2}"}, "FR", "FR", "FRA", 'does not match pattern [A-Z]{2}'),
    ({"type": "string", "min_length": 2}, "ab", "ab", "a", "shorter than 2"),
    ({"type": "string", "max_length": 3}, "abc", "abc", "abcd", "longer than 3"),
    ({"type": "string", "enum": ["dev", "prod"]}, "prod", "prod", "test", 'is not one of: "dev", "prod"'),
    ({"type": "integer"}, "42", 42, "4.2", "is not an integer"),
    ({"type": "integer", "min": 1}, 1, 1, "0", "less than the minimum 1"),
    ({"type": "integer", "max": 10}, "10", 10, 11, "greater than the maximum 10"),
    ({"type": "integer", "enum": [1, 2]}, "2", 2, 3, "is not one of"),
    ({"type": "boolean"}, "yes", True, "maybe", "is not a boolean"),
    ({"type": "boolean"}, False, False, 1, "is not a boolean"),
    ({"type": "list"}, "a, b,c", ["a", "b", "c"], {"a": 1}, "expected a list"),
    ({"type": "list", "min_items": 2}, ["a", "b"], ["a", "b"], "a", "at least 2"),
    ({"type": "list", "max_items": 1}, "a", ["a"], "a,b", "at most 1"),
    ({"type": "list", "pattern": "[a-z]+"}, "ab,cd", ["ab", "cd"], "ab,C1", '"C1" does not match'),
    ({"type": "list", "enum": ["x", "y"]}, "x,y", ["x", "y"], "x,z", '"z" is not one of'),
    ({"type": "dns_name"}, "host.example.com", "host.example.com", "bad_name!", '"bad_name!" is not a valid DNS name'),
    ({"type": "dns_name"}, "a-b.example", "a-b.example", "-a.example", "is not a valid DNS name"),
    ({"type": "dns_name"}, "a" * 63 + ".example", "a" * 63 + ".example", "a" * 64 + ".example",
     "is not a valid DNS name"),
    ({"type": "dns_name"}, ".".join(["a" * 63] * 3) + ".abc", ".".join(["a" * 63] * 3) + ".abc",
     ".".join(["a" * 63] * 4), "longer than 253"),
    ({"type": "dns_name"}, "bücher.example", "xn--bcher-kva.example", "a..example", "not a valid DNS name"),
    ({"type": "dns_name"}, "x.example", "x.example", "*.example.com", "wildcards are not allowed"),
    ({"type": "dns_name", "allow_wildcard": True}, "*.example.com", "*.example.com", "w*.example.com",
     "whole leftmost label"),
    ({"type": "dns_name", "allow_wildcard": True}, "*.example.com", "*.example.com", "*.com",
     "at least two labels"),
    ({"type": "dns_name", "allow_wildcard": True}, "*.example.com", "*.example.com", "a.*.example.com",
     "whole leftmost label"),
    ({"type": "dns_names"}, "a.example,b.example", ["a.example", "b.example"], "a.example,bad_name!",
     '"bad_name!" is not a valid DNS name'),
    ({"type": "dns_names", "max_items": 2}, ["a.example"], ["a.example"], "a.x,b.x,c.x", "at most 2"),
    ({"type": "ip_list"}, "192.0.2.1, 2001:DB8::1", ["192.0.2.1", "2001:db8::1"], "192.0.2.300",
     '"192.0.2.300" is not a valid IP address'),
    ({"type": "email"}, "alice@example.com", "alice@example.com", "alice@@example.com", "not a valid email"),
    ({"type": "email"}, "a.b+c@example.com", "a.b+c@example.com", "alice@bad_domain", "not a valid email"),
    ({"type": "uri"}, "http://pki.example.com/ca.crl", "http://pki.example.com/ca.crl", "pki.example.com/ca.crl",
     "scheme"),
    ({"type": "uri"}, "ldap://x/cn=a", "ldap://x/cn=a", "http://a b", "not a valid URI"),
    ({"type": "oid"}, "1.3.6.1.4.1.99999.1", "1.3.6.1.4.1.99999.1", "1.3.a", "is not a dotted OID"),
    ({"type": "oid"}, "2.999.1", "2.999.1", "1.40.1", "second arc"),
    ({"type": "duration"}, "30d", datetime.timedelta(days=30), "30 days", "is not a duration"),
    ({"type": "duration", "max": "90d"}, "60d", datetime.timedelta(days=60), "1y", "longer than the maximum 90d"),
    ({"type": "duration", "min": "1h"}, "90m", datetime.timedelta(minutes=90), "30m", "shorter than the minimum 1h"),
]


@pytest.mark.parametrize("spec,good,typed,bad,fragment", CASES,
                         ids=["%d-%s" % (i, c[0]["type"]) for i, c in enumerate(CASES)])
def test_constraint_accepts_good_and_rejects_bad(spec, good, typed, bad, fragment):
    assert value_of(spec, good) == typed
    rejects(spec, bad, fragment)


def test_error_message_shape_for_dns_names():
    profile = make({"dns_names": {"type": "dns_names"}}, name="ec/tls-server")
    with pytest.raises(ProfileError) as info:
        profile.render({"dns_names": "ok.example,bad_name!"})
    assert str(info.value) == 'profile ec/tls-server: variable dns_names: "bad_name!" is not a valid DNS name'


def test_yaml_boolean_for_string_hints_quoting():
    rejects({"type": "string"}, False, "quote it")


def test_required_default_and_absent():
    profile = make({"need": {"type": "string", "required": True},
                    "opt": {"type": "string"},
                    "days": {"type": "integer", "default": 7}})
    with pytest.raises(ProfileError, match=r"^profile t/p: variable need: required but not given$"):
        profile.render({})
    values = profile.render({"need": "x"}).values
    assert values == {"need": "x", "days": 7}
    assert profile.render({"need": "x", "days": "9"}).values["days"] == 9
    # None means "not given".
    assert profile.render({"need": "x", "opt": None}).values == {"need": "x", "days": 7}


def test_unknown_user_variables_are_named():
    profile = make({"cn": {"type": "string"}})
    with pytest.raises(ProfileError) as info:
        profile.render({"cn": "a", "zz": 1, "aa": 2})
    assert "unknown variable(s): aa, zz" in str(info.value)
    assert "declared: cn" in str(info.value)


@pytest.mark.parametrize("spec,fragment", [
    ({"type": "float"}, 'unknown type "float"'),
    ({"type": "integer", "pattern": "x"}, 'unknown key "pattern" for type integer'),
    ({"type": "string", "min": 1}, 'unknown key "min"'),
    ({"type": "string", "allow_wildcard": True}, 'unknown key "allow_wildcard"'),
    ({"type": "string", "pattern": "("}, "not a valid regular expression"),
    ({"type": "integer", "min": 5, "max": 1}, "min is greater than max"),
    ({"type": "list", "min_items": -1}, "non-negative integer"),
    ({"type": "string", "required": "yes"}, "required must be true or false"),
    ({"type": "string", "required": True, "default": "x"}, "cannot have a default"),
    ({"type": "integer", "max": 3, "default": 4}, "default: 4 is greater than the maximum 3"),
    ({"type": "string", "enum": []}, "enum must be a non-empty list"),
    ({"type": "dns_name", "enum": ["bad_name!"]}, "enum: "),
    ("string", "expected a mapping"),
])
def test_bad_declarations(spec, fragment):
    with pytest.raises(ProfileError) as info:
        make({"v": spec})
    assert str(info.value).startswith("profile t/p: variable v: ")
    assert fragment in str(info.value)


def test_bad_variable_name():
    with pytest.raises(ProfileError, match='"bad-name" is not a valid variable name'):
        make({"bad-name": {}})


def test_untyped_variable_defaults_to_string():
    assert make({"v": None}).variables["v"]["type"] == "string"


def test_variables_are_described_for_show():
    profile = make({"c": {"type": "string", "pattern": "[A-Z]{2}", "description": "country"},
                    "names": {"type": "dns_names", "allow_wildcard": True, "max_items": 5},
                    "life": {"type": "duration", "default": "1y", "max": "2y"}})
    shown = profile.variables
    assert shown["c"] == {"type": "string", "required": False, "description": "country", "pattern": "[A-Z]{2}"}
    assert shown["names"]["allow_wildcard"] is True and shown["names"]["max_items"] == 5
    assert shown["life"]["default"] == "365d" and shown["life"]["max"] == "730d"


# -- --var and --var-file ---------------------------------------------------

def test_parse_var_args():
    assert parse_var_args(["cn=My CA", "dns_names=a.example,b.example", "empty=", "eq=a=b"]) == {
        "cn": "My CA", "dns_names": "a.example,b.example", "empty": "", "eq": "a=b"}
    assert parse_var_args([]) == {}


def test_parse_var_args_missing_equals():
    with pytest.raises(InputError) as info:
        parse_var_args(["cn=ok", "oops"])
    assert '"oops"' in str(info.value) and "NAME=VALUE" in str(info.value)


def test_parse_var_args_repeated_key():
    with pytest.raises(InputError, match="cn.*more than once"):
        parse_var_args(["cn=a", "cn=b"])


def test_parse_var_args_bad_name():
    with pytest.raises(InputError, match="not a valid variable name"):
        parse_var_args(["=x"])


def test_load_var_file(tmp_path):
    path = tmp_path / "vars.yaml"
    path.write_text("cn: web\ndns_names: [a.example, b.example]\nport: 443\n")
    assert load_var_file(str(path)) == {"cn": "web", "dns_names": ["a.example", "b.example"], "port": 443}
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_var_file(str(empty)) == {}


@pytest.mark.parametrize("text,fragment", [
    ("- a\n- b\n", "expected a mapping"),
    ("cn: [unclosed\n", "invalid YAML"),
    ("cn: a\ncn: b\n", "duplicate key"),
    ("1: a\n", "is not a string"),
])
def test_load_var_file_errors(tmp_path, text, fragment):
    path = tmp_path / "vars.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_var_file(str(path))
    message = str(info.value)
    assert str(path) in message and fragment in message and "\n" not in message


def test_load_var_file_missing(tmp_path):
    with pytest.raises(InputError, match=re.escape(str(tmp_path / "none.yaml")) + ".*not found"):
        load_var_file(str(tmp_path / "none.yaml"))


def test_var_file_values_feed_render(tmp_path):
    path = tmp_path / "vars.yaml"
    path.write_text("names: [a.example, b.example]\ncount: 3\n")
    profile = make({"names": {"type": "dns_names"}, "count": {"type": "integer", "max": 5}})
    assert profile.render(load_var_file(str(path))).values == {"names": ["a.example", "b.example"], "count": 3}
