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
