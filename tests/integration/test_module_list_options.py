"""A plain string for a list option of any qpki module is refused with a
one-line msg naming the option (issue 14), through real ansible-playbook
runs: in the worker process (the qpki action plugins' fast path) and
through AnsiballZ.

Ansible itself would split the string at commas (``released_serials:
"0A,0B"`` would revoke nothing and release two serials) or read it as a
mapping (``revoked_serials: "serial=0A"``), and for ``revoked_serials:
"0A"`` it fails with a message that names no option. The list options are
read from the modules' argument specs, so a new one is covered too.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ansible

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NOUNS = {"dict": "mappings", "str": "strings", "path": "paths"}


def _list_options() -> list[tuple[str, str, str]]:
    """(module, option, elements) of every ``name=dict(type="list", ...)`` in plugins/modules."""
    found = []
    for path in sorted((REPO / "plugins" / "modules").glob("qpki_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.keyword) and isinstance(node.value, ast.Call)
                    and getattr(node.value.func, "id", None) == "dict"):
                continue
            spec = {k.arg: k.value.value for k in node.value.keywords if isinstance(k.value, ast.Constant)}
            if spec.get("type") == "list":
                found.append((path.stem, node.arg, spec["elements"]))
    return found


LIST_OPTIONS = _list_options()
# The strings a task may give by mistake: one item, a comma-separated list, a key=value pair.
TEXTS = ("0A", "0A,0B", "serial=0A")


def test_the_scan_finds_the_list_options():
    assert {("qpki_crl", "revoked_serials", "dict"), ("qpki_crl", "released_serials", "str"),
            ("qpki_cert", "certificates", "dict"), ("qpki_credential", "credentials", "dict"),
            ("qpki_cert_info", "crl_paths", "path")} <= set(LIST_OPTIONS)


def _play(tmp_path: Path, in_process: bool) -> dict[str, dict]:
    """Run one task per (list option, text) and return each task's result by its name."""
    tasks = []
    for module, option, _elements in LIST_OPTIONS:
        for text in TEXTS:
            tasks.append({"name": f"{module} {option} {text}", f"qpki.pki.{module}": {option: text},
                          "ignore_errors": True})
        # The same option as a real list: whatever else fails, it is not this refusal.
        tasks.append({"name": f"{module} {option} list", f"qpki.pki.{module}": {option: []},
                      "ignore_errors": True})
    play = [{"hosts": "localhost", "gather_facts": False, "vars": {"qpki_in_process": in_process},
             "tasks": tasks}]
    (tmp_path / "play.yml").write_text(json.dumps(play))
    collections = tmp_path / "collections" / "ansible_collections" / "qpki"
    collections.mkdir(parents=True, exist_ok=True)
    if not (collections / "pki").exists():
        (collections / "pki").symlink_to(REPO)
    (tmp_path / "inventory").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "remote-tmp"), ANSIBLE_STDOUT_CALLBACK="json",
               ANSIBLE_DEPRECATION_WARNINGS="0", PATH=f"{BIN}:{os.environ['PATH']}")
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", "inventory", "play.yml"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    return {task["task"]["name"]: task["hosts"]["localhost"] for task in report["plays"][0]["tasks"]}


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "ansiballz"])
def test_a_string_for_a_list_option_is_refused_naming_it(tmp_path, in_process):
    results = _play(tmp_path, in_process)
    for module, option, elements in LIST_OPTIONS:
        refusal = f"{option} must be a list of {NOUNS[elements]}, not a string; write it as {option}: ["
        for text in TEXTS:
            result = results[f"{module} {option} {text}"]
            assert result.get("failed") is True, (module, option, text, result)
            assert result["msg"].startswith(refusal) and "\n" not in result["msg"], (module, option, result["msg"])
        as_list = results[f"{module} {option} list"]
        assert not as_list.get("msg", "").startswith(refusal), (module, option, as_list)


def test_the_refusal_shows_the_item_form():
    endings = {
        "revoked_serials": "write it as revoked_serials: [{serial: ...}]",
        "certificates": "write it as certificates: [{path: ...}]",
        "released_serials": "write it as released_serials: [..., ...]",
    }
    from qpki.module_argspec import list_given_as_text

    specs = {
        "revoked_serials": dict(type="list", elements="dict", options=dict(
            serial=dict(type="str", required=True), reason=dict(type="str"))),
        "certificates": dict(type="list", elements="dict", options=dict(
            csr_path=dict(type="path"), path=dict(type="path", required=True))),
        "released_serials": dict(type="list", elements="str", aliases=["released"]),
    }
    for name, expected in endings.items():
        assert list_given_as_text(specs, {name: "0A"}).endswith(expected)
    assert list_given_as_text(specs, {"released": "0A"}).startswith("released must be a list of strings")
    assert list_given_as_text(specs, {"revoked_serials": [{"serial": "0A"}], "released_serials": None}) is None
