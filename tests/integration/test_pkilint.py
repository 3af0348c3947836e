"""Every builtin profile's certificate and our CRLs, linted by pkilint.

pkilint (DigiCert's RFC 5280 / CA/Browser Forum linter) is code we did not
write; its own command-line entry points run here in-process (one Python
start-up instead of one per certificate). For each family a root CA, an
issuing CA below it (with CRL, OCSP and CA-issuer URLs) and one certificate
per leaf profile are made with qpki.

- ``lint_pkix_cert``: no finding of WARNING or worse, for every builtin
  profile, classical, PQC and hybrid alike (pkilint parses ML-DSA and
  SLH-DSA keys; composite keys give one NOTICE, see COMPOSITE_NOTICE).
- ``lint_crl``: the issuing CA's CRL (entries with several reasons) under
  the PKIX and CA/B Forum profiles, the root's as an ARL: no finding at all.
- ``lint_cabf_serverauth_cert`` on the TLS server leaves: only the findings
  listed in ACCEPTED_SERVERAUTH, each one something a private PKI may
  accept (docs/SECURITY.md says why).
"""

import contextlib
import io
import json
from pathlib import Path

import pytest
from pkilint.bin import lint_cabf_serverauth_cert, lint_crl, lint_pkix_cert

from qpki.ops.ca.commands import ca_init
from qpki.ops.credential.enroll import credential_enroll
from qpki.ops.crl.commands import crl_gen
from qpki.ops.cert.revoke import cert_revoke
from qpki.profiles import builtin

URLS = {"crl_url": "http://pki.example.com/issuing.crl",
        "ocsp_url": "http://ocsp.example.com",
        "ca_issuers_url": "http://pki.example.com/issuing.crt"}
ROLE_VARS = {
    "tls-server": {"cn": "www.example.com", "dns_names": ["www.example.com", "example.com"]},
    "tls-client": {"cn": "client.example.com", "email": "client@example.com"},
    "email": {"cn": "Alice Example", "email": "alice@example.com"},
    "encryption": {"cn": "Bob Example", "email": "bob@example.com"},
}

# CA/Browser Forum TLS Baseline Requirements findings a private PKI may accept.
ACCEPTED_SERVERAUTH = {
    "cabf.serverauth.certificate_validity_period_exceeds_200_days":
        "the BR cap (200 days since March 2026, shrinking to 47) binds publicly trusted CAs; "
        "the builtin TLS profiles keep 365 days, and a custom profile sets any validity",
    "cabf.serverauth.dv.common_name_attribute_present":
        "the CN is what operators and older clients look at; it is always repeated in the SAN",
    "cabf.serverauth.subscriber.subject_key_identifier_extension_present":
        "RFC 5280 asks for an SKI in every certificate (SHOULD); the BR only discourage it",
    "cabf.serverauth.subscriber.certificate_policies_extension_absent":
        "a private CA must not assert the CA/B Forum's reserved policy OIDs; a custom "
        "profile can add the organisation's own policies",
    "cabf.serverauth.subscriber_rsa_digitalsignature_and_keyencipherment_present":
        "keyEncipherment keeps RSA key transport (TLS 1.2) possible for legacy clients of a "
        "private PKI; the BR only discourage it",
}
# pkilint has no composite key algorithms (draft-ietf-lamps-pq-composite-sigs).
COMPOSITE_NOTICE = "pkix.public_key_algorithm_unsupported"


def run_linter(main, *args: str) -> list[tuple[str, str]]:
    """(severity, code) of every finding of NOTICE or worse."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["lint", "-f", "JSON", "-s", "NOTICE", *args])
    report = json.loads(out.getvalue())
    return [(finding["severity"], finding["code"])
            for result in report["results"] for finding in result["finding_descriptions"]]


def family_of(name: str) -> str:
    if name.startswith("hybrid/"):
        return name.rsplit("/", 1)[0]
    return "rsa" if name.startswith("rsa") else name.split("/")[0]


def leaf_vars(name: str) -> dict:
    role = name.rsplit("/", 1)[1]
    return {**ROLE_VARS.get(role, {"cn": f"{role} example"}), **URLS}


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict:
    """{profile name: certificate path} for every builtin profile, and
    {"crl:<family>" / "arl:<family>": CRL path} for the classical families."""
    work = tmp_path_factory.mktemp("pkilint")
    made: dict = {}
    families = sorted({family_of(name) for name in builtin.names()})
    for family in families:
        folder = work / family.replace("/", "-")
        root, issuing = folder / "root", folder / "issuing"
        ca_init(str(root), f"{family}/root-ca", {"cn": f"{family} Root", "o": "Example", "c": "FR"})
        ca_init(str(issuing), f"{family}/issuing-ca",
                {"cn": f"{family} Issuing", "o": "Example", "c": "FR", **URLS},
                parent_dir=str(root))
        made[f"{family}/root-ca"] = root / "ca.crt"
        made[f"{family}/issuing-ca"] = issuing / "ca.crt"
        made[f"ca:{family}"] = issuing
        made[f"root:{family}"] = root
    for name in builtin.names():
        if name in made:
            continue
        issuing = made[f"ca:{family_of(name)}"]
        result = credential_enroll(str(issuing), str(work / "creds"), name, leaf_vars(name),
                                   credential_id=name.replace("/", "-")).to_dict()
        made[name] = Path(result["cert_path"])
    for family in ("ec", "rsa"):
        issuing = made[f"ca:{family}"]
        serials = sorted(p.stem for p in (issuing / "certs").iterdir())
        for serial, reason in zip(serials, ("keyCompromise", "superseded",
                                            "cessationOfOperation", "unspecified"), strict=False):
            cert_revoke(str(issuing), serial, reason)
        crl_gen(str(issuing))
        crl_gen(str(made[f"root:{family}"]))
        made[f"crl:{family}"] = issuing / "crl" / "ca.crl"
        made[f"arl:{family}"] = made[f"root:{family}"] / "crl" / "ca.crl"
    return made


@pytest.mark.parametrize("name", builtin.names())
def test_pkix_lint_finds_nothing_to_fix(pki, name):
    findings = run_linter(lint_pkix_cert.main, str(pki[name]))
    serious = [f for f in findings if f[0] != "NOTICE"]
    assert not serious, (name, findings)
    expected = {COMPOSITE_NOTICE} if name.startswith("hybrid/composite/") else set()
    assert {code for dummy, code in findings} == expected, (name, findings)


@pytest.mark.parametrize("family", ["ec", "rsa"])
def test_crls_lint_clean(pki, family):
    assert run_linter(lint_crl.main, "-t", "CRL", "-p", "PKIX", str(pki[f"crl:{family}"])) == []
    assert run_linter(lint_crl.main, "-t", "CRL", "-p", "BR", str(pki[f"crl:{family}"])) == []
    assert run_linter(lint_crl.main, "-t", "ARL", "-p", "PKIX", str(pki[f"arl:{family}"])) == []


@pytest.mark.parametrize("name", ["ec/tls-server", "rsa/tls-server", "rsa-pss/tls-server"])
def test_tls_server_leaves_have_only_accepted_baseline_findings(pki, name):
    findings = run_linter(lint_cabf_serverauth_cert.main, "-t", "DV-FINAL-CERTIFICATE",
                          str(pki[name]))
    unexpected = [f for f in findings if f[1] not in ACCEPTED_SERVERAUTH]
    assert not unexpected, (name, findings)
