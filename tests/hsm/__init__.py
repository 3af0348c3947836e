"""PKCS#11 / SoftHSM2 tests (package so test modules can share helpers)."""
