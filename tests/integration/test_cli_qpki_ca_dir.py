"""A CA directory that QPKI made, read through the qpki command line:
``ca info`` shows its versioned metadata and active version, ``cert verify``
checks its certificates and credentials against it (read only)."""

import json
import shutil
import subprocess

import pytest

from qpki_vectors import QPKI


AT = "2026-02-16T12:00:00Z"  # inside the CRL window (2026-02-14 .. 2026-02-21)


@pytest.fixture
def qpki_ca(tmp_path):
    """A copy of QPKI's ECDSA CA directory (with its credentials)."""
    shutil.copytree(QPKI / "ca-dirs/ecdsa", tmp_path / "qpki")
    return tmp_path / "qpki"


def issued_certificates(root):
    return sorted((root / "ca/certs").glob("*.crt")) + sorted(
        (root / "credentials").glob("*/versions/v1/certs/*.pem"))


def test_ca_info_shows_the_active_version(qpki_ca, qpki_cli, tree_snapshot):
    before = tree_snapshot(qpki_ca)
    text = qpki_cli("ca", "info", "--ca-dir", qpki_ca / "ca", check=True).stdout
    assert "subject: CN=Test ECDSA CA,O=ACME Corp,C=US" in text
    assert "metadata shape: versioned" in text and "active version: v1" in text
    info = qpki_cli("ca", "info", "--ca-dir", qpki_ca / "ca", "--json", check=True).json()
    [version] = info["versions"]
    assert (version["id"], version["status"], version["algorithms"]) == (
        "v1", "active", ["ecdsa-p384"])
    assert version["certificates"] == [str(qpki_ca / "ca/versions/v1/certs/ca.ecdsa-p384.pem")]
    assert info["keys"] == [{"id": "default", "algorithm": "ecdsa-p384", "storage": {
        "type": "software", "path": "versions/v1/keys/ca.ecdsa-p384.key"}}]
    assert tree_snapshot(qpki_ca) == before


def test_ca_info_on_our_own_ca_reads_one_version(qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Flat Root", "--ca-dir",
             "root", check=True)
    info = qpki_cli("ca", "info", "--ca-dir", "root", "--json", check=True).json()
    assert (info["metadata_shape"], info["active_version"]) == ("flat", "v1")
    assert info["versions"][0]["profiles"] == ["ec/root-ca"]
    assert info["versions"][0]["certificates"] == ["root/ca.crt"] == [info["cert_path"]]


def test_cert_verify_accepts_every_certificate_of_the_qpki_ca(qpki_ca, qpki_cli):
    certs = issued_certificates(qpki_ca)
    assert len(certs) == 9  # 5 in certs/, 4 credentials
    for cert in certs:
        ours = qpki_cli("cert", "verify", cert, "--ca", qpki_ca / "ca/ca.crt", "--crl",
                        qpki_ca / "ca/crl/ca.crl.der", "--at", AT, "--strict", "--json")
        assert ours.returncode == 0 and ours.json()["valid"], ours
        theirs = subprocess.run(
            ["openssl", "verify", "-attime", "1771243200", "-crl_check", "-CAfile",
             str(qpki_ca / "ca/ca.crt"), "-CRLfile", str(qpki_ca / "ca/crl/ca.crl"), str(cert)],
            capture_output=True, text=True, check=False)
        assert theirs.returncode == 0, theirs


def test_crl_gen_without_the_key_fails_clearly_and_writes_nothing(qpki_ca, qpki_cli,
                                                                  tree_snapshot):
    before = tree_snapshot(qpki_ca, exclude=["*/.lock"])
    done = qpki_cli("crl", "gen", "--ca-dir", qpki_ca / "ca")
    assert done.returncode == 1
    assert done.stderr == ("qpki: error: private key file not found: "
                           f"{qpki_ca / 'ca/versions/v1/keys/ca.ecdsa-p384.key'}\n")
    assert tree_snapshot(qpki_ca, exclude=["*/.lock"]) == before


def test_cert_list_reads_the_qpki_ca_as_it_is(qpki_ca, qpki_cli, tree_snapshot):
    """QPKI's CA directory has no CA database: cert list and cert info by
    serial answer from its index.txt and change nothing."""
    before = tree_snapshot(qpki_ca)
    listed = qpki_cli("cert", "list", "--ca-dir", qpki_ca / "ca", "--json", check=True).json()
    files = sorted(path.stem for path in (qpki_ca / "ca/certs").glob("*.crt"))
    assert sorted(c["serial"] for c in listed["certificates"]) == files
    for cert in listed["certificates"]:
        path = qpki_ca / f"ca/certs/{cert['serial']}.crt"
        text = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-serial",
                               "-subject", "-nameopt", "RFC2253", "-checkend", "0"],
                              capture_output=True, text=True, check=False).stdout
        assert f"serial={cert['serial']}" in text and cert["subject"] in text
        assert cert["status"] == ("valid" if "will not expire" in text else "expired")
    info = qpki_cli("cert", "info", files[0], "--ca-dir", qpki_ca / "ca", "--json",
                    check=True).json()
    assert info["serial"].lstrip("0") == files[0].lstrip("0")
    assert info["status"] == listed["certificates"][0]["status"]
    assert tree_snapshot(qpki_ca) == before and not (qpki_ca / "ca/ca.db").exists()


def _pair_with_a_key_we_make(ca_dir):
    """Give the copy of QPKI's CA a key: a P-384 key and a CA certificate
    for it with the same subject, where QPKI keeps them (versions/v1/)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    theirs = x509.load_pem_x509_certificate((ca_dir / "ca.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP384R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(theirs.subject).issuer_name(theirs.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA384()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (ca_dir / "ca.crt").write_bytes(pem)
    (ca_dir / "versions/v1/certs/ca.ecdsa-p384.pem").write_bytes(pem)
    (ca_dir / "versions/v1/keys").mkdir(mode=0o700)
    key_path = ca_dir / "versions/v1/keys/ca.ecdsa-p384.key"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)


def test_crl_gen_signs_for_a_qpki_ca_dir_given_its_key(qpki_ca, qpki_cli):
    """QPKI writes no audit log, and qpki signs nothing without one: the log
    is started once (audit start), then crl gen, issuance and revocation
    work on QPKI's layout, and openssl checks the CRL."""
    ca = qpki_ca / "ca"
    _pair_with_a_key_we_make(ca)
    refused = qpki_cli("crl", "gen", "--ca-dir", ca)
    assert refused.returncode == 1 and "no audit log" in refused.stderr
    started = qpki_cli("audit", "start", "--ca-dir", ca, "--json", check=True).json()
    assert started["recovered"] == 6  # 5 certificates and QPKI's CRL number 1
    # Line 1 records the CA certificate in place and says that the log
    # began after the CA had signed (what came before is only recovered).
    from cryptography import x509

    records = [json.loads(line) for line in (ca / "audit.log").read_text().splitlines()]
    cert = x509.load_pem_x509_certificate((ca / "ca.crt").read_bytes())
    assert [r["op"] for r in records] == ["ca.init"] + ["audit.recover"] * 6
    assert int(records[0]["serial"], 16) == cert.serial_number
    assert "qpki audit start" in records[0]["note"]
    again = qpki_cli("audit", "start", "--ca-dir", ca)
    assert again.returncode == 1 and "started only once" in again.stderr

    made = qpki_cli("credential", "enroll", "--ca-dir", ca, "--cred-dir", "creds",
                    "--profile", "ec/tls-server", "--var", "cn=new.example.com", "--json",
                    check=True).json()
    kept = qpki_cli("credential", "enroll", "--ca-dir", ca, "--cred-dir", "creds",
                    "--profile", "ec/tls-server", "--var", "cn=kept.example.com", "--json",
                    check=True).json()
    qpki_cli("cert", "revoke", "--cert", made["cert_path"], "--ca-dir", ca,
             "--reason", "keyCompromise", check=True)
    qpki_cli("cert", "revoke", "04", "--ca-dir", ca, "--reason", "superseded", check=True)
    qpki_cli("crl", "gen", "--ca-dir", ca, check=True)

    def openssl(*args):
        return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True,
                              check=False)

    crl = openssl("crl", "-in", ca / "crl/ca.crl", "-CAfile", ca / "ca.crt", "-noout", "-text")
    assert crl.returncode == 0 and "verify OK" in crl.stderr + crl.stdout, crl
    listed = [e.split()[0] for e in crl.stdout.split("Serial Number: ")[1:]]
    assert sorted(listed) == sorted([made["serial"], "04"])
    assert "CRL Number: \n                2" in crl.stdout
    check = ("verify", "-crl_check", "-CAfile", ca / "ca.crt", "-CRLfile", ca / "crl/ca.crl")
    revoked = openssl(*check, qpki_ca.parent / made["cert_path"])
    assert revoked.returncode != 0 and "certificate revoked" in revoked.stdout + revoked.stderr
    assert openssl(*check, qpki_ca.parent / kept["cert_path"]).returncode == 0
    assert qpki_cli("audit", "verify", "--ca-dir", ca).returncode == 0
