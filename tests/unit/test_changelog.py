"""Changes are recorded as antsibull-changelog fragments (changelogs/fragments),
and every fragment must be one antsibull-changelog accepts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _antsibull_changelog() -> str:
    found = shutil.which("antsibull-changelog", path=str(Path(sys.executable).parent))
    assert found, "antsibull-changelog is a test dependency (pyproject.toml [test])"
    return found


def test_fragments_lint_clean():
    run = subprocess.run([_antsibull_changelog(), "lint"], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0 and run.stdout.strip() == "", run.stdout + run.stderr


def test_lint_refuses_a_fragment_with_an_unknown_section(tmp_path):
    """The check can fail: a fragment with a section the config does not know."""
    bad = tmp_path / "bad.yml"
    bad.write_text("new_stuff:\n  - something\n", encoding="utf-8")
    run = subprocess.run([_antsibull_changelog(), "lint", str(bad)], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=False)
    assert "new_stuff" in run.stdout + run.stderr
