"""Issue 18, what a new user reads: --help and outputs as the console script
prints them (a subprocess of the installed ``qpki``)."""

import re

import pytest

from qpki.algorithms.registry import algorithms_by_family, hsm_algorithm_names


def _help_words(qpki_cli, *command):
    """The --help text of ``command`` with its line breaks undone."""
    return " ".join(qpki_cli(*command, "--help", check=True).stdout.split())


def test_algorithm_help_lists_the_names_by_family_with_the_hsm_ones_marked(qpki_cli):
    in_hsm = set(hsm_algorithm_names())
    shown = _help_words(qpki_cli, "key", "gen")
    listing = shown.split("qpki key algorithms):", 1)[1]
    for family, names in algorithms_by_family().items():
        expected = ", ".join(name + ("*" if name in in_hsm else "") for name in names)
        assert f"{family}: {expected}" in listing, family
    assert "ecdsa-p256*" in listing and "ml-dsa-65," in listing and "ml-dsa-65*" not in listing
    signing = _help_words(qpki_cli, "csr", "gen")
    assert "slh-dsa-sha2-128s" in signing and "ml-kem-768" not in signing
    assert re.search(r"default ecdsa-p256\)", signing)


@pytest.mark.hsm
def test_ca_info_shows_an_hsm_key_and_the_counters_in_text_and_json(softhsm_token, qpki_cli,
                                                                    tmp_path):
    config = softhsm_token.write_config()
    softhsm_token.keygen("EC:secp384r1", label="root-ca-key", key_id="01")
    qpki_cli("ca", "init", "--hsm-config", config, "--key-label", "root-ca-key",
             "--profile", "ec/root-ca", "--var", "cn=HSM Root", "--dir", "root", check=True)
    qpki_cli("csr", "gen", "--cn", "www.example.com", "--dns", "www.example.com",
             "--key-out", "www.key", "--out", "www.csr", check=True)
    for name in ("a", "b"):
        qpki_cli("cert", "issue", "--dir", "root", "--profile", "ec/tls-server", "--csr",
                 "www.csr", "--var", "cn=www.example.com", "--out", f"{name}.crt", check=True)
    qpki_cli("cert", "revoke", "--cert", "a.crt", "--dir", "root", check=True)
    qpki_cli("crl", "gen", "--dir", "root", "--days", "3", check=True)
    text = qpki_cli("ca", "info", "--dir", "root", check=True).stdout
    assert re.search(r"storage:\n\s+type: pkcs11\n(\s+\w+: .*\n)*\s+label: root-ca-key\n", text), text
    assert re.search(r"counters:\n\s+issued: 2\n\s+revoked: 1\n\s+crl number: 1\n"
                     r"\s+crl next update: \d{4}-", text), text
    info = qpki_cli("ca", "info", "--dir", "root", "--json", check=True).json()
    assert info["keys"][0]["storage"]["type"] == "pkcs11"
    assert info["keys"][0]["storage"]["label"] == "root-ca-key"
    assert info["counters"]["issued"] == 2 and info["counters"]["revoked"] == 1
    assert info["counters"]["crl_number"] == 1 and info["counters"]["crl_next_update"]


# Every command that reads or writes a passphrase-protected key: the option
# names say whose key it is.
PASSPHRASE_OPTIONS = {
    ("ca", "init"): {"--ca-passphrase-env", "--parent-passphrase-env"},
    ("ca", "rotate"): {"--ca-passphrase-env", "--new-ca-passphrase-env", "--parent-passphrase-env"},
    ("ca", "activate"): {"--ca-passphrase-env"},
    ("cert", "issue"): {"--ca-passphrase-env"},
    ("crl", "gen"): {"--ca-passphrase-env"},
    ("credential", "enroll"): {"--ca-passphrase-env", "--key-passphrase-env"},
    ("credential", "renew"): {"--ca-passphrase-env"},
    ("credential", "rotate"): {"--ca-passphrase-env", "--key-passphrase-env"},
    ("credential", "activate"): {"--key-passphrase-env"},
    ("credential", "export"): {"--key-passphrase-env", "--export-passphrase-env"},
    ("ocsp", "sign"): {"--ca-passphrase-env", "--responder-passphrase-env"},
    ("key", "gen"): {"--key-passphrase-env"},
    ("csr", "gen"): {"--key-passphrase-env"},
}


@pytest.mark.parametrize("command", sorted(PASSPHRASE_OPTIONS), ids=" ".join)
def test_passphrase_options_are_named_for_the_key_they_protect(qpki_cli, command):
    shown = qpki_cli(*command, "--help", check=True).stdout
    named = set(re.findall(r"--[a-z-]*passphrase-env\b", shown)) - {"--passphrase-env"}
    assert named == PASSPHRASE_OPTIONS[command]
    old = re.search(r"^  --passphrase-env VAR +(.*)$", shown, re.M)
    if old:
        assert old.group(1).startswith("deprecated"), old.group(0)


def test_old_passphrase_spelling_still_works_with_a_note(qpki_cli, tmp_path):
    env = {"CA_PASS": "correct horse battery staple"}
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Enc", "--ca-dir", "ca",
             "--ca-passphrase-env", "CA_PASS", env=env, check=True)
    assert b"ENCRYPTED PRIVATE KEY" in next((tmp_path / "ca/private").glob("*.key")).read_bytes()
    old = qpki_cli("crl", "gen", "--ca-dir", "ca", "--passphrase-env", "CA_PASS", env=env)
    assert old.returncode == 0, old.stderr
    assert old.stderr == ("qpki: note: --passphrase-env is deprecated here and goes in the next "
                          "release; use --ca-passphrase-env\n")
    new = qpki_cli("crl", "gen", "--ca-dir", "ca", "--ca-passphrase-env", "CA_PASS", env=env)
    assert new.returncode == 0 and new.stderr == ""
    without = qpki_cli("crl", "gen", "--ca-dir", "ca")
    assert without.returncode != 0 and "passphrase" in without.stderr


@pytest.mark.hsm
def test_hsm_test_lists_mechanisms_only_when_asked_and_filters_them(softhsm_token, qpki_cli):
    config = softhsm_token.write_config()
    plain = qpki_cli("hsm", "test", "--hsm-config", config, check=True).stdout
    assert "mechanisms:" not in plain and "CKM_SHA256\n" not in plain, plain
    count = int(re.search(r"^mechanism count: (\d+)$", plain, re.M).group(1))
    listed = qpki_cli("hsm", "test", "--hsm-config", config, "--mechanisms", "--json",
                      check=True).json()
    assert len(listed["mechanisms"]) == listed["mechanism_count"] == count
    ecdsa = qpki_cli("hsm", "test", "--hsm-config", config, "--mechanisms", "ecdsa", "--json",
                     check=True).json()["mechanisms"]
    assert ecdsa and "CKM_ECDSA" in ecdsa and all("ECDSA" in name for name in ecdsa)
    assert len(ecdsa) < count
    # pkcs11-tool, independently, counts the same mechanisms.
    tool = softhsm_token.pkcs11_tool("--list-mechanisms").stdout
    assert count == len([line for line in tool.splitlines() if line.startswith("  ")]), tool


def test_paths_in_results_start_from_the_directory_given(qpki_cli, tmp_path):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Paths", "--ca-dir", "ca",
             check=True)
    enrolled = qpki_cli("credential", "enroll", "--ca-dir", "ca", "--cred-dir", "creds",
                        "--profile", "ec/tls-server", "--var", "cn=www.example.com", "--json",
                        check=True).json()
    key_path = enrolled["key_storage"]["path"]
    assert key_path in enrolled["paths"] and enrolled["cert_path"] in enrolled["paths"]
    assert key_path.startswith(f"creds/{enrolled['id']}/")
    assert b"PRIVATE KEY" in (tmp_path / key_path).read_bytes()
    info = qpki_cli("credential", "info", enrolled["id"], "--cred-dir", "creds", "--json",
                    check=True).json()
    assert info["key_storage"][0]["path"] == key_path


UNPROTECTED = "qpki: warning: CA key written without a passphrase: "


def test_an_unencrypted_ca_key_is_named_in_a_warning_unless_meant(qpki_cli, tmp_path):
    plain = qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Plain", "--ca-dir",
                     "plain", "--json", check=True)
    [line] = plain.stderr.splitlines()
    assert line.startswith(UNPROTECTED + "plain/private/ca.ecdsa-p384.key (")
    assert "--ca-passphrase-env" in line and "--unencrypted-key" in line
    assert plain.json()["unprotected_keys"] == ["plain/private/ca.ecdsa-p384.key"]
    assert b"ENCRYPTED" not in (tmp_path / "plain/private/ca.ecdsa-p384.key").read_bytes()
    meant = qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Meant", "--ca-dir",
                     "meant", "--unencrypted-key", check=True)
    assert meant.stderr == ""
    encrypted = qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Enc", "--ca-dir",
                         "enc", "--ca-passphrase-env", "CA_PASS", env={"CA_PASS": "s3cret pass"},
                         check=True)
    assert encrypted.stderr == ""
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "enc/private/ca.ecdsa-p384.key").read_bytes()
    rotated = qpki_cli("ca", "rotate", "--ca-dir", "meant", check=True)
    assert rotated.stderr.startswith(UNPROTECTED + "meant/private/v2/")
    assert "--new-ca-passphrase-env" in rotated.stderr


@pytest.mark.hsm
def test_an_hsm_catalyst_root_names_its_ml_dsa_key_file(softhsm_token, qpki_cli, tmp_path):
    config = softhsm_token.write_config()
    softhsm_token.keygen("EC:secp384r1", label="root-ca-key", key_id="01")
    made = qpki_cli("ca", "init", "--hsm-config", config, "--key-label", "root-ca-key",
                    "--profile", "hybrid/catalyst/root-ca", "--var", "cn=Hybrid Root",
                    "--ca-dir", "root", "--json", check=True)
    [line] = made.stderr.splitlines()
    [pqc_file] = made.json()["unprotected_keys"]
    assert line.startswith(UNPROTECTED + pqc_file + " ") and "ml-dsa" in pqc_file
    assert b"PRIVATE KEY" in (tmp_path / pqc_file).read_bytes()
