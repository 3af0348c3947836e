"""ops.cert.details: what qpki_cert_info returns, on hybrid PKIs qpki built.

A catalyst and a composite two-tier PKI (ops.ca_init, credential_enroll)
give a TLS server certificate each; the details must show both algorithms,
the names and usages as values, the time left and valid_at, and, with the
trust anchors, a verification that names the rule when it fails.
"""

from __future__ import annotations

import datetime

import pytest

from qpki.errors import InputError
from qpki.ops.ca.commands import ca_init
from qpki.ops.cert.details import certificate_details, certificate_report, moment
from qpki.ops.credential.enroll import credential_enroll

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module", params=["catalyst", "composite"])
def hybrid(request, tmp_path_factory):
    mode = request.param
    base = tmp_path_factory.mktemp(mode)
    ca_init(str(base / "root"), f"hybrid/{mode}/root-ca", {"cn": f"{mode} Root"})
    ca_init(str(base / "issuing"), f"hybrid/{mode}/issuing-ca", {"cn": f"{mode} Issuing"},
            parent_dir=str(base / "root"))
    leaf = credential_enroll(str(base / "issuing"), str(base / "creds"),
                             f"hybrid/{mode}/tls-server",
                             {"cn": "www.example.com", "dns_names": ["api.example.com"]}).to_dict()
    return mode, {name: (base / path).read_bytes() for name, path in (
        ("root", "root/ca.crt"), ("issuing", "issuing/ca.crt"))} | {
        "leaf": open(leaf["cert_path"], "rb").read()}


def test_details_show_both_algorithms_names_and_time_left(hybrid):
    mode, pem = hybrid
    details = certificate_details(pem["leaf"], "leaf", datetime.datetime.now(
        datetime.timezone.utc), {"tomorrow": "+1d", "in_ten_years": "+3650d",
                                 "long_ago": "2000-01-01T00:00:00Z"})
    assert details["hybrid"] == mode and details["version"] == 3
    assert details["subject_ordered"] == [["CN", "www.example.com"]]
    assert set(details["subject_alt_name"]) == {"DNS:www.example.com", "DNS:api.example.com"}
    assert details["extended_key_usage"] == ["serverAuth"]
    assert details["key_usage"] == ["digitalSignature"]
    assert details["basic_constraints"] == {"ca": False, "path_length": None, "critical": True}
    assert details["valid_at"] == {"tomorrow": True, "in_ten_years": False, "long_ago": False}
    assert 0 < details["expires_in_seconds"] <= 366 * 86400 and not details["expired"]
    assert len(details["subject_key_identifier"]) == 40 and details["authority_key_identifier"]
    if mode == "catalyst":
        assert details["public_key_algorithm"] == "ecdsa-p256"
        assert details["alt_public_key_algorithm"] == "ml-dsa-65"
        assert details["alt_signature_algorithm"] == "ML-DSA-65"
    else:
        assert details["public_key_algorithm"] == "composite-mldsa65-ecdsa-p256"
        assert details["composite_components"][0] == "ml-dsa-65"


def test_report_verifies_with_the_anchors_and_names_the_failed_rule(hybrid):
    mode, pem = hybrid
    good = certificate_report(pem["leaf"], "leaf", ca_data=pem["root"],
                              untrusted_data=pem["issuing"], host="api.example.com",
                              purpose="serverAuth")["verification"]
    assert good["valid"] and good["rule"] == "ok" and good["engine"] == "qpki"
    assert good["host"] == "api.example.com" and "changed" not in good
    late = certificate_report(pem["leaf"], "leaf", ca_data=pem["root"],
                              untrusted_data=pem["issuing"], verify_at="+800d")["verification"]
    assert not late["valid"] and late["rule"] == "validity.expired"
    alone = certificate_report(pem["leaf"], "leaf", ca_data=pem["root"])["verification"]
    assert not alone["valid"] and alone["rule"] == "chain.no_path"
    assert "verification" not in certificate_report(pem["leaf"], "leaf")


@pytest.mark.parametrize("text, expected", [
    ("+1w2d", NOW + datetime.timedelta(days=9)),
    ("-12h", NOW - datetime.timedelta(hours=12)),
    ("2027-01-01T00:00:00", datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc)),
    ("2027-01-01T01:00:00+01:00", datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc)),
])
def test_moments(text, expected):
    assert moment(text, NOW, "valid_at.x") == expected


def test_a_moment_that_is_not_one_names_where_it_came_from():
    with pytest.raises(InputError, match=r"valid_at\.soon: 'tomorrow' is neither"):
        moment("tomorrow", NOW, "valid_at.soon")
