# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inputs shared by the two bad-input catalogues.

tests/reliability/test_bad_input_catalogue.py (CLI and ops, under pytest) and
tests/ansible/bad_input_setup.py (the workspace of tests/ansible/bad_input.yml,
run as a script) build the same hostile CSRs, DER and PEM blobs, profiles and
not-a-CA directory from the pieces below.
"""

import base64
import os
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID


def csr_pem(key=None, cn="host.example.com", sans=None):
    """A PEM CSR signed by ``key`` (a new P-256 key by default); ``cn`` is not
    validated, so that over-long or control-character names can be made."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    with warnings.catch_warnings():  # an over-long CN is the point of some cases
        warnings.simplefilter("ignore")
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn, _validate=False)])
    builder = x509.CertificateSigningRequestBuilder().subject_name(name)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM)


def pem_block(label, der):
    """``der`` (any bytes) in PEM armour labelled ``label``."""
    return b"-----BEGIN %s-----\n%s-----END %s-----\n" % (
        label.encode(), base64.encodebytes(der), label.encode())


def nested_sequences(depth):
    """``depth`` nested definite-length SEQUENCEs (DER-shaped, 100k deep)."""
    body = b""
    for dummy in range(depth):
        size = len(body)
        if size < 0x80:
            length = bytes([size])
        else:
            raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
            length = bytes([0x80 | len(raw)]) + raw
        body = b"\x30" + length + body
    return body


def profile_data(**changes):
    """A minimal valid custom profile, with ``changes`` applied on top."""
    data = {"algorithm": "ecdsa-p256", "validity": "30d",
            "variables": {"cn": {"type": "string"}}, "subject": {"cn": "{{ cn }}"}}
    data.update(changes)
    return data


ALL_VARS_PROFILE = {
    "name": "custom/all-vars",
    "description": "one variable of every type, each with a constraint",
    "algorithm": "ecdsa-p256",
    "validity": "30d",
    "variables": {
        "cn": {"type": "string", "required": True, "pattern": "[a-z0-9.-]+"},
        "org": {"type": "string", "enum": ["Acme", "Example"], "default": "Acme"},
        "port": {"type": "integer", "min": 1, "max": 65535, "default": 443},
        "flag": {"type": "boolean", "default": False},
        "tags": {"type": "list", "max_items": 2, "default": []},
        "host": {"type": "dns_name", "default": "a.example.com"},
        "dns_names": {"type": "dns_names", "max_items": 3, "default": []},
        "ips": {"type": "ip_list", "default": []},
        "mail": {"type": "email", "default": "a@example.com"},
        "url": {"type": "uri", "default": "https://example.com/"},
        "policy": {"type": "oid", "default": "1.2.3.4"},
        "life": {"type": "duration", "max": "90d", "default": "30d"},
        "short": {"type": "string", "min_length": 3, "default": "abc"},
    },
    "subject": {"cn": "{{ cn }}", "o": "{{ org }}"},
    "extensions": {
        "basicConstraints": {"ca": False, "critical": True},
        "keyUsage": {"usages": ["digitalSignature"], "critical": True},
    },
}

SHORT_ROOT_PROFILE = {
    "name": "custom/short-root",
    "algorithm": "ecdsa-p256",
    "validity": "10d",
    "variables": {"cn": {"type": "string", "required": True}},
    "subject": {"cn": "{{ cn }}"},
    "extensions": {
        "basicConstraints": {"ca": True, "path_len": 0, "critical": True},
        "keyUsage": {"usages": ["keyCertSign", "cRLSign"], "critical": True},
    },
}

# For a root made in the past (expired): pathLen 1, so that expiry is the only
# reason to refuse a subordinate CA.
OLD_ROOT_PROFILE = dict(SHORT_ROOT_PROFILE, name="custom/old-root", extensions=dict(
    SHORT_ROOT_PROFILE["extensions"], basicConstraints={"ca": True, "path_len": 1, "critical": True}))


def make_not_a_ca(ca_dir):
    """Replace ca.crt by a self-signed CA:FALSE certificate for the same key
    (``ca_dir``: an ``ec/root-ca`` directory, as str or path)."""
    with open(os.path.join(ca_dir, "private", "ca.ecdsa-p384.key"), "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), None)
    with open(os.path.join(ca_dir, "ca.crt"), "rb") as handle:
        old = x509.load_pem_x509_certificate(handle.read())
    cert = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(old.subject)
            .serial_number(old.serial_number).not_valid_before(old.not_valid_before_utc)
            .not_valid_after(old.not_valid_after_utc).public_key(key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .sign(key, hashes.SHA384()))
    with open(os.path.join(ca_dir, "ca.crt"), "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
