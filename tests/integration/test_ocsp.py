"""The OCSP responder (qpki ocsp sign / serve), checked with clients we did
not write: openssl ocsp against the running server, curl for the CRL, and
independent signature checks (dilithium-py, slh-dsa, the draft-13
composite construction) for post-quantum responses."""

import base64
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
import slhdsa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from hybrid_reference import ML_DSA, SLH_DSA, COMPOSITE_EC, composite_components_ok


def make_csr(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    return x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])).sign(
            key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def openssl(*args, cwd):
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def issue(qpki_cli, work, ca, name):
    (work / f"{name}.csr").write_bytes(make_csr(f"{name}.example.com"))
    qpki_cli("cert", "issue", "--ca-dir", ca, "--profile", "ec/tls-server", "--csr", f"{name}.csr",
             "--var", f"cn={name}.example.com", "--out", f"{name}.crt", check=True)
    return f"{name}.crt"


class Server:
    """``qpki ocsp serve`` in a subprocess, stopped by SIGTERM at the end."""

    def __init__(self, work, *args, port=None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(work / f"server-{self.port}.log", "w")
        self.proc = subprocess.Popen(
            [os.path.join(os.path.dirname(os.sys.executable), "qpki"), "ocsp", "serve",
             "--listen", f"127.0.0.1:{self.port}", *args], cwd=work, stdout=self.log,
            stderr=subprocess.STDOUT)
        # The socket listens before the server has given up root (--user), so
        # the line it prints once it answers as itself is the signal to wait for.
        log_path = work / f"server-{self.port}.log"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, log_path.read_text()
            if "qpki ocsp: answering for" in log_path.read_text():
                socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
                return
            time.sleep(0.1)
        raise AssertionError("the OCSP server did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def served(tmp_path, qpki_cli, request):
    family = getattr(request, "param", "ec")
    qpki_cli("ca", "init", "--profile", f"{family}/root-ca", "--var", "cn=OCSP Root",
             "--ca-dir", "root", check=True)
    made = qpki_cli("credential", "enroll", "--ca-dir", "root", "--cred-dir", "responders",
                    "--profile", f"{family}/ocsp-responder", "--var", "cn=OCSP Responder",
                    "--json", check=True).json()
    server = Server(tmp_path, "--ca-dir", "root", "--responder", f"responders/{made['id']}")
    yield tmp_path, server
    server.stop()


def ask(work, server, cert, *extra):
    return openssl("ocsp", "-url", server.url, "-issuer", "root/ca.crt", "-CAfile", "root/ca.crt",
                   "-cert", cert, *extra, cwd=work)


@pytest.mark.parametrize("served", ["ec", "rsa"], indirect=True)
def test_openssl_sees_good_then_revoked_at_once_and_unknown(served, qpki_cli):
    work, server = served
    leaf = issue(qpki_cli, work, "root", "leaf")
    good = ask(work, server, leaf)
    assert good.returncode == 0 and "Response verify OK" in good.stderr, good.stderr
    assert f"{leaf}: good" in good.stdout
    assert "WARNING: no nonce" not in good.stderr + good.stdout  # nonce echoed
    qpki_cli("cert", "revoke", "--cert", leaf, "--ca-dir", "root", "--reason", "keyCompromise",
             check=True)
    revoked = ask(work, server, leaf)
    assert "Response verify OK" in revoked.stderr
    assert f"{leaf}: revoked" in revoked.stdout and "Reason: keyCompromise" in revoked.stdout
    unknown = openssl("ocsp", "-url", server.url, "-issuer", "root/ca.crt", "-CAfile",
                      "root/ca.crt", "-serial", "0x1234567890", cwd=work)
    assert "Response verify OK" in unknown.stderr and ": unknown" in unknown.stdout


def test_other_ca_is_unauthorized_and_bad_requests_do_not_stop_the_server(served, qpki_cli):
    work, server = served
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Other", "--ca-dir", "other",
             check=True)
    other = openssl("ocsp", "-url", server.url, "-issuer", "other/ca.crt", "-serial", "0x10",
                    cwd=work)
    assert "unauthorized" in (other.stdout + other.stderr).lower()

    def post(body, kind="application/ocsp-request", method="POST"):
        req = urllib.request.Request(server.url + "/", data=body, method=method,
                                     headers={"Content-Type": kind})
        try:
            with urllib.request.urlopen(req, timeout=10) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    status, body = post(b"\x30\x03\x02\x01\x01")
    assert status == 200
    assert ocsp.load_der_ocsp_response(body).response_status == \
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    assert post(os.urandom(70 * 1024))[0] in (400, 413)
    assert post(b"x", kind="text/plain")[0] == 400
    assert post(b"x", method="PUT")[0] == 405
    with pytest.raises(urllib.error.HTTPError) as bad_get:
        urllib.request.urlopen(server.url + "/not*base64", timeout=10)
    assert bad_get.value.code == 400
    leaf = issue(qpki_cli, work, "root", "after")
    assert f"{leaf}: good" in ask(work, server, leaf).stdout  # still answering


def test_get_form_and_a_bounded_load(served, qpki_cli):
    work, server = served
    leaf = x509.load_pem_x509_certificate((work / issue(qpki_cli, work, "root", "load")).read_bytes())
    issuer = x509.load_pem_x509_certificate((work / "root/ca.crt").read_bytes())
    der = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1()).build() \
        .public_bytes(serialization.Encoding.DER)
    url = server.url + "/" + urllib.request.quote(base64.b64encode(der).decode(), safe="")
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.headers["Content-Type"] == "application/ocsp-response"
        assert ocsp.load_der_ocsp_response(answer.read()).certificate_status == \
            ocsp.OCSPCertStatus.GOOD
    failures, done = [], []

    def client():
        for dummy in range(25):
            try:
                with urllib.request.urlopen(url, timeout=20) as answer:
                    response = ocsp.load_der_ocsp_response(answer.read())
                    done.append(response.certificate_status == ocsp.OCSPCertStatus.GOOD)
            except Exception as exc:  # noqa: BLE001 - counted, then asserted
                failures.append(repr(exc))

    threads = [threading.Thread(target=client) for dummy in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures and len(done) == 200 and all(done)
    assert server.proc.poll() is None


def test_curl_fetches_the_crl_it_serves(served, qpki_cli):
    work, server = served
    qpki_cli("crl", "gen", "--ca-dir", "root", check=True)
    fetched = subprocess.run(["curl", "-sf", server.url + "/crl/ca.crl.der"], capture_output=True,
                             check=False)
    assert fetched.returncode == 0 and fetched.stdout == (work / "root/crl/ca.crl.der").read_bytes()
    missing = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                              server.url + "/crl/../ca.meta.json"], capture_output=True,
                             text=True, check=False)
    assert missing.stdout in ("400", "404")


def independent_ok(response_der, signer_cert_der):
    """The response signature by code we did not write, per algorithm."""
    response = ocsp.load_der_ocsp_response(response_der)
    oid = response.signature_algorithm_oid.dotted_string
    message, signature = response.tbs_response_bytes, response.signature
    spki = x509.load_der_x509_certificate(signer_cert_der).public_key_algorithm_oid
    from pyasn1.codec.der import decoder
    from pyasn1_modules import rfc5280

    tbs = decoder.decode(signer_cert_der, asn1Spec=rfc5280.Certificate())[0]["tbsCertificate"]
    key = tbs["subjectPublicKeyInfo"]["subjectPublicKey"].asOctets()
    assert spki.dotted_string == oid
    if oid in ML_DSA:
        return ML_DSA[oid].verify(key, message, signature)
    if oid in SLH_DSA:
        return slhdsa.PublicKey.from_digest(key, SLH_DSA[oid]).verify_pure(message, signature)
    if oid in COMPOSITE_EC:
        return all(composite_components_ok(oid, key, signature, message))
    raise AssertionError(oid)


@pytest.mark.parametrize("family", ["ml", "slh", "hybrid/composite"])
def test_post_quantum_ca_signs_responses_checked_independently(tmp_path, qpki_cli, family):
    qpki_cli("ca", "init", "--profile", f"{family}/root-ca", "--var", "cn=PQ OCSP Root",
             "--ca-dir", "root", check=True)
    leaf = x509.load_pem_x509_certificate((tmp_path / issue(qpki_cli, tmp_path, "root", "pq"))
                                          .read_bytes())
    issuer = x509.load_pem_x509_certificate((tmp_path / "root/ca.crt").read_bytes())
    der = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA256()).add_extension(
        x509.OCSPNonce(b"0123456789abcdef"), critical=False).build().public_bytes(
            serialization.Encoding.DER)
    (tmp_path / "req.der").write_bytes(der)
    result = qpki_cli("ocsp", "sign", "--ca-dir", "root", "--request", "req.der", "--out",
                      "resp.der", "--json", check=True).json()
    assert result["cert_status"] == "good"
    response_der = (tmp_path / "resp.der").read_bytes()
    response = ocsp.load_der_ocsp_response(response_der)
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == \
        b"0123456789abcdef"
    assert independent_ok(response_der, issuer.public_bytes(serialization.Encoding.DER))
    tampered = bytearray(response_der)
    tampered[-5] ^= 1
    assert not independent_ok(bytes(tampered), issuer.public_bytes(serialization.Encoding.DER))


SLH_RESPONDER = """\
name: custom/slh-ocsp-responder
algorithm: slh-dsa-sha2-128s
validity: 30d
variables:
  cn: {type: string, required: true}
subject:
  cn: "{{ cn }}"
extensions:
  basicConstraints: {ca: false, critical: true}
  keyUsage: {usages: [digitalSignature], critical: true}
  extKeyUsage: {usages: [OCSPSigning]}
  ocspNoCheck: {}
"""


def delegated_answer(work, qpki_cli, responder_id, leaf_name):
    """The DER response of responder ``responders/<id>`` to a request about
    a new leaf of the CA in ``root``."""
    leaf = x509.load_pem_x509_certificate((work / issue(qpki_cli, work, "root", leaf_name))
                                          .read_bytes())
    issuer = x509.load_pem_x509_certificate((work / "root/ca.crt").read_bytes())
    (work / "req.der").write_bytes(ocsp.OCSPRequestBuilder().add_certificate(
        leaf, issuer, hashes.SHA256()).build().public_bytes(serialization.Encoding.DER))
    qpki_cli("ocsp", "sign", "--ca-dir", "root", "--request", "req.der", "--out", "resp.der",
             "--responder", f"responders/{responder_id}", check=True)
    return (work / "resp.der").read_bytes()


def test_delegated_slh_dsa_responder_is_named_and_included(tmp_path, qpki_cli):
    """A responder key cryptography cannot read: named by its subject, its
    real certificate in the response, the signature checked by slh-dsa."""
    qpki_cli("ca", "init", "--profile", "slh/root-ca", "--var", "cn=SLH OCSP Root",
             "--ca-dir", "root", check=True)
    (tmp_path / "responder.yaml").write_text(SLH_RESPONDER)
    made = qpki_cli("credential", "enroll", "--ca-dir", "root", "--cred-dir", "responders",
                    "--profile", "responder.yaml", "--var", "cn=SLH Responder", "--json",
                    check=True).json()
    response_der = delegated_answer(tmp_path, qpki_cli, made["id"], "s")
    response = ocsp.load_der_ocsp_response(response_der)
    responder_der = (tmp_path / made["cert_path"]).read_bytes()
    responder = x509.load_pem_x509_certificate(responder_der)
    assert response.responder_name == responder.subject
    assert [c.public_bytes(serialization.Encoding.DER) for c in response.certificates] == \
        [responder.public_bytes(serialization.Encoding.DER)]
    assert independent_ok(response_der, responder.public_bytes(serialization.Encoding.DER))


def test_pyhanko_hard_fail_uses_only_the_urls_in_the_certificates(tmp_path, qpki_cli):
    """pyhanko-certvalidator, hard-fail: it must find revocation information
    for every certificate of the path through the URLs those certificates
    carry (the CA-level URLs), and it accepts a good leaf and rejects a
    revoked one."""
    import asyncio

    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import RevokedError

    root_port, issuing_port = free_port(), free_port()
    root_url, issuing_url = f"http://127.0.0.1:{root_port}", f"http://127.0.0.1:{issuing_port}"
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Hard Root", "--ca-dir", "root",
             "--crl-url", f"{root_url}/crl/ca.crl.der", check=True)
    qpki_cli("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Hard Issuing",
             "--ca-dir", "issuing", "--parent", "root", "--crl-url",
             f"{issuing_url}/crl/ca.crl.der", "--ocsp-url", issuing_url, check=True)
    made = qpki_cli("credential", "enroll", "--ca-dir", "issuing", "--cred-dir", "responders",
                    "--profile", "ec/ocsp-responder", "--var", "cn=Hard Responder", "--json",
                    check=True).json()
    for ca in ("root", "issuing"):
        qpki_cli("crl", "gen", "--ca-dir", ca, check=True)
    good, revoked = (issue_from(qpki_cli, tmp_path, "issuing", name) for name in ("good", "bad"))
    qpki_cli("cert", "revoke", "--cert", revoked, "--ca-dir", "issuing", "--reason",
             "keyCompromise", check=True)
    servers = []
    try:
        for ca, port, extra in (("root", root_port, []),
                                ("issuing", issuing_port,
                                 ["--responder", f"responders/{made['id']}"])):
            servers.append(Server(tmp_path, "--ca-dir", ca, *extra, port=port))

        def load(path):
            return asn1_x509.Certificate.load(
                x509.load_pem_x509_certificate((tmp_path / path).read_bytes()).public_bytes(
                    serialization.Encoding.DER))

        def validate(leaf):
            context = ValidationContext(trust_roots=[load("root/ca.crt")], allow_fetching=True,
                                        revocation_mode="hard-fail")
            validator = CertificateValidator(load(leaf), intermediate_certs=[load("issuing/ca.crt")],
                                             validation_context=context)
            return asyncio.run(validator.async_validate_usage({"digital_signature"}))

        assert validate(good) is not None
        with pytest.raises(RevokedError):
            validate(revoked)
    finally:
        for server in servers:
            server.stop()


def issue_from(qpki_cli, work, ca, name):
    (work / f"{name}.csr").write_bytes(make_csr(f"{name}.example.com"))
    qpki_cli("cert", "issue", "--ca-dir", ca, "--profile", "ec/tls-server", "--csr", f"{name}.csr",
             "--var", f"cn={name}.example.com", "--var", f"dns_names={name}.example.com",
             "--out", f"{name}.crt", check=True)
    return f"{name}.crt"


@pytest.mark.parametrize("family", ["ml", "hybrid/composite"])
def test_builtin_post_quantum_responders(tmp_path, qpki_cli, family):
    """The builtin ml/ and hybrid/composite/ocsp-responder profiles make
    delegated responders whose responses independent code accepts."""
    qpki_cli("ca", "init", "--profile", f"{family}/root-ca", "--var", "cn=PQ Root",
             "--ca-dir", "root", check=True)
    made = qpki_cli("credential", "enroll", "--ca-dir", "root", "--cred-dir", "responders",
                    "--profile", f"{family}/ocsp-responder", "--var", "cn=PQ Responder",
                    "--json", check=True).json()
    responder = x509.load_pem_x509_certificate((tmp_path / made["cert_path"]).read_bytes())
    assert responder.extensions.get_extension_for_class(x509.OCSPNoCheck)
    response_der = delegated_answer(tmp_path, qpki_cli, made["id"], "q")
    assert ocsp.load_der_ocsp_response(response_der).certificate_status == ocsp.OCSPCertStatus.GOOD
    assert independent_ok(response_der, responder.public_bytes(serialization.Encoding.DER))
