"""A credential's audit log (issue 17, item 6): one hash-chained record per
enrolment, renewal, rotation, activation, revocation and export, linked to
the issuing CA's log, checked by ``qpki audit verify``; no secret in any
record, file or output."""

import json
from pathlib import Path

from cryptography import x509

from qpki.store.audit_pending import write_pending

CA_PASS, KEY_PASS, NEW_KEY_PASS, EXPORT_PASS = (
    "ca-pin-Hq81x", "cred-key-Zt4", "rotated-key-Pw9", "export-pass-7Qz")
ENV = {"CA_PASS": CA_PASS, "KEY_PASS": KEY_PASS, "NEW_PASS": NEW_KEY_PASS, "P12_PASS": EXPORT_PASS}
SECRETS = [s.encode() for s in (CA_PASS, KEY_PASS, NEW_KEY_PASS, EXPORT_PASS)]


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


class Lifecycle:
    """Runs qpki with every secret in the environment and keeps every output."""

    def __init__(self, work: Path, qpki_cli) -> None:
        self.work, self.qpki_cli, self.outputs = work, qpki_cli, []

    def run(self, *args: str):
        result = self.qpki_cli(*args, env=ENV, check=True)
        self.outputs.append(result.stdout + result.stderr)
        return result

    def log(self, name: str = "app") -> list[dict]:
        return records(self.work / "creds" / name / "audit.log")

    def ca_log(self) -> list[dict]:
        return records(self.work / "root" / "audit.log")

    def step(self, *args: str) -> tuple[dict, list[dict]]:
        """Run one command; (the one record it added to the credential's log,
        the records it added to the CA's log)."""
        before, ca_before = len(self.log()), len(self.ca_log())
        self.run(*args)
        added, ca_added = self.log()[before:], self.ca_log()[ca_before:]
        assert len(added) == 1, added
        return added[0], ca_added


def _serial(path: Path) -> str:
    return f"{x509.load_pem_x509_certificate(path.read_bytes()).serial_number:X}"


def test_every_lifecycle_event_is_one_chained_record_linked_to_the_ca_log(tmp_path, qpki_cli):
    life = Lifecycle(tmp_path, qpki_cli)
    life.run("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Audit Root", "--ca-dir", "root",
             "--ca-passphrase-env", "CA_PASS")
    made = life.run("credential", "enroll", "app", "--ca-dir", "root", "--cred-dir", "creds",
                    "--profile", "ec/tls-server", "--var", "cn=app.example.com",
                    "--var", "dns_names=app.example.com", "--ca-passphrase-env", "CA_PASS",
                    "--key-passphrase-env", "KEY_PASS", "--json").json()
    leaf = tmp_path / made["cert_path"]
    first = life.log()
    assert [r["op"] for r in first] == ["credential.enroll"]
    assert first[0]["serial"] == made["serial"] and first[0]["version"] == "v1"
    cred = ("app", "--cred-dir", "creds")
    with_ca = (*cred, "--ca-dir", "root", "--ca-passphrase-env", "CA_PASS")

    renew, ca_added = life.step("credential", "renew", *with_ca)
    assert (renew["op"], renew["version"], renew["serial"]) == (
        "credential.renew", "v2", _serial(leaf))
    assert [(r["op"], r["serial"]) for r in ca_added] == [("cert.issue", renew["serial"])]
    assert renew["ca"] == "CN=Audit Root"
    assert renew["ca_audit"] == f"{ca_added[0]['seq']}:{ca_added[0]['hash']}"

    rotate, ca_added = life.step("credential", "rotate", *with_ca, "--key-passphrase-env",
                                 "NEW_PASS")
    assert (rotate["op"], rotate["version"], rotate["serial"]) == (
        "credential.rotate", "v3", _serial(leaf))
    assert rotate["keys"] == [{"storage": "software", "path": "signature.ecdsa-p256.v3.key"}]
    assert [r["op"] for r in ca_added] == ["cert.issue"]

    activate, ca_added = life.step("credential", "activate", *cred, "--version", "v1",
                                   "--key-passphrase-env", "KEY_PASS")
    assert (activate["op"], activate["version"], activate["previous_version"]) == (
        "credential.activate", "v1", "v3")
    assert activate["serial"] == made["serial"] == _serial(leaf) and ca_added == []

    export, ca_added = life.step("credential", "export", *cred, "--out", "app.p12",
                                 "--export-passphrase-env", "P12_PASS",
                                 "--key-passphrase-env", "KEY_PASS")
    assert (export["op"], export["version"], export["serial"], export["format"]) == (
        "credential.export", "v1", made["serial"], "pkcs12")
    assert export["key_exported"] is True and export["path"] == str(tmp_path / "app.p12")
    assert ca_added == []

    revoke, ca_added = life.step("credential", "revoke", *cred, "--ca-dir", "root",
                                 "--reason", "superseded")
    assert revoke["op"] == "credential.revoke" and revoke["reason"] == "superseded"
    assert sorted(revoke["revoked"]) == sorted(r["serial"] for r in (first[0], renew, rotate))
    assert sorted(r["serial"] for r in ca_added) == sorted(revoke["revoked"])
    assert {r["op"] for r in ca_added} == {"cert.revoke"}

    # Nothing changed, nothing recorded.
    before = len(life.log())
    life.run("credential", "revoke", *cred, "--ca-dir", "root")
    life.run("credential", "activate", *cred, "--version", "v1", "--key-passphrase-env", "KEY_PASS")
    assert len(life.log()) == before

    verified = life.run("audit", "verify", "--cred-dir", "creds", "--credential", "app",
                        "--json").json()
    assert verified["valid"] is True and verified["records"] == 6
    assert life.run("audit", "verify", "--ca-dir", "root", "--json").json()["valid"] is True
    # Each link names a line the CA's log still holds unchanged.
    for record in life.log():
        if "ca_audit" in record:
            life.run("audit", "verify", "--ca-dir", "root", "--anchor", record["ca_audit"])

    # No secret anywhere: not in a record, not in any file, not in any output.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(secret in data for secret in SECRETS), path
    for text in life.outputs:
        assert not any(secret.decode() in text for secret in SECRETS)


def _enrolled(tmp_path, qpki_cli) -> Path:
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Audit Root", "--ca-dir", "root",
             "--unencrypted-key", check=True)
    qpki_cli("credential", "enroll", "app", "--ca-dir", "root", "--cred-dir", "creds",
             "--profile", "ec/tls-server", "--var", "cn=app.example.com", check=True)
    qpki_cli("credential", "renew", "app", "--cred-dir", "creds", "--ca-dir", "root", check=True)
    qpki_cli("credential", "export", "app", "--cred-dir", "creds", "--out", "app.pem",
             "--format", "pem", "--no-key", check=True)
    return tmp_path / "creds" / "app" / "audit.log"


def _verify(qpki_cli):
    return qpki_cli("audit", "verify", "--cred-dir", "creds", "--credential", "app")


def test_an_edited_line_of_the_credential_log_fails_verify(tmp_path, qpki_cli):
    log = _enrolled(tmp_path, qpki_cli)
    assert _verify(qpki_cli).returncode == 0
    lines = log.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"version":"v2"', '"version":"v3"')
    log.write_text("".join(lines))
    failed = _verify(qpki_cli)
    assert failed.returncode == 1 and "line 2: hash mismatch" in failed.stdout


def test_a_removed_line_of_the_credential_log_fails_verify(tmp_path, qpki_cli):
    log = _enrolled(tmp_path, qpki_cli)
    lines = log.read_text().splitlines(keepends=True)
    log.write_text(lines[0] + lines[2])
    failed = _verify(qpki_cli)
    assert failed.returncode == 1 and "line 2: seq is 3, expected 2" in failed.stdout


def test_a_version_switched_behind_the_log_fails_verify(tmp_path, qpki_cli):
    log = _enrolled(tmp_path, qpki_cli)
    meta_path = log.parent / "credential.meta.json"
    meta = json.loads(meta_path.read_text())
    meta["active"] = "v1"
    meta_path.write_text(json.dumps(meta))
    failed = _verify(qpki_cli)
    assert failed.returncode == 1
    assert "last version change names v2, the credential's metadata v1" in failed.stdout


def test_the_record_of_an_event_killed_after_its_change_is_completed(tmp_path, qpki_cli):
    """What a process killed between its change and its append leaves: the
    record written ahead, the change on disk. The next event records it
    (and drops a pending record whose change never happened)."""
    log = _enrolled(tmp_path, qpki_cli)
    cred = log.parent
    exported = {"time": "2026-01-01T00:00:00Z", "op": "credential.export", "credential": "app",
                "path": str(tmp_path / "app.pem"), "sha256": _sha256(tmp_path / "app.pem")}
    never = dict(exported, path=str(tmp_path / "missing.pem"))
    write_pending(cred, [exported])
    qpki_cli("credential", "activate", "app", "--cred-dir", "creds", "--version", "v2",
             check=True)
    assert records(log)[-1]["op"] == "credential.export" and len(records(log)) == 4
    write_pending(cred, [never])
    qpki_cli("credential", "activate", "app", "--cred-dir", "creds", "--version", "v1",
             check=True)
    assert [r["op"] for r in records(log)][-2:] == ["credential.export", "credential.activate"]
    assert _verify(qpki_cli).returncode == 0


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest().upper()


def test_the_module_path_records_renewal_and_rotation(tmp_path, qpki_cli):
    from qpki.ops.credential.audit import credential_audit_verify
    from qpki.ops.credential.state import credential_ensure

    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Audit Root", "--ca-dir", "root",
             "--unencrypted-key", check=True)
    ca, creds = str(tmp_path / "root"), str(tmp_path / "creds")
    values = {"cn": "app.example.com"}
    credential_ensure(ca, creds, "ec/tls-server", values, credential_id="app")
    renewed = credential_ensure(ca, creds, "ec/tls-server", values, credential_id="app",
                                renew_before="400d").to_dict()
    rotated = credential_ensure(ca, creds, "ec/tls-server", values, credential_id="app",
                                renew_before="400d", rotate=True).to_dict()
    credential_ensure(ca, creds, "ec/tls-server", values, credential_id="app")
    log = records(tmp_path / "creds" / "app" / "audit.log")
    assert [(r["op"], r["version"], r["serial"]) for r in log[1:]] == [
        ("credential.renew", "v2", renewed["serial"]), ("credential.rotate", "v3", rotated["serial"])]
    assert credential_audit_verify(creds, "app").valid is True


def test_batch_enrolment_starts_each_log(tmp_path, qpki_cli):
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Audit Root", "--ca-dir", "root",
             "--unencrypted-key", check=True)
    (tmp_path / "batch.yml").write_text(
        "- {credential_id: one, vars: {cn: one.example.com}}\n"
        "- {credential_id: two, vars: {cn: two.example.com}}\n")
    qpki_cli("credential", "enroll", "--batch", "batch.yml", "--ca-dir", "root",
             "--cred-dir", "creds", "--profile", "ec/tls-server", check=True)
    for name in ("one", "two"):
        log = records(tmp_path / "creds" / name / "audit.log")
        assert [(r["op"], r["credential"], r["version"]) for r in log] == [
            ("credential.enroll", name, "v1")]
        assert qpki_cli("audit", "verify", "--cred-dir", "creds", "--credential", name
                        ).returncode == 0


def test_a_refused_renewal_or_export_names_no_secret(tmp_path, qpki_cli):
    """Wrong passphrases make renew, rotate and export fail; their messages
    (text and JSON) hold none of the secrets, and nothing is recorded."""
    qpki_cli("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Audit Root", "--ca-dir", "root",
             "--ca-passphrase-env", "CA_PASS", env=ENV, check=True)
    qpki_cli("credential", "enroll", "app", "--ca-dir", "root", "--cred-dir", "creds",
             "--profile", "ec/tls-server", "--var", "cn=app.example.com",
             "--ca-passphrase-env", "CA_PASS", "--key-passphrase-env", "KEY_PASS", env=ENV,
             check=True)
    wrong = dict(ENV, CA_PASS=KEY_PASS, KEY_PASS=CA_PASS)
    runs = []
    for form in ((), ("--json",)):
        runs.append(qpki_cli("credential", "renew", "app", "--cred-dir", "creds", "--ca-dir", "root",
                             "--ca-passphrase-env", "CA_PASS", *form, env=wrong))
        runs.append(qpki_cli("credential", "rotate", "app", "--cred-dir", "creds", "--ca-dir", "root",
                             "--ca-passphrase-env", "CA_PASS", "--key-passphrase-env", "NEW_PASS",
                             *form, env=wrong))
        runs.append(qpki_cli("credential", "export", "app", "--cred-dir", "creds", "--out", "a.p12",
                             "--export-passphrase-env", "P12_PASS", "--key-passphrase-env",
                             "KEY_PASS", *form, env=wrong))
    for run in runs:
        assert run.returncode == 1, run
        assert not any(secret.decode() in run.stdout + run.stderr for secret in SECRETS), run
    assert [r["op"] for r in records(tmp_path / "creds" / "app" / "audit.log")] == [
        "credential.enroll"]
    assert not (tmp_path / "a.p12").exists()
    # The refused rotations left no key file behind.
    assert sorted(p.name for p in (tmp_path / "creds" / "app").glob("*.key")) == [
        "signature.ecdsa-p256.key"]


def test_a_token_held_credential_s_records_name_labels_never_the_pin(softhsm_token, tmp_path,
                                                                     qpki_cli):
    """Rotation to a new token key, and an export that can only hold the
    chain: one record each, the key named by its label, the PIN nowhere."""
    config = softhsm_token.write_config()
    env = {"HSM_PIN": softhsm_token.pin}
    outputs = []

    def run(*args):
        result = qpki_cli(*args, env=env, check=True)
        outputs.append(result.stdout + result.stderr)
        return result

    run("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Audit Root", "--ca-dir", "root",
        "--unencrypted-key")
    run("credential", "enroll", "tok", "--ca-dir", "root", "--cred-dir", "creds", "--profile",
        "ec/tls-server", "--var", "cn=tok.example.com", "--hsm-config", config,
        "--key-label", "tok-v1")
    run("credential", "rotate", "tok", "--cred-dir", "creds", "--ca-dir", "root",
        "--hsm-config", config, "--key-label", "tok-v2", "--json")
    run("credential", "export", "tok", "--cred-dir", "creds", "--out", "tok.p12", "--json")
    log = records(tmp_path / "creds" / "tok" / "audit.log")
    assert [r["op"] for r in log] == ["credential.enroll", "credential.rotate", "credential.export"]
    assert [k.get("label") for k in log[1]["keys"]] == ["tok-v2"]
    assert log[2]["key_exported"] is False
    run("audit", "verify", "--cred-dir", "creds", "--credential", "tok")
    pin = softhsm_token.pin.encode()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert pin not in path.read_bytes(), path
    assert not any(softhsm_token.pin in text for text in outputs)
