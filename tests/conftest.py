"""Shared pytest configuration and fixtures for the whole qpki.pki test suite.

Fixtures (usable from any test under tests/):

``softhsm_token``
    A fresh, initialised SoftHSM2 token in a private token directory
    (function scope). ``SOFTHSM2_CONF`` and ``HSM_PIN`` are set through
    ``monkeypatch`` and restored afterwards. The yielded :class:`SoftHsmToken`
    has ``lib``, ``label``, ``pin``, ``so_pin``, ``conf``, ``tokendir``,
    ``serial``, ``slot``, ``pin_env`` and helpers ``write_config()``,
    ``pkcs11_tool()`` and ``keygen()``.

``softhsm_factory``
    ``softhsm_factory(label="...", pin=None, so_pin=None)`` initialises more
    tokens in the same token directory (same ``SOFTHSM2_CONF``).

``qpki_cli``
    ``qpki_cli(*args, cwd=None, env=None, input=None, timeout=120, check=False)``
    runs the installed ``qpki`` console script as a subprocess and returns a
    :class:`CliResult` (a ``subprocess.CompletedProcess`` with text output and
    a ``.json()`` helper). ``env`` entries are added to the current
    environment; a value of ``None`` removes the variable.

``tree_snapshot`` / :func:`tree_snapshot`
    ``tree_snapshot(path) -> {relpath: (mode, sha256)}`` for byte-identical
    "nothing changed" checks; :func:`diff_snapshots` explains a difference.

HSM tests: a test that uses ``softhsm_token``/``softhsm_factory`` is marked
``hsm`` automatically and is skipped when SoftHSM2 or pkcs11-tool is missing.

The skip rule: when ``CI`` or ``QPKI_STRICT_SKIPS`` is set (``.ci/run`` and
``scripts/test.sh`` set them), every skipped or xfailed test or module is
reported as a FAILURE, unless its reason starts with ``UNSUPPORTED_PLATFORM``
(see :func:`skip_unsupported_platform`): a reason that cannot apply on the
supported platforms, Debian 12 on amd64 or arm64. A missing tool or file is
never such a reason: ``scripts/setup.sh`` installs the tools and the data
lives in the repository.

Hypothesis runs derandomised with no deadline by default (deterministic and
not flaky on a loaded 2-core machine); ``HYPOTHESIS_PROFILE=explore`` turns
randomisation back on locally.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- env


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


IN_CI = _truthy(os.environ.get("CI"))
STRICT_SKIPS = IN_CI or _truthy(os.environ.get("QPKI_STRICT_SKIPS"))

# --------------------------------------------------------------------------- the skip rule

# The one allowed kind of skip under STRICT_SKIPS; the text after it must name
# why the test cannot apply on Debian 12 amd64/arm64.
UNSUPPORTED_PLATFORM = "unsupported platform:"


def skip_unsupported_platform(why: str) -> NoReturn:
    """Skip a test that cannot apply on Debian 12 amd64/arm64 (``why`` says
    why); the only skip the README test command accepts."""
    pytest.skip(f"{UNSUPPORTED_PLATFORM} {why}")


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason of a skipped (or xfailed) report, as pytest shows it."""
    if hasattr(report, "wasxfail"):
        return f"xfail: {report.wasxfail or 'no reason given'}"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def forbidden_skip(report: pytest.TestReport | pytest.CollectReport) -> str | None:
    """Why this skipped report must count as a failure, or None when it may stand."""
    if not report.skipped:
        return None
    reason = skip_reason(report).removeprefix("Skipped: ")
    if reason.startswith(UNSUPPORTED_PLATFORM):
        return None
    return (f"skipped under the README test command (CI / QPKI_STRICT_SKIPS): {reason} "
            f"-- install what is missing (scripts/setup.sh) or fix the test; only "
            f"'{UNSUPPORTED_PLATFORM} <why>' skips are allowed")


def _fail_forbidden_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    problem = forbidden_skip(report) if STRICT_SKIPS else None
    if problem is not None:
        report.outcome = "failed"
        report.longrepr = problem
        if hasattr(report, "wasxfail"):
            del report.wasxfail


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    _fail_forbidden_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    outcome = yield
    _fail_forbidden_skip(outcome.get_result())

# --------------------------------------------------------------------------- hypothesis


try:  # hypothesis is a test dependency, but keep conftest importable without it
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "deterministic",
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("explore", deadline=None, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
except ImportError:  # pragma: no cover
    pass

# --------------------------------------------------------------------------- hsm tooling


def multiarch() -> str:
    """Debian's multiarch directory name for this machine: x86_64-linux-gnu
    on amd64, aarch64-linux-gnu on arm64."""
    return sysconfig.get_config_var("MULTIARCH") or f"{platform.machine()}-linux-gnu"


SOFTHSM_LIB_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    f"/usr/lib/{multiarch()}/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
# OpenSC's PKCS#11 call logger (Debian package opensc-pkcs11, installed by setup.sh).
PKCS11_SPY_CANDIDATES = (
    f"/usr/lib/{multiarch()}/pkcs11-spy.so",
    f"/usr/lib/{multiarch()}/pkcs11/pkcs11-spy.so",
    "/usr/lib64/pkcs11-spy.so",
    "/usr/lib/pkcs11-spy.so",
)


def find_pkcs11_spy() -> str | None:
    """Path of OpenSC's pkcs11-spy.so for this architecture, or None."""
    return next((c for c in PKCS11_SPY_CANDIDATES if Path(c).is_file()), None)


@pytest.fixture
def pkcs11_spy() -> str:
    """Path of pkcs11-spy.so (skipped when absent: a failure under the skip rule)."""
    spy = find_pkcs11_spy()
    if spy is None:
        pytest.skip("OpenSC's pkcs11-spy.so not found (Debian package opensc-pkcs11; "
                    "run scripts/setup.sh)")
    return spy


def find_softhsm_lib() -> str | None:
    """Path of libsofthsm2.so (``SOFTHSM2_LIB`` overrides), or None."""
    override = os.environ.get("SOFTHSM2_LIB")
    if override:
        return override if Path(override).is_file() else None
    for cand in SOFTHSM_LIB_CANDIDATES:
        if Path(cand).is_file():
            return cand
    return None


def hsm_tooling_problem() -> str | None:
    """Why HSM tests cannot run here, or None when everything is present."""
    missing = [t for t in ("softhsm2-util", "pkcs11-tool") if shutil.which(t) is None]
    if find_softhsm_lib() is None:
        missing.append("libsofthsm2.so")
    if missing:
        return (
            f"SoftHSM2 tooling missing: {', '.join(missing)} "
            "(run scripts/setup.sh, or apt-get install softhsm2 opensc)"
        )
    return None


HSM_FIXTURES = {"softhsm_token", "softhsm_factory"}


def pytest_configure(config: pytest.Config) -> None:
    # Also declared in pyproject.toml; repeated here so this conftest works
    # under --strict-markers from any rootdir.
    for line in ("hsm: needs SoftHSM2 and pkcs11-tool",
                 "ansible: runs ansible-playbook / ansible-test",
                 "slow: takes more than a few seconds"):
        config.addinivalue_line("markers", line)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    hsm = pytest.mark.hsm
    for item in items:
        if HSM_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(hsm)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("hsm") is not None:
        problem = hsm_tooling_problem()
        if problem:
            pytest.skip(problem)


def pytest_report_header(config: pytest.Config) -> list[str]:
    problem = hsm_tooling_problem()
    return [
        f"qpki: CI={IN_CI} strict_skips={STRICT_SKIPS} "
        f"softhsm={'missing: ' + problem if problem else find_softhsm_lib()}"
    ]


# --------------------------------------------------------------------------- SoftHSM2 token


def _run(argv: list[str], *, secrets_: Iterable[str] = (), **kw: Any) -> subprocess.CompletedProcess:
    """Run a helper tool; on failure raise with the PINs masked out of the message."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kw)
    if proc.returncode != 0:
        msg = f"{' '.join(argv)} -> exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        for s in secrets_:
            if s:
                msg = msg.replace(s, "***")
        raise RuntimeError(msg)
    return proc


def parse_softhsm_slots(text: str) -> list[dict[str, str]]:
    """Parse ``softhsm2-util --show-slots`` into [{slot, label, serial, initialized}]."""
    slots: list[dict[str, str]] = []
    cur: dict[str, str] | None = None
    for line in text.splitlines():
        m = re.match(r"^Slot (\d+)\s*$", line)
        if m:
            cur = {"slot": m.group(1), "label": "", "serial": "", "initialized": ""}
            slots.append(cur)
            continue
        if cur is None:
            continue
        m = re.match(r"^\s+(Label|Serial number|Initialized):\s*(.*?)\s*$", line)
        if m:
            key = {"Label": "label", "Serial number": "serial", "Initialized": "initialized"}[m.group(1)]
            # "Serial number" appears for the slot and the token; the token's wins.
            cur[key] = m.group(2)
    return slots


@dataclasses.dataclass
class SoftHsmToken:
    """One initialised SoftHSM2 token. ``pin`` is also exported as ``$HSM_PIN``."""

    lib: str
    label: str
    pin: str
    so_pin: str
    conf: Path
    tokendir: Path
    serial: str
    slot: int
    workdir: Path
    pin_env: str = "HSM_PIN"

    def config_dict(self, **overrides: Any) -> dict[str, Any]:
        """The hsm.yaml content as a dict; see :meth:`write_config`."""
        cfg: dict[str, Any] = {"type": "pkcs11"}
        p11: dict[str, Any] = {"lib": self.lib, "token": self.label, "pin_env": self.pin_env}
        for key, value in overrides.items():
            target = cfg if key == "type" else p11
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
        cfg["pkcs11"] = p11
        return cfg

    def write_config(self, path: str | os.PathLike | None = None, **overrides: Any) -> Path:
        """Write an hsm.yaml for this token and return its path.

        Default content::

            type: pkcs11
            pkcs11: {lib: <lib>, token: <label>, pin_env: HSM_PIN}

        ``overrides`` go into the ``pkcs11`` section (``type`` goes top level);
        ``None`` removes a key. Examples: ``write_config(token=None,
        token_serial=tok.serial)``, ``write_config(token=None, slot=tok.slot)``,
        ``write_config(pin="1234")`` (must be refused by qpki),
        ``write_config(logout_after_use=False)``.
        """
        import yaml  # runtime dependency of qpki

        path = Path(path) if path is not None else self.workdir / "hsm.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.config_dict(**overrides), sort_keys=False))
        return path

    def pkcs11_tool(self, *args: str, login: bool = False, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``pkcs11-tool --module <lib> --token-label <label> [--login --pin ...] *args``.

        An independent view of the token (e.g. ``tok.pkcs11_tool("--list-objects",
        login=True)``). The PIN is on pkcs11-tool's command line: test use only.
        """
        argv = ["pkcs11-tool", "--module", self.lib, "--token-label", self.label]
        if login:
            argv += ["--login", "--pin", self.pin]
        argv += list(args)
        if check:
            return _run(argv, secrets_=(self.pin, self.so_pin))
        return subprocess.run(argv, capture_output=True, text=True, check=False)

    def keygen(self, key_type: str = "EC:secp384r1", label: str = "root-ca-key",
               key_id: str | None = "01") -> subprocess.CompletedProcess:
        """Make a key pair with pkcs11-tool (not with qpki): ``EC:prime256v1``,
        ``EC:secp384r1``, ``EC:secp521r1``, ``rsa:2048``... ``key_id`` is hex."""
        args = ["--keypairgen", "--key-type", key_type, "--label", label]
        if key_id:
            args += ["--id", key_id]
        return self.pkcs11_tool(*args, login=True)

    def list_objects(self, login: bool = True) -> str:
        """``pkcs11-tool --list-objects`` output (private objects need login)."""
        return self.pkcs11_tool("--list-objects", login=login).stdout


def _softhsm_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Short paths: SoftHSM/pkcs11 error messages are easier to read.
    return tmp_path_factory.mktemp("hsm")


@pytest.fixture
def softhsm_factory(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                    ) -> Callable[..., SoftHsmToken]:
    """Factory for SoftHSM2 tokens sharing one private token directory.

    The first call sets ``SOFTHSM2_CONF``; each call sets ``HSM_PIN`` to that
    token's PIN (later calls win; pass ``pin_env=`` to use another variable).
    """
    problem = hsm_tooling_problem()
    if problem:
        pytest.skip(problem)
    lib = find_softhsm_lib()
    assert lib is not None
    workdir = _softhsm_workdir(tmp_path_factory)
    tokendir = workdir / "tokens"
    tokendir.mkdir(mode=0o700)
    conf = workdir / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokendir}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n"
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))

    def make(label: str = "CA-Token", pin: str | None = None, so_pin: str | None = None,
             pin_env: str = "HSM_PIN") -> SoftHsmToken:
        pin = pin or secrets.token_hex(8)
        so_pin = so_pin or secrets.token_hex(8)
        _run(["softhsm2-util", "--init-token", "--free", "--label", label,
              "--pin", pin, "--so-pin", so_pin], secrets_=(pin, so_pin))
        shown = _run(["softhsm2-util", "--show-slots"]).stdout
        matches = [s for s in parse_softhsm_slots(shown)
                   if s["label"] == label and s["initialized"] == "yes"]
        if not matches:
            raise RuntimeError(f"token {label!r} not found after init:\n{shown}")
        slot = matches[-1]  # newest (labels may repeat in tests that want that)
        monkeypatch.setenv(pin_env, pin)
        # SoftHSM2 reads SOFTHSM2_CONF in C_Initialize only: a library this
        # process loaded for an earlier test (qpki_cli in-process, ops called
        # directly) would still see that test's tokens, another CA-Token.
        from qpki.hsm.library import finalize_library

        finalize_library(lib)
        return SoftHsmToken(lib=lib, label=label, pin=pin, so_pin=so_pin, conf=conf,
                            tokendir=tokendir, serial=slot["serial"], slot=int(slot["slot"]),
                            workdir=workdir, pin_env=pin_env)

    return make


@pytest.fixture
def softhsm_token(softhsm_factory: Callable[..., SoftHsmToken]) -> SoftHsmToken:
    """A fresh SoftHSM2 token labelled ``CA-Token`` with random PINs; ``$HSM_PIN`` set."""
    return softhsm_factory("CA-Token")


@pytest.fixture(autouse=True)
def _no_inherited_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    """A PIN left in the developer's shell must not make a test pass by accident."""
    monkeypatch.delenv("HSM_PIN", raising=False)


# --------------------------------------------------------------------------- qpki CLI


class CliResult(subprocess.CompletedProcess):
    """``CompletedProcess`` (text mode) of one ``qpki`` run."""

    def json(self) -> Any:
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(
                f"qpki output is not JSON ({exc}): argv={self.args}\n"
                f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
            ) from None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:  # handy in assertion messages
        return (f"qpki exit {self.returncode}: {self.args}\n"
                f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}")


def qpki_command() -> list[str]:
    """argv prefix that runs the qpki console script of this interpreter's env."""
    script = Path(sys.executable).parent / "qpki"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    # Not installed as a script (e.g. running from a plain checkout): same entry point.
    return [sys.executable, "-c",
            "import sys; sys.argv[0] = 'qpki'; from qpki.cli.main import console_main; "
            "sys.exit(console_main())"]


# scripts/mutation.sh sets this: mutmut only sees the code that runs in the
# test's own process, so there ``qpki_cli`` calls the CLI's main() in-process
# (same argument parsing, operations and rendering; no interpreter start-up).
CLI_IN_PROCESS = _truthy(os.environ.get("QPKI_CLI_IN_PROCESS"))


def _main_in_process(args: list[str], cwd: str, env: dict[str, str],
                     input: str | None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``qpki.cli.main.main(args)`` run here,
    in ``cwd`` with ``env`` as the whole environment; both are restored."""
    import contextlib
    import io

    from qpki.cli.main import main

    saved_env, saved_cwd, saved_stdin = dict(os.environ), os.getcwd(), sys.stdin
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        sys.stdin = io.StringIO(input or "")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        sys.stdin = saved_stdin
    return code, out.getvalue(), err.getvalue()


def reset_qpki_caches() -> None:
    """Forget what was computed once per process and kept: qpki's algorithm
    registry, built profiles, CSR verifier table, and every lru_cache of
    qpki's modules and of the test helpers (keys, CSRs, CAs made once). Used
    under mutmut (below), whose mutant runs fork from a process where these
    were made by the unmutated code."""
    tests_dir = str(Path(__file__).resolve().parent)
    for name, module in list(sys.modules.items()):
        if module is None or not (name.startswith("qpki.") or
                                  str(getattr(module, "__file__", "")).startswith(tests_dir)):
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
    registry = sys.modules.get("qpki.algorithms.registry")
    if registry is not None:
        registry._BY_NAME, registry._COMPLETE = None, False
    loader = sys.modules.get("qpki.profiles.loader")
    if loader is not None:
        loader._CACHE.clear()
    cert = sys.modules.get("qpki.ops.cert.commands")
    if cert is not None:
        cert._native_verifiers = None


@pytest.fixture(autouse=True)
def _fresh_qpki_under_mutmut() -> None:
    if "MUTANT_UNDER_TEST" in os.environ:  # set by mutmut in its runs only
        reset_qpki_caches()


@pytest.fixture
def qpki_cli(tmp_path: Path) -> Callable[..., CliResult]:
    """Run ``qpki`` as a subprocess; default cwd is the test's ``tmp_path``."""

    def run(*args: str | os.PathLike, cwd: str | os.PathLike | None = None,
            env: Mapping[str, str | None] | None = None, input: str | None = None,
            timeout: float = 120, check: bool = False) -> CliResult:
        full_env = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = str(value)
        cli_args = [os.fspath(a) for a in args]
        argv = qpki_command() + cli_args
        if CLI_IN_PROCESS:
            code, stdout, stderr = _main_in_process(cli_args, os.fspath(cwd or tmp_path),
                                                    full_env, input)
            result = CliResult(argv, code, stdout, stderr)
        else:
            proc = subprocess.run(argv, cwd=os.fspath(cwd or tmp_path), env=full_env,
                                  input=input, capture_output=True, text=True, timeout=timeout,
                                  stdin=None if input is not None else subprocess.DEVNULL,
                                  check=False)
            result = CliResult(proc.args, proc.returncode, proc.stdout, proc.stderr)
        if check and result.returncode != 0:
            raise AssertionError(str(result))
        return result

    return run


# --------------------------------------------------------------------------- tree snapshots

Snapshot = dict[str, tuple[int, str | None]]


def tree_snapshot(path: str | os.PathLike, exclude: Iterable[str] = ()) -> Snapshot:
    """``{relpath: (mode, sha256)}`` for everything under ``path``.

    Files give ``(permission bits, sha256 hex of the content)``; directories
    give ``(permission bits, None)`` (so a new empty directory is noticed);
    symlinks give ``(0, "-> target")``. ``relpath`` uses ``/``. ``exclude``
    holds fnmatch patterns on relpath (e.g. ``"*.lock"``).
    """
    root = Path(path)
    snap: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if any(fnmatch.fnmatch(rel, pat) for pat in exclude):
                continue
            st = full.lstat()
            if stat.S_ISLNK(st.st_mode):
                snap[rel] = (0, "-> " + os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                snap[rel] = (stat.S_IMODE(st.st_mode), None)
            else:
                digest = hashlib.sha256(full.read_bytes()).hexdigest()
                snap[rel] = (stat.S_IMODE(st.st_mode), digest)
    return snap


def diff_snapshots(before: Snapshot, after: Snapshot) -> list[str]:
    """Human-readable differences, e.g. for ``assert not diff_snapshots(a, b)``."""
    out = []
    for rel in sorted(set(before) | set(after)):
        a, b = before.get(rel), after.get(rel)
        if a == b:
            continue
        if a is None:
            out.append(f"added    {rel}")
        elif b is None:
            out.append(f"removed  {rel}")
        elif a[0] != b[0]:
            out.append(f"mode     {rel}: {a[0]:o} -> {b[0]:o}")
        else:
            out.append(f"content  {rel}")
    return out


@pytest.fixture(name="tree_snapshot")
def tree_snapshot_fixture() -> Callable[..., Snapshot]:
    """The :func:`tree_snapshot` function, as a fixture."""
    return tree_snapshot


@pytest.fixture(name="diff_snapshots")
def diff_snapshots_fixture() -> Callable[[Snapshot, Snapshot], list[str]]:
    """The :func:`diff_snapshots` function, as a fixture."""
    return diff_snapshots


# --------------------------------------------------------------------------- misc helpers


def assert_no_secret(text: str, *secret_values: str) -> None:
    """Fail if any secret (PIN, passphrase) occurs in ``text``."""
    for value in secret_values:
        if value and value in text:
            raise AssertionError("a secret value appears in the output")


@pytest.fixture(name="assert_no_secret")
def assert_no_secret_fixture() -> Callable[..., None]:
    """The :func:`assert_no_secret` function, as a fixture."""
    return assert_no_secret


@pytest.fixture(scope="module")
def pg_server() -> Any:
    """A real PostgreSQL server (postgres_server) for the tests of one module."""
    from postgres_server import remove_server, start_server

    started = start_server()
    yield started
    remove_server(started)
