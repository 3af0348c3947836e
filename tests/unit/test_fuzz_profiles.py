"""Fuzzing profile loading and variable validation: arbitrary YAML-ish data
makes a Profile (or a ProfileError), arbitrary values render (or raise a
QpkiError); nothing else escapes."""

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_support import attempt, examples

FAST = settings(max_examples=examples(200), suppress_health_check=list(HealthCheck))
SLOWER = settings(max_examples=examples(120), suppress_health_check=list(HealthCheck))

SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
           | st.binary(max_size=8) | st.dates() | st.just(datetime.timedelta(days=1)))
YAMLISH = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5)
                       | st.dictionaries(st.text(max_size=12) | st.integers(), inner, max_size=5),
                       max_leaves=25)

VARIABLE_TYPES = ["string", "integer", "boolean", "list", "dns_name", "dns_names", "ip_list",
                  "email", "uri", "oid", "duration", "nonsense"]
CONSTRAINT_KEYS = ["required", "default", "enum", "pattern", "min_length", "max_length", "min",
                   "max", "min_items", "max_items", "allow_wildcard", "description", "bogus"]
EXTENSIONS = ["basicConstraints", "keyUsage", "extKeyUsage", "subjectAltName",
              "certificatePolicies", "crlDistributionPoints", "authorityInfoAccess",
              "nameConstraints", "ocspNoCheck", "madeUp"]
ALGORITHMS = ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "ml-dsa-65", "slh-dsa-sha2-128f",
              "ml-kem-768", "ed25519", "nope", ""]
PATTERNS = ["[a-z]+", "(a+)+$", "[", ".*", "\\d{2}", ""]


def constraint_value(key):
    if key == "pattern":
        return st.sampled_from(PATTERNS) | st.text(max_size=8)
    if key in ("min", "max"):
        return st.integers(-5, 100) | st.sampled_from(["1d", "90d", "8h", "x"])
    if key in ("min_length", "max_length", "min_items", "max_items"):
        return st.integers(-2, 10) | YAMLISH
    return YAMLISH


@st.composite
def variable_spec(draw):
    spec = {"type": draw(st.sampled_from(VARIABLE_TYPES))}
    for key in draw(st.lists(st.sampled_from(CONSTRAINT_KEYS), max_size=4, unique=True)):
        spec[key] = draw(constraint_value(key))
    return spec


@st.composite
def profile_like(draw):
    """Near-valid profiles, so that the checks past the first ones are reached."""
    names = draw(st.lists(st.sampled_from(["cn", "o", "dns_names", "ips", "x_1", "bad-name"]),
                          max_size=3, unique=True))
    data = {
        "algorithm": draw(st.sampled_from(ALGORITHMS)),
        "validity": draw(st.sampled_from(["365d", "8h", "1y", "0d", "-1d", "forever"])
                         | YAMLISH),
        "variables": {n: draw(variable_spec()) for n in names},
        "subject": draw(st.dictionaries(st.sampled_from(["cn", "o", "ou", "c", "zz"]),
                                        st.sampled_from(["{{ cn }}", "{{ o }}", "fixed",
                                                         "{{ nope }}", "{{", "{{ cn | x }}"])
                                        | YAMLISH, max_size=3)),
        "extensions": draw(st.dictionaries(st.sampled_from(EXTENSIONS), YAMLISH, max_size=3)),
    }
    for key in draw(st.lists(st.sampled_from(["name", "description", "mode", "algorithms",
                                              "signature", "extra"]), max_size=2, unique=True)):
        data[key] = draw(YAMLISH)
    return data


VALUES = st.dictionaries(
    st.sampled_from(["cn", "o", "dns_names", "ips", "x_1", "undeclared"]),
    st.text(max_size=30) | st.lists(st.text(max_size=20), max_size=4)
    | st.integers() | st.booleans() | st.none()
    | st.lists(st.ip_addresses().map(str), max_size=3), max_size=4)


def _build_and_render(data, values):
    from qpki.profiles.profile import Profile

    profile = Profile(data, name="fuzz")
    profile.render(values)
    profile.to_dict()
    return profile


@FAST
@given(YAMLISH)
def test_arbitrary_data_is_refused_cleanly(data):
    attempt(_build_and_render, data, {})


@SLOWER
@given(profile_like(), VALUES)
def test_near_valid_profiles_build_and_render_or_refuse(data, values):
    attempt(_build_and_render, data, values)


@FAST
@given(st.sampled_from(["ec/tls-server", "ec/email", "rsa/tls-client", "ml/signing",
                        "ec/root-ca", "ec/code-signing"]), VALUES)
def test_builtin_profiles_render_arbitrary_values(name, values):
    from qpki.profiles.loader import load_profile

    attempt(load_profile(name).render, values)


@FAST
@given(st.text(max_size=200))
def test_profile_yaml_text(tmp_path_factory, text):
    from qpki.profiles.loader import load_profile_file

    path = tmp_path_factory.mktemp("fuzzyaml") / "p.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    attempt(load_profile_file, str(path))


@FAST
@given(variable_spec(), st.text(max_size=40) | YAMLISH)
def test_variable_validation(spec, value):
    from qpki.profiles.variables import parse_variables, resolve

    specs = attempt(parse_variables, "fuzz", {"v": spec}).value
    if specs:
        attempt(resolve, "fuzz", specs, {"v": value})
        attempt(resolve, "fuzz", specs, {}, {"v": value})


@FAST
@given(st.lists(st.text(max_size=30), max_size=6))
def test_var_arguments(args):
    from qpki.profiles.variables import parse_var_args

    attempt(parse_var_args, args)


def test_regression_unhashable_key_usage_items():
    """Found by fuzzing: a list inside keyUsage/extKeyUsage raised TypeError
    (unhashable) instead of a ProfileError."""
    import pytest

    from qpki.errors import ProfileError
    from qpki.profiles.profile import Profile

    for extensions in ({"keyUsage": [[]]}, {"keyUsage": {"usages": [{"a": 1}]}},
                       {"extKeyUsage": {"usages": [[]]}}):
        with pytest.raises(ProfileError):
            Profile({"algorithm": "ecdsa-p256", "validity": "1d", "extensions": extensions},
                    name="fuzz")
