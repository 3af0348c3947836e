"""qpki benchmarks (not tests): run ``.venv/bin/python -m bench``. See __main__.py."""
