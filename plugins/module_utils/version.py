"""The release of qpki (kept equal to pyproject.toml and galaxy.yml by
tests/integration/test_cli_output_rules.py)."""

__version__ = "0.1.0"
