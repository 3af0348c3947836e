"""The skip rule of tests/conftest.py, run on a throw-away test directory:
under CI or QPKI_STRICT_SKIPS every skip, skipif, fixture skip, module skip
and xfail is a failure; only an 'unsupported platform:' skip stands."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

SAMPLE = textwrap.dedent('''
    import pytest
    from conftest import skip_unsupported_platform

    def test_plain_skip():
        pytest.skip("openssl not installed")

    @pytest.mark.skipif(True, reason="pkcs11-spy missing")
    def test_skipif():
        pass

    @pytest.mark.xfail(reason="known bug")
    def test_xfail():
        assert False

    @pytest.fixture
    def tool():
        pytest.skip("SoftHSM2 tooling missing")

    def test_fixture_skip(tool):
        pass

    def test_allowed():
        skip_unsupported_platform("needs the macOS keychain")

    def test_passes():
        pass
''')
MODULE_SKIP = textwrap.dedent('''
    import pytest
    pytest.skip("vector file missing", allow_module_level=True)

    def test_never():
        pass
''')


def _run(folder: Path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("CI", "QPKI_STRICT_SKIPS")}
    full.update(env, PYTHONPATH=str(TESTS), COLUMNS="250")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q",
         "-rA", "--continue-on-collection-errors", "-p", "no:xdist", "-p", "no:randomly"],
        cwd=folder, env=full, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    (tmp_path / "test_module_skip.py").write_text(MODULE_SKIP)
    return tmp_path


@pytest.mark.parametrize("switch", [{"CI": "true"}, {"QPKI_STRICT_SKIPS": "1"}])
def test_strict_mode_fails_every_skip_but_the_platform_one(sample: Path, switch: dict) -> None:
    done = _run(sample, **switch)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    for name in ("test_plain_skip", "test_xfail"):
        assert f"FAILED test_sample.py::{name} - skipped under the README test command" in out
    for name in ("test_sample.py::test_skipif", "test_sample.py::test_fixture_skip",
                 "test_module_skip.py"):
        assert f"ERROR {name} - skipped under the README test command" in out
    assert "PASSED test_sample.py::test_passes" in out
    assert "SKIPPED [1]" in out and "unsupported platform: needs the macOS keychain" in out
    assert out.rstrip().splitlines()[-1].startswith("2 failed, 1 passed, 1 skipped, 3 errors")


def test_without_ci_a_skip_is_only_a_skip(sample: Path) -> None:
    done = _run(sample)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().splitlines()[-1].startswith("1 passed, 5 skipped, 1 xfailed")
