"""The core imports without its third-party libraries (Ansible's import sanity
test, managed hosts without them) and names what is missing."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.module_utils.basic import missing_required_lib

from qpki import dependencies
from qpki.dependencies import Missing, missing, missing_libraries
from qpki.module_support import check_dependencies

CORE = Path(__file__).resolve().parents[2] / "plugins" / "module_utils"
BLOCKED = ("cryptography", "pyasn1", "pyasn1_modules", "yaml", "pkcs11", "pqcrypto")

# Runs in a fresh interpreter: every core module is imported while the libraries
# above raise ImportError, as in ansible-test's import sanity environment.
_SCRIPT = r"""
import importlib, json, pathlib, sys, traceback

BLOCKED = set(sys.argv[2].split(","))


class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("No module named %r (blocked by the test)" % name, name=name)
        return None


sys.meta_path.insert(0, Blocker())
root = pathlib.Path(sys.argv[1])
failed, imported = {}, []
for path in sorted(root.rglob("*.py")):
    parts = path.relative_to(root).with_suffix("").parts
    name = ".".join(("qpki",) + (parts[:-1] if parts[-1] == "__init__" else parts))
    try:
        importlib.import_module(name)
        imported.append(name)
    except Exception:
        failed[name] = traceback.format_exc()
from qpki.dependencies import missing_libraries
print(json.dumps({"imported": imported, "failed": failed, "missing": sorted(missing_libraries()),
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)}))
"""


@pytest.fixture(scope="module")
def blocked_import():
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(CORE), ",".join(BLOCKED)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_every_core_module_imports_without_third_party_libraries(blocked_import):
    assert blocked_import["failed"] == {}
    expected = len(list(CORE.rglob("*.py")))
    assert len(blocked_import["imported"]) == expected
    assert blocked_import["loaded"] == []


def test_the_missing_libraries_are_named(blocked_import):
    assert {"cryptography", "pyasn1"} <= set(blocked_import["missing"]) <= set(BLOCKED)


def test_nothing_is_missing_when_the_libraries_are_installed():
    assert not missing_libraries()


class _FakeModule:
    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs


def test_modules_fail_with_missing_required_lib(monkeypatch):
    monkeypatch.setattr(dependencies, "_MISSING", {
        "pyasn1_modules": ("No module named 'pyasn1_modules'", "Traceback: pyasn1_modules\n"),
        "cryptography": ("No module named 'cryptography'", "Traceback: cryptography\n")})
    module = _FakeModule()
    check_dependencies(module, missing_required_lib)
    assert "(cryptography, pyasn1-modules)" in module.failed["msg"]
    assert "qpki core" in module.failed["msg"]
    assert "Traceback: cryptography" in module.failed["exception"]


def test_check_passes_when_nothing_is_missing():
    module = _FakeModule()
    check_dependencies(module, missing_required_lib)
    assert module.failed is None


def _stand_in(name):
    try:
        raise ImportError("No module named %r" % name, name=name)
    except ImportError:
        return missing()


def test_the_stand_in_survives_module_level_code(monkeypatch):
    monkeypatch.setattr(dependencies, "_MISSING", {})
    lib = _stand_in("qpki_no_such_library")
    assert missing_libraries() == {"qpki_no_such_library": "No module named 'qpki_no_such_library'"}

    class Key(lib.ec.EllipticCurvePrivateKey, lib.rsa.RSAPrivateKey):
        spec = lib.namedtype.NamedTypes(lib.namedtype.NamedType("a", lib.univ.Integer()))

    assert isinstance(Key.spec, Missing)
    assert isinstance(lib.x509.ObjectIdentifier("1.2.3")["x"], Missing)
    assert list(lib.items) == []
    assert isinstance(lib.a | None, Missing)
    assert "qpki_no_such_library.ec" in repr(lib.ec)


def test_a_library_imported_later_is_named_when_absent(monkeypatch):
    monkeypatch.setattr(dependencies, "_MISSING", {})
    monkeypatch.setattr(dependencies, "_PRESENT", set())
    monkeypatch.setattr(dependencies, "_LATER", set())
    dependencies.imported_later("json", "qpki_no_such_library")
    assert missing_libraries() == {"qpki_no_such_library": "No module named 'qpki_no_such_library'"}
    assert "qpki_no_such_library" in dependencies.missing_traceback()
    assert dependencies._PRESENT == {"json"}


# The files on the common path import pyasn1 only inside functions; with pyasn1
# absent, loading them must still report it (the Ansible modules stop with
# missing_required_lib() before running anything).
_LATER_SCRIPT = r"""
import json, sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pyasn1", "pyasn1_modules"):
            raise ImportError("No module named %r (blocked by the test)" % name, name=name)
        return None

sys.meta_path.insert(0, Blocker())
import qpki.x509.parse, qpki.x509.assemble, qpki.x509.signature, qpki.x509.catalyst
import qpki.store.dn_oneline
from qpki.dependencies import missing_libraries
print(json.dumps(sorted(missing_libraries())))
"""


def test_pyasn1_imported_later_is_still_reported_missing():
    proc = subprocess.run([sys.executable, "-c", _LATER_SCRIPT], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == ["pyasn1", "pyasn1_modules"]
