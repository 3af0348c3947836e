"""The declarative ("ensure") operations behind the Ansible modules.

Software keys only (fast); the HSM paths run in tests/ansible/run.sh against
SoftHSM2. Each test checks what is decided *and* that nothing was signed or
written when nothing had to change.
"""

import datetime
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from qpki.errors import HsmError, InputError, StoreError
from qpki.ops.ca.keys import KeyRequest
from qpki.ops.ca.state import ca_ensure, ca_install, ca_request
from qpki.ops.cert.state import CertRequest, cert_ensure
from qpki.ops.credential.state import credential_ensure
from qpki.ops.crl.state import crl_ensure
from qpki.ops.keys.commands import csr_gen
from qpki.ops.ensure import parse_renew_before

from ensure_support import file_contents, two_tier_pki


@pytest.fixture()
def pki(tmp_path):
    """A root CA and an issuing CA (software keys) in tmp_path."""
    return two_tier_pki(tmp_path)


def _csr(tmp_path, name, dns=None):
    out = str(tmp_path / (name + ".csr"))
    csr_gen(out, name, algorithm="ecdsa-p256", key_out=str(tmp_path / (name + ".key")),
            dns_names=dns or [name])
    with open(out, "rb") as handle:
        return handle.read()


def test_renew_before_parsing():
    assert parse_renew_before("30d") == datetime.timedelta(days=30)
    assert parse_renew_before(7) == datetime.timedelta(days=7)
    assert parse_renew_before("12") == datetime.timedelta(days=12)
    assert parse_renew_before("0") == datetime.timedelta(0)
    assert parse_renew_before(None) is None
    with pytest.raises(InputError, match="renew_before"):
        parse_renew_before("soon")


def test_ca_ensure_is_idempotent_and_refuses_differences(pki):
    tmp_path, root, _issuing = pki
    before = file_contents(root)
    again = ca_ensure(root, "ec/root-ca", {"cn": "Root"}).to_dict()
    assert again["changed"] is False and again["state"] == "complete"
    assert file_contents(root) == before
    with pytest.raises(InputError) as failure:
        ca_ensure(root, "rsa/root-ca", {"cn": "Other"})
    message = str(failure.value)
    assert "profile is ec/root-ca (requested rsa/root-ca)" in message
    assert "subject is CN=Root (requested CN=Other)" in message
    assert "never changed or re-keyed" in message
    with pytest.raises(InputError, match="key storage is software"):
        ca_ensure(root, "ec/root-ca", {"cn": "Root"},
                  key=KeyRequest(hsm_config=str(tmp_path / "hsm.yaml"), key_label="k"))
    assert file_contents(root) == before


def test_ca_ensure_check_mode_writes_nothing(tmp_path):
    result = ca_ensure(str(tmp_path / "new"), "ec/root-ca", {"cn": "New"}, check_mode=True).to_dict()
    assert result["changed"] is True and result["subject"] == "CN=New"
    assert not (tmp_path / "new").exists()


def test_pqc_profile_in_hsm_mode_is_refused_before_anything(tmp_path):
    with pytest.raises(HsmError, match=r"^profile ml/root-ca uses ml-dsa-87, which is not "
                                       r"available in HSM mode \(HSM keys are classical only"):
        ca_ensure(str(tmp_path / "pqc"), "ml/root-ca", {"cn": "PQC"},
                  key=KeyRequest(hsm_config=str(tmp_path / "hsm.yaml"), key_label="k"),
                  check_mode=True)
    assert not (tmp_path / "pqc").exists()


def test_cert_ensure_issues_once(pki):
    tmp_path, _root, issuing = pki
    csr = _csr(tmp_path, "www.example.com")
    path = str(tmp_path / "www.crt")
    first = cert_ensure(issuing, [CertRequest("ec/tls-server", csr, path)])
    assert first.changed and first.signed == 1
    assert first.results[0].reasons == ["no certificate at %s" % path]
    state = file_contents(issuing)
    second = cert_ensure(issuing, [CertRequest("ec/tls-server", csr, path)])
    assert not second.changed and second.signed == 0
    assert file_contents(issuing) == state  # nothing signed, indexed or written
    assert second.results[0].serial == first.results[0].serial


@pytest.mark.parametrize("change, reason", [
    (dict(values={"cn": "www.example.com", "dns_names": ["www.example.com", "alt.example.com"]}),
     "subjectAltName differs"),
    (dict(profile="ec/tls-client"), "extensions differ from the profile"),
    (dict(renew_before="400d"), "within renew_before"),
    (dict(force=True), "force: true"),
])
def test_cert_ensure_reissues_when_something_changed(pki, change, reason):
    tmp_path, _root, issuing = pki
    csr = _csr(tmp_path, "www.example.com")
    path = str(tmp_path / "www.crt")
    cert_ensure(issuing, [CertRequest("ec/tls-server", csr, path)])
    state = file_contents(issuing)
    request = CertRequest(change.get("profile", "ec/tls-server"), csr, path,
                          change.get("values"))
    predicted = cert_ensure(issuing, [request], renew_before=change.get("renew_before", "30d"),
                            force=change.get("force", False), check_mode=True)
    assert predicted.changed and predicted.signed == 0
    assert any(reason in r for r in predicted.results[0].reasons)
    assert file_contents(issuing) == state  # check mode
    done = cert_ensure(issuing, [request], renew_before=change.get("renew_before", "30d"),
                       force=change.get("force", False))
    assert done.signed == 1


def test_cert_ensure_new_key_and_other_ca(pki):
    tmp_path, root, issuing = pki
    path = str(tmp_path / "www.crt")
    cert_ensure(issuing, [CertRequest("ec/tls-server", _csr(tmp_path, "www.example.com"), path)])
    (tmp_path / "k2").mkdir()
    fresh = _csr(tmp_path / "k2", "www.example.com")
    result = cert_ensure(issuing, [CertRequest("ec/tls-server", fresh, path)], check_mode=True)
    assert "public key differs from the CSR's" in result.results[0].reasons
    other = cert_ensure(root, [CertRequest("ec/tls-server", fresh, path)], check_mode=True)
    assert any("not issued by CA CN=Root" in r for r in other.results[0].reasons)


def test_cert_ensure_sees_a_new_slh_dsa_key_of_the_same_set(pki):
    """SLH-DSA keys are compared as objects (cryptography cannot encode
    them): a second key of the same parameter set is another key."""
    tmp_path, _root, issuing = pki
    path = str(tmp_path / "slh.crt")

    def slh_csr(folder):
        (tmp_path / folder).mkdir()
        out = tmp_path / folder / "slh.csr"
        csr_gen(str(out), "slh.example.com", algorithm="slh-dsa-sha2-128f",
                key_out=str(tmp_path / folder / "slh.key"), dns_names=["slh.example.com"])
        return out.read_bytes()

    first = slh_csr("k1")
    cert_ensure(issuing, [CertRequest("slh/tls-server", first, path)])
    again = cert_ensure(issuing, [CertRequest("slh/tls-server", first, path)], check_mode=True)
    assert again.changed is False
    fresh = cert_ensure(issuing, [CertRequest("slh/tls-server", slh_csr("k2"), path)],
                        check_mode=True)
    assert "public key differs from the CSR's" in fresh.results[0].reasons


def test_cert_ensure_batch_signs_only_what_is_missing(pki):
    tmp_path, _root, issuing = pki
    requests = [CertRequest("ec/tls-server", _csr(tmp_path, name), str(tmp_path / (name + ".crt")))
                for name in ("a.example", "b.example", "c.example")]
    assert cert_ensure(issuing, requests[:1]).signed == 1
    batch = cert_ensure(issuing, requests)
    assert batch.signed == 2
    assert [r.changed for r in batch.results] == [False, True, True]
    with pytest.raises(InputError, match="same path"):
        cert_ensure(issuing, [requests[0], requests[0]])


def test_cert_ensure_bad_output_path_fails_before_signing(pki):
    """A path in a missing directory, or a directory, anywhere in a batch:
    nothing is signed, recorded or written (found by tests/ansible/bad_input.yml)."""
    tmp_path, _root, issuing = pki
    csr = _csr(tmp_path, "a.example")
    state = file_contents(issuing)
    missing = str(tmp_path / "nodir" / "x.crt")
    for bad, error, message in (
            (missing, StoreError,
             f"^cannot write {missing}: directory {tmp_path / 'nodir'} does not exist$"),
            (str(tmp_path), InputError, f"^{tmp_path} is a directory, not a file$")):
        requests = [CertRequest("ec/tls-server", csr, str(tmp_path / "first.crt")),
                    CertRequest("ec/tls-server", csr, bad)]
        with pytest.raises(error, match=message):
            cert_ensure(issuing, requests)
        assert file_contents(issuing) == state
        assert not os.path.exists(tmp_path / "first.crt")


def test_crl_ensure_bounds_hostile_serials(pki):
    _tmp_path, _root, issuing = pki
    for serial, problem in (("A" * 10000, "longer than 20 octets"),
                            ("g" * 10000, "not a hexadecimal number")):
        with pytest.raises(InputError, match=problem) as caught:
            crl_ensure(issuing, revocations=[{"serial": serial}])
        assert len(str(caught.value)) < 200


def test_revoked_certificate_is_not_certified_again_for_the_same_key(pki):
    tmp_path, _root, issuing = pki
    csr = _csr(tmp_path, "www.example.com")
    path = str(tmp_path / "www.crt")
    issued = cert_ensure(issuing, [CertRequest("ec/tls-server", csr, path)])
    serial = issued.results[0].serial
    revoked = crl_ensure(issuing, revocations=[{"serial": serial, "reason": "keyCompromise"}]).to_dict()
    assert revoked["revoked"] == [serial] and revoked["revoked_count"] == 1
    with pytest.raises(InputError, match="is revoked and the CSR is for the same key"):
        cert_ensure(issuing, [CertRequest("ec/tls-server", csr, path)])
    forced = cert_ensure(issuing, [CertRequest("ec/tls-server", csr, path)], force=True)
    assert forced.signed == 1


def test_crl_ensure_generates_only_when_needed(pki):
    tmp_path, _root, issuing = pki
    first = crl_ensure(issuing, days=7, renew_before="1d").to_dict()
    assert first["changed"] and first["crl_number"] == 1
    state = file_contents(issuing)
    assert crl_ensure(issuing, days=7, renew_before="1d").to_dict()["changed"] is False
    assert file_contents(issuing) == state
    soon = crl_ensure(issuing, days=7, renew_before="1d",
                      now=datetime.datetime.now(datetime.timezone.utc)
                      + datetime.timedelta(days=6, hours=12), check_mode=True).to_dict()
    assert soon["changed"] and any("nextUpdate" in r for r in soon["reasons"])
    assert file_contents(issuing) == state
    with pytest.raises(InputError, match="must be shorter than the CRL lifetime"):
        crl_ensure(issuing, days=1, renew_before="1d")
    with pytest.raises(InputError, match="not in"):
        crl_ensure(issuing, revocations=[{"serial": "0x1234"}])


def test_credential_ensure(pki):
    tmp_path, _root, issuing = pki
    creds = str(tmp_path / "creds")
    values = {"cn": "www.example.com", "dns_names": ["www.example.com"]}
    made = credential_ensure(issuing, creds, "ec/tls-server", values, credential_id="www").to_dict()
    assert made["changed"] and made["id"] == "www"
    state = file_contents(creds)
    again = credential_ensure(issuing, creds, "ec/tls-server", values, credential_id="www").to_dict()
    assert again["changed"] is False and file_contents(creds) == state
    with pytest.raises(InputError, match="never rewritten"):
        credential_ensure(issuing, creds, "ec/tls-server",
                          dict(values, dns_names=["www.example.com", "x.example.com"]),
                          credential_id="www")
    # Without an id: looked up by profile + CN; a change enrolls a new credential.
    assert credential_ensure(issuing, creds, "ec/tls-server", values).to_dict()["changed"] is False
    newer = credential_ensure(issuing, creds, "ec/tls-server",
                              dict(values, dns_names=["www.example.com", "x.example.com"])).to_dict()
    assert newer["changed"] and newer["id"] != "www"


def test_subordinate_ca_through_a_csr(pki):
    tmp_path, root, _issuing = pki
    remote = str(tmp_path / "remote")
    request = ca_request(remote, "ec/issuing-ca", {"cn": "Remote"},
                         csr_out=str(tmp_path / "remote.csr")).to_dict()
    assert request["changed"] and request["state"] == "pending"
    assert ca_request(remote, "ec/issuing-ca", {"cn": "Remote"},
                      csr_out=str(tmp_path / "remote.csr")).to_dict()["changed"] is False
    with pytest.raises(StoreError, match="not a CA directory"):
        cert_ensure(remote, [CertRequest("ec/tls-server", _csr(tmp_path, "x"), None)])
    signed = cert_ensure(root, [CertRequest("ec/issuing-ca", request["csr"],
                                            str(tmp_path / "remote.crt"), {"cn": "Remote"})])
    result = signed.results[0]
    installed = ca_install(remote, result.certificate, result.chain).to_dict()
    assert installed["changed"] and installed["state"] == "complete"
    assert installed["issuer"] == "CN=Root"
    again = ca_install(remote, result.certificate, result.chain).to_dict()
    assert again["changed"] is False
    # The completed CA issues, and its chain verifies.
    leaf = cert_ensure(remote, [CertRequest("ec/tls-server", _csr(tmp_path, "leaf.example"),
                                            str(tmp_path / "leaf.crt"))])
    assert leaf.signed == 1
    cert = x509.load_pem_x509_certificate(leaf.results[0].certificate.encode())
    chain = x509.load_pem_x509_certificates(leaf.results[0].chain.encode())
    cert.verify_directly_issued_by(chain[0])
    chain[0].verify_directly_issued_by(chain[1])
    # A certificate for another key is refused.
    cert_ensure(root, [CertRequest("ec/issuing-ca", _csr(tmp_path, "intruder"),
                                   str(tmp_path / "intruder.crt"), {"cn": "Remote"})])
    foreign = x509.load_pem_x509_certificate((tmp_path / "intruder.crt").read_bytes())
    with pytest.raises(InputError, match="another key or subject"):
        ca_install(remote, foreign.public_bytes(serialization.Encoding.PEM), result.chain)
