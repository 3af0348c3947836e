"""The core's layers (docs/ARCHITECTURE.md): imports point down only, and
no package of the core imports another package of its own rank or above.

Ranks, lowest first. A module may import modules of its own package and of
any package with a lower rank, never one of the same or a higher rank.
Lazy imports inside functions count the same as top-level ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "plugins" / "module_utils"

RANKS = {
    "display_text": -1,  # the escaping every error message goes through
    "errors": 0, "dependencies": 0, "version": 0,
    # shared leaves above the errors: DER helpers, plain value types, the capped
    # input reader, process hygiene, the progress callback type
    "der": 1, "revocation": 1, "input_file": 1, "process_hygiene": 1, "env_secret": 1,
    "progress": 1,
    "safe_yaml": 2,  # the one YAML loader (HSM config, profiles, var files)
    "algorithms": 2,
    "hsm": 3,
    "signer": 4,
    "x509": 5, "profiles": 5, "store": 5,
    "ops": 6,
    "cli": 7, "module_support": 7, "module_argspec": 7,
}


def _package_of(path: Path) -> str:
    rel = path.relative_to(CORE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imported_packages(rel_dir: list[str], source: str) -> list[tuple[int, str]]:
    """(line, top-level core package) of each relative import in ``source``,
    a module in the core folder ``rel_dir``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        base = rel_dir[: len(rel_dir) - (node.level - 1)]
        target = base + (node.module.split(".") if node.module else [])
        if target:
            found.append((node.lineno, target[0]))
        else:  # "from .. import x": x is a top-level module or package
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def _core_files() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if p.name != "__init__.py" or p.parent != CORE)


def test_every_core_package_has_a_rank():
    packages = {_package_of(p) for p in _core_files()}
    assert packages - RANKS.keys() == set(), "give the new package a rank in RANKS"


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(CORE)))
def test_imports_point_down(path: Path):
    own = _package_of(path)
    wrong = [f"{path.relative_to(CORE)}:{line} imports {target} (rank {RANKS.get(target)}"
             f" >= {own}'s {RANKS[own]})"
             for line, target in _imported_packages(list(path.relative_to(CORE).parts[:-1]),
                                                    path.read_text(encoding="utf-8"))
             if target != own and RANKS.get(target, 99) >= RANKS[own]]
    assert wrong == []


def test_the_scan_sees_lazy_and_package_imports():
    source = "from . import index\ndef f():\n    from ..ops import ca\n    from .. import cli\n"
    assert _imported_packages(["store"], source) == [(1, "store"), (3, "ops"), (4, "cli")]
    assert RANKS["ops"] >= RANKS["store"] and RANKS["cli"] >= RANKS["store"]
