"""PKCS#11 HSM support: configuration, PIN, sessions, keys, diagnostics.

Nothing here imports ``pkcs11`` (python-pkcs11) at module level: only code
that really talks to a token pays for loading it.
"""
