"""Type-hint coverage of the qpki core: functions fully annotated / all functions, per package.

Usage: .venv/bin/python scripts/type_coverage.py [PACKAGE ...]   (default: every package of plugins/module_utils)

A function counts as annotated when mypy's disallow_untyped_defs accepts it: every parameter
but a method's self/cls has a type, and so does the return value (``__init__`` may leave the
return out when a parameter is typed). Nested functions and methods count like the others.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "plugins" / "module_utils"


def _annotated(function: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool) -> bool:
    args = function.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if in_class and params and params[0].arg in ("self", "cls") and not any(
            isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list):
        params = params[1:]
    params += [a for a in (args.vararg, args.kwarg) if a is not None]
    if any(p.annotation is None for p in params):
        return False
    return function.returns is not None or (function.name == "__init__" and bool(params))


def _functions(tree: ast.AST) -> list[bool]:
    """Whether each function of ``tree`` is annotated."""
    found: list[bool] = []

    def visit(node: ast.AST, in_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append(_annotated(child, in_class))
                visit(child, False)
            else:
                visit(child, isinstance(child, ast.ClassDef))

    visit(tree, False)
    return found


def _package_of(path: Path) -> str:
    rel = path.relative_to(CORE)
    return rel.parts[0] if len(rel.parts) > 1 else "(top-level modules)"


def coverage(packages: list[str]) -> dict[str, tuple[int, int]]:
    """package -> (annotated functions, all functions)."""
    counts: dict[str, tuple[int, int]] = {}
    for path in sorted(CORE.rglob("*.py")):
        package = _package_of(path)
        if packages and package not in packages:
            continue
        flags = _functions(ast.parse(path.read_text(encoding="utf-8")))
        typed, total = counts.get(package, (0, 0))
        counts[package] = (typed + sum(flags), total + len(flags))
    return counts


def main(argv: list[str]) -> int:
    counts = coverage(argv)
    width = max(len(name) for name in counts)
    all_typed = all_total = 0
    for package, (typed, total) in sorted(counts.items()):
        all_typed, all_total = all_typed + typed, all_total + total
        print(f"{package:<{width}}  {typed:5d} / {total:5d}  {100 * typed / max(total, 1):5.1f}%")
    print(f"{'total':<{width}}  {all_typed:5d} / {all_total:5d}  {100 * all_typed / max(all_total, 1):5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
