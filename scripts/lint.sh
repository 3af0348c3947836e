#!/usr/bin/env bash
# scripts/lint.sh - ruff (whole repository) and mypy (the core, as package
# "qpki"), with the settings in pyproject.toml. Run by pre-commit and by
# tests/unit/test_lint.py; needs the test extra (scripts/setup.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${QPKI_LINT_BIN:-$ROOT/.venv/bin}"

"$BIN/ruff" check --no-cache "$ROOT"

# The core lives in plugins/module_utils but is imported as "qpki": give mypy
# a folder where it has that name, and the repository's configuration.
TREE="$(mktemp -d "${TMPDIR:-/tmp}/qpki-mypy.XXXXXX")"
trap 'rm -rf "$TREE"' EXIT
ln -s "$ROOT/plugins/module_utils" "$TREE/qpki"
(cd "$TREE" && "$BIN/mypy" --config-file "$ROOT/pyproject.toml" --no-incremental \
    --python-executable "$BIN/python" -p qpki)
