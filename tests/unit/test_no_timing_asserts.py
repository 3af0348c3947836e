"""No test asserts on how long something took (issue 20, item 5): on a
loaded 2-core machine such an assert fails for no reason, or passes for the
wrong one. Speed goals live in bench/. A test observes waiting and ordering
through events, logs or a clock it controls (see test_store_lock.py).

An assert is flagged when it reads a clock (time.monotonic, time.time,
time.perf_counter, ...) or a name computed by arithmetic from one."""

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
CLOCKS = {"monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "time", "time_ns",
          "process_time"}


def _is_clock_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in CLOCKS and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "time")


def _timed(node: ast.AST, names: set[str]) -> bool:
    """A clock reading, or arithmetic on clock readings and timed names."""
    if _is_clock_call(node):
        return True
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.BinOp):
        return _timed(node.left, names) or _timed(node.right, names)
    if isinstance(node, ast.UnaryOp):
        return _timed(node.operand, names)
    return False


def timing_asserts(source: str) -> list[int]:
    """Line numbers of asserts that read a clock."""
    tree = ast.parse(source)
    names: set[str] = set()
    for node in ast.walk(tree):  # names that hold a time or a duration
        if isinstance(node, ast.Assign) and _timed(node.value, names):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    flagged = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and any(
                _is_clock_call(sub) or (isinstance(sub, ast.Name) and sub.id in names)
                for sub in ast.walk(node.test)):
            flagged.append(node.lineno)
    return sorted(flagged)


def test_no_test_asserts_on_time():
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        if "vectors" in path.relative_to(TESTS).parts:
            continue
        for line in timing_asserts(path.read_text()):
            found.append(f"{path.relative_to(TESTS.parent)}:{line}")
    assert not found, "timing asserts (move speed goals to bench/):\n" + "\n".join(found)


@pytest.mark.parametrize("source", [
    "started = time.monotonic()\nwaited = time.monotonic() - started\nassert 0.25 <= waited < 5",
    "started = time.monotonic()\nassert time.monotonic() - started < 1",
    "t0 = time.perf_counter()\nassert time.perf_counter() - t0 < 2",
])
def test_a_planted_timing_assert_is_found(source):
    assert timing_asserts(source) == [source.count("\n") + 1]


@pytest.mark.parametrize("source", [
    "assert profile.validity == datetime.timedelta(days=90)",
    "stats = dict(h.stats, seconds=round(time.monotonic() - started, 1))\n"
    "assert stats['kills'] == 300",
    "old = time.time() - 3600\nos.utime(p, (old, old))\nassert not p.exists()",
])
def test_ordinary_asserts_are_left_alone(source):
    assert timing_asserts(source) == []
