"""ruff and mypy, with the repository's settings, find nothing (scripts/lint.sh)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_lint_and_types_are_clean():
    run = subprocess.run(["bash", str(REPO / "scripts/lint.sh")], capture_output=True, text=True,
                         timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_settings_catch_an_untyped_function_and_an_unused_import(tmp_path):
    """The check can fail: mypy's per-module rule and ruff's selection both bite."""
    package = tmp_path / "qpki"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "revocation.py").write_text("import os\n\n\ndef reason(code):\n    return code\n")
    mypy = subprocess.run([str(BIN / "mypy"), "--config-file", str(REPO / "pyproject.toml"),
                           "--no-incremental", "-p", "qpki"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    assert "Function is missing a type annotation" in mypy.stdout, mypy.stdout + mypy.stderr
    ruff = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "--config",
                           str(REPO / "pyproject.toml"), str(package)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert "F401" in ruff.stdout, ruff.stdout + ruff.stderr
