"""Shared pieces of the "ensure" operation tests (tests/unit/test_ops_state.py,
tests/unit/test_credential_batch.py): a two-tier PKI and a byte-for-byte view
of a directory, to prove that a rerun signs and writes nothing."""

import os

from qpki.ops.ca.state import ca_ensure


def file_contents(root):
    """{relative path: bytes} of every file under root (the lock excluded)."""
    found = {}
    for folder, dummy, names in os.walk(root):
        for name in names:
            if name == ".lock":
                continue
            full = os.path.join(folder, name)
            with open(full, "rb") as handle:
                found[os.path.relpath(full, root)] = handle.read()
    return found


def two_tier_pki(tmp_path):
    """A root CA and an issuing CA (software keys) in tmp_path:
    ``(tmp_path, root_dir, issuing_dir)``."""
    root = str(tmp_path / "root")
    issuing = str(tmp_path / "issuing")
    ca_ensure(root, "ec/root-ca", {"cn": "Root"})
    ca_ensure(issuing, "ec/issuing-ca", {"cn": "Issuing"}, parent_dir=root)
    return tmp_path, root, issuing
