"""`qpki cert verify` with names and purposes, on chains qpki issued itself.

An ECDSA and an ML-DSA two-tier PKI (cryptography's verifier and our own
engine judge them) issue a certificate for each purpose; each must verify
for its own purpose and name, and be refused, with the rule named in the
--json output and exit code 1, for another purpose or name.
"""

from __future__ import annotations

import json

import pytest

PURPOSES = {  # profile suffix -> (purpose, extra variables, name flags that must match)
    "tls-server": ("serverAuth", ["--var", "dns_names=api.example.com",
                                  "--var", "ip_addresses=192.0.2.7"],
                   ["--host", "www.example.com", "--ip", "192.0.2.7"]),
    "tls-client": ("clientAuth", ["--var", "email=alice@example.com"],
                   ["--email", "alice@example.com"]),
    "code-signing": ("codeSigning", [], []),
    "email": ("emailProtection", ["--var", "email=bob@example.com"],
              ["--email", "bob@example.com"]),
    "timestamping": ("timeStamping", [], []),
    "ocsp-responder": ("OCSPSigning", [], []),
}
FAMILIES = {"ec": ["tls-server", "tls-client", "code-signing", "email", "timestamping",
                   "ocsp-responder"],
            "ml": ["tls-server", "tls-client", "code-signing", "email"]}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def pki(request, tmp_path_factory):
    from qpki.ops.ca.commands import ca_init
    from qpki.ops.credential.enroll import credential_enroll

    family = request.param
    base = tmp_path_factory.mktemp(f"verify-{family}")
    ca_init(str(base / "root"), f"{family}/root-ca", {"cn": "Verify Root"})
    ca_init(str(base / "issuing"), f"{family}/issuing-ca", {"cn": "Verify Issuing"},
            parent_dir=str(base / "root"))
    certs = {}
    for kind in FAMILIES[family]:
        values = {"cn": "www.example.com" if kind == "tls-server" else f"{kind} holder"}
        extra = PURPOSES[kind][1]
        values.update(dict(item.split("=", 1) for item in extra[1::2]))
        values = {k: v.split(",") if k in ("dns_names", "ip_addresses") else v
                  for k, v in values.items()}
        enrolled = credential_enroll(str(base / "issuing"), str(base / "creds"),
                                     f"{family}/{kind}", values).to_dict()
        certs[kind] = enrolled["cert_path"]
    return family, base, certs


def _verify(qpki_cli, base, cert, *flags):
    result = qpki_cli("cert", "verify", cert, "--ca", base / "root/ca.crt",
                      "--untrusted", base / "issuing/ca.crt", "--json", *flags)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_each_certificate_verifies_for_its_purpose_and_names(pki, qpki_cli):
    family, base, certs = pki
    for kind, cert in certs.items():
        purpose, _values, names = PURPOSES[kind]
        code, answer = _verify(qpki_cli, base, cert, "--purpose", purpose, *names)
        assert code == 0 and answer["valid"], (kind, answer["failures"])
        assert answer["rule"] == "ok" and answer["purpose"] == purpose
        assert answer["engine"] == ("cryptography" if family == "ec" else "qpki")


def test_another_purpose_is_refused_by_eku(pki, qpki_cli):
    _family, base, certs = pki
    code, answer = _verify(qpki_cli, base, certs["tls-client"], "--purpose", "serverAuth")
    assert code == 1 and answer["rule"] == "eku.purpose"
    code, answer = _verify(qpki_cli, base, certs["tls-server"], "--purpose", "OCSPSigning")
    assert code == 1 and answer["rule"] == "eku.purpose"


def test_another_name_is_refused(pki, qpki_cli):
    _family, base, certs = pki
    for flags in (["--host", "evil.example.net"], ["--ip", "192.0.2.8"],
                  ["--host", "example.com"]):
        code, answer = _verify(qpki_cli, base, certs["tls-server"], *flags)
        assert code == 1 and answer["rule"] == "name.mismatch", flags
        assert answer["failures"] == [{"rule": "name.mismatch", "message": answer["reason"]}]
    code, answer = _verify(qpki_cli, base, certs["tls-client"], "--email", "Alice@example.com")
    assert code == 1 and answer["rule"] == "name.mismatch"  # the local part is case-sensitive


def test_web_pki_rules_hold_for_a_qpki_tls_server(pki, qpki_cli):
    _family, base, certs = pki
    code, answer = _verify(qpki_cli, base, certs["tls-server"], "--web-pki",
                           "--purpose", "serverAuth", "--host", "api.example.com")
    assert code == 0, answer["failures"]


def test_web_pki_rules_refuse_what_rfc_5280_allows(pki, qpki_cli):
    """The tls-client certificate's CN ("tls-client holder") is not among its
    subjectAltName values (one email): fine for RFC 5280, refused by the
    Baseline Requirements' rule that a subject CN repeats a SAN value."""
    _family, base, certs = pki
    code, answer = _verify(qpki_cli, base, certs["tls-client"], "--purpose", "clientAuth")
    assert code == 0, answer["failures"]
    code, answer = _verify(qpki_cli, base, certs["tls-client"], "--purpose", "clientAuth",
                           "--web-pki")
    assert code == 1 and answer["rule"] == "webpki.cn_not_in_san", answer


def test_bad_requests_are_usage_errors(pki, qpki_cli, tmp_path):
    family, base, certs = pki
    cert = certs["tls-server"]
    for flags, words in ((["--ip", "192.0.2.300"], "IP address '192.0.2.300' is not an IPv4"),
                         (["--max-depth", "300"], "max depth must be between 0 and 255"),
                         (["--purpose", "anything"], "invalid choice")):
        result = qpki_cli("cert", "verify", cert, "--ca", base / "root/ca.crt", *flags)
        assert result.returncode == 2 and words in result.stderr, result.stderr
        assert result.stdout == ""
    forced = qpki_cli("cert", "verify", cert, "--ca", base / "root/ca.crt", "--untrusted",
                      base / "issuing/ca.crt", "--engine", "cryptography")
    if family == "ml":
        assert forced.returncode == 2
        assert "cryptography's verifier cannot judge this chain" in forced.stderr
        assert len(forced.stderr.strip().splitlines()) == 1
    else:
        assert forced.returncode == 0, forced.stderr


def test_engines_agree_on_a_qpki_chain(pki, qpki_cli):
    family, base, certs = pki
    answers = {engine: _verify(qpki_cli, base, certs["tls-server"], "--engine", engine,
                               "--purpose", "serverAuth", "--host", "nope.example.com")
               for engine in (["auto", "qpki"] if family == "ml" else ["cryptography", "qpki"])}
    assert {code for code, _answer in answers.values()} == {1}
    assert {answer["rule"] for _code, answer in answers.values()} == {"name.mismatch"}
