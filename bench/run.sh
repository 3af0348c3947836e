#!/usr/bin/env bash
# Run the qpki benchmarks and regenerate docs/PERFORMANCE.md (options: --help).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
QPKI_EXTRAS="test,bench" bash scripts/setup.sh
exec "$ROOT/.venv/bin/python" -m bench "$@"
