"""How the command line answers, as a user and a script see it (issue 18,
items 1, 10 and 11): --version, JSON errors, no "changed" from read-only
commands, a plain OK."""

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_version_is_the_release_everywhere(qpki_cli):
    shown = qpki_cli("--version", check=True).stdout.strip()
    pyproject = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    galaxy = re.search(r"^version: (\S+)", (REPO / "galaxy.yml").read_text(), re.M)
    assert shown == f"qpki {pyproject.group(1)}" and galaxy.group(1) == pyproject.group(1)
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=V", "--ca-dir", "ca",
             check=True)
    info = qpki_cli("ca", "info", "--ca-dir", "ca", "--json", check=True).json()
    assert info["qpki_version"] == pyproject.group(1)


def test_errors_are_json_with_json(qpki_cli):
    failed = qpki_cli("ca", "info", "--ca-dir", "missing", "--json")
    assert failed.returncode == 1
    data = json.loads(failed.stdout)
    assert data == {"failed": True, "msg": "not a CA directory: missing (no ca.meta.json)",
                    "exit_code": 1}
    assert failed.stderr.strip() == "qpki: error: " + data["msg"]
    plain = qpki_cli("ca", "info", "--ca-dir", "missing")
    assert plain.stdout == "" and plain.returncode == 1


def test_read_only_commands_do_not_report_changed(qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=R", "--ca-dir", "ca",
             check=True)
    for argv in (["ca", "info", "--ca-dir", "ca"], ["ca", "check", "--ca-dir", "ca"],
                 ["ca", "versions", "--ca-dir", "ca"], ["cert", "info", "ca/ca.crt"],
                 ["cert", "verify", "ca/ca.crt", "--ca", "ca/ca.crt"],
                 ["ca", "export", "--ca-dir", "ca"], ["profile", "show", "ec/root-ca"]):
        assert "changed" not in qpki_cli(*argv, "--json", check=True).json(), argv
    assert qpki_cli("crl", "gen", "--ca-dir", "ca", "--json", check=True).json()["changed"] is True
    assert qpki_cli("ca", "check", "--ca-dir", "ca", check=True).stdout == "OK\n"
    assert qpki_cli("cert", "verify", "ca/ca.crt", "--ca", "ca/ca.crt", check=True).stdout == "OK\n"


def test_key_algorithms_lists_every_family_and_the_hsm_ones(qpki_cli):
    from qpki.algorithms.registry import algorithm_names, hsm_algorithm_names

    listed = qpki_cli("key", "algorithms", "--json", check=True).json()
    rows = {row["name"]: row for family in listed["families"].values() for row in family}
    assert sorted(rows) == algorithm_names() and listed["count"] == len(rows)
    assert sorted(n for n, row in rows.items() if row["hsm"]) == sorted(hsm_algorithm_names())
    assert rows["ecdsa-p256"]["hsm"] and not rows["ml-dsa-65"]["hsm"]
    assert not rows["ml-kem-768"]["signs"] and rows["slh-dsa-sha2-128s"]["signs"]
    assert {"ec", "rsa", "ml-dsa", "slh-dsa", "ml-kem", "composite"} <= set(listed["families"])
    helped = qpki_cli("key", "gen", "--help", check=True).stdout
    assert "qpki key algorithms" in " ".join(helped.split())


def test_csr_gen_defaults_to_p256_and_says_so(tmp_path, qpki_cli):
    import subprocess

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    made = qpki_cli("csr", "gen", "--out", "a.csr", "--cn", "a.example.com", "--key-out", "a.key",
                    check=True)
    assert "ecdsa-p256" in made.stdout and "no algorithm given" in made.stdout
    key = serialization.load_pem_private_key((tmp_path / "a.key").read_bytes(), None)
    assert isinstance(key.curve, ec.SECP256R1)
    checked = subprocess.run(["openssl", "req", "-in", "a.csr", "-noout", "-verify"], cwd=tmp_path,
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0
    refused = qpki_cli("csr", "gen", "--out", "b.csr", "--cn", "b.example.com")
    assert refused.returncode == 1 and not (tmp_path / "b.csr").exists()


def test_ca_info_counts_what_the_ca_did(tmp_path, qpki_cli):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Count", "--dir", "ca",
             check=True)
    assert qpki_cli("ca", "info", "--dir", "ca", "--json", check=True).json()["counters"] == {
        "issued": 0, "revoked": 0, "crl_number": None, "crl_next_update": None}
    serials = []
    for number in range(3):
        key = ec.generate_private_key(ec.SECP256R1())
        (tmp_path / f"{number}.csr").write_bytes(
            x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
                [x509.NameAttribute(NameOID.COMMON_NAME, f"h{number}.example.com")])).sign(
                    key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
        serials.append(qpki_cli("cert", "issue", "--dir", "ca", "--profile", "ec/tls-server",
                                "--csr", f"{number}.csr", "--var", f"cn=h{number}.example.com",
                                "--json", check=True).json()["serial"])
    qpki_cli("cert", "revoke", serials[0], "--dir", "ca", check=True)
    crl = qpki_cli("crl", "gen", "--dir", "ca", "--days", "3", "--json", check=True).json()
    counters = qpki_cli("ca", "info", "--dir", "ca", "--json", check=True).json()["counters"]
    assert counters == {"issued": 3, "revoked": 1, "crl_number": crl["crl_number"],
                        "crl_next_update": crl["next_update"]}
    text = qpki_cli("ca", "info", "--dir", "ca", check=True).stdout
    assert "issued: 3" in text and "revoked: 1" in text
