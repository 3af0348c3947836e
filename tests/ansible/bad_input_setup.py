# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workspace of tests/ansible/bad_input.yml (run.sh step "badinput").

Usage: python bad_input_setup.py BASE HSM_CONFIG

Builds, under BASE, the CA and credential directories, CSRs, profiles and
HSM configurations the catalogue's cases feed to the modules. Everything is
made with the qpki core (ops) and cryptography; the HSM-backed CA gets a new
key in the token named by HSM_CONFIG (PIN from $HSM_PIN). The file of one
case, hsm/pin-stored.yaml, holds $WRONG_PIN, so run.sh's PIN check also
proves that a PIN found in a configuration file is never echoed.
"""

import datetime
import os
import shutil
import sys

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

# run.sh runs this file as a script: put tests/ on the path for the pieces it
# shares with tests/reliability/test_bad_input_catalogue.py.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hostile_inputs import (ALL_VARS_PROFILE, OLD_ROOT_PROFILE, SHORT_ROOT_PROFILE, csr_pem,  # noqa: E402
                            make_not_a_ca, nested_sequences, pem_block, profile_data)
from qpki.ops.ca.commands import ca_init  # noqa: E402
from qpki.ops.ca.keys import KeyRequest  # noqa: E402
from qpki.ops.cert.commands import cert_issue  # noqa: E402
from qpki.ops.cert.revoke import cert_revoke  # noqa: E402
from qpki.ops.credential.enroll import credential_enroll  # noqa: E402
from qpki.ops.crl.commands import crl_gen  # noqa: E402

PASSPHRASE = b"correct horse battery staple"
SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def edit(path, old, new):
    with open(path, "rb") as handle:
        data = handle.read()
    if old is None:
        data = data + new
    else:
        if old not in data:
            raise SystemExit("%s: %r not found" % (path, old))
        data = data.replace(old, new)
    write(path, data)


def profile_text(**changes):
    return yaml.safe_dump(profile_data(**changes))


def inputs(base):
    good = csr_pem(sans=[x509.DNSName("host.example.com")])
    der = x509.load_pem_x509_csr(good).public_bytes(serialization.Encoding.DER)
    write(base + "/in/good.csr", good)
    write(base + "/in/garbage.csr", b"-----BEGIN CERTIFICATE REQUEST-----\n!!!*** not base64 ***!!!\n"
                                    b"-----END CERTIFICATE REQUEST-----\n")
    write(base + "/in/random.csr", pem_block("CERTIFICATE REQUEST", os.urandom(300)))
    write(base + "/in/truncated.csr", good[:len(good) // 2])
    write(base + "/in/truncated.der", der[:len(der) // 2])
    write(base + "/in/trailing.der", der + b"\0junk")
    bad_signature = bytearray(der)
    bad_signature[-5] ^= 0x01  # inside the ECDSA signature's s
    write(base + "/in/badsig.csr", pem_block("CERTIFICATE REQUEST", bytes(bad_signature)))
    write(base + "/in/ed25519.csr", csr_pem(ed25519.Ed25519PrivateKey.generate()))
    write(base + "/in/p384.csr", csr_pem(ec.generate_private_key(ec.SECP384R1())))
    write(base + "/in/rsa1024.csr", csr_pem(rsa.generate_private_key(65537, 1024)))
    write(base + "/in/longcn.csr", csr_pem(cn="a" * 10000))
    write(base + "/in/ctrlcn.csr", csr_pem(cn="x\nV\t991231235959Z\t\t01\tunknown\t/CN=evil"))
    write(base + "/in/nulsan.csr", csr_pem(sans=[x509.DNSName("evil\x00.example.com")]))
    write(base + "/in/deep.der", nested_sequences(100000))
    write(base + "/in/huge.pem", pem_block("CERTIFICATE REQUEST", os.urandom(4 << 20)))
    os.makedirs(base + "/in/a-directory.csr", exist_ok=True)
    write(base + "/in/keep", b"")  # the directories above must stay as they are


def profiles(base):
    write(base + "/profiles/allvars.yaml", yaml.safe_dump(ALL_VARS_PROFILE))
    write(base + "/profiles/shortroot.yaml", yaml.safe_dump(SHORT_ROOT_PROFILE))
    write(base + "/profiles/oldroot.yaml", yaml.safe_dump(OLD_ROOT_PROFILE))
    write(base + "/profiles/unknown-field.yaml", profile_text(owner="mallory"))
    write(base + "/profiles/unknown-extension.yaml",
          profile_text(extensions={"fooBar": {"critical": True}}))
    write(base + "/profiles/unknown-extension-field.yaml", profile_text(
        extensions={"keyUsage": {"usages": ["digitalSignature"], "colour": "red"}}))
    write(base + "/profiles/unknown-variable-type.yaml",
          profile_text(variables={"cn": {"type": "blob"}}))
    write(base + "/profiles/unknown-constraint.yaml",
          profile_text(variables={"cn": {"type": "string", "maxlen": 3}}))
    write(base + "/profiles/unknown-algorithm.yaml", profile_text(algorithm="ecdsa-p999"))
    write(base + "/profiles/bad-validity.yaml", profile_text(validity="forever"))
    write(base + "/profiles/undeclared-variable.yaml", profile_text(subject={"cn": "{{ nope }}"}))
    write(base + "/profiles/syntax.yaml", "algorithm: [ecdsa-p256\nvalidity: 30d\n")
    write(base + "/profiles/python-tag.yaml", "algorithm: ecdsa-p256\nvalidity: 30d\n"
                                              "description: !!python/object/apply:os.system ['touch pwned']\n")


def hsm_configs(base, good_config):
    with open(good_config, "r", encoding="utf-8") as handle:
        good = yaml.safe_load(handle)

    def config(name, kind="pkcs11", **pkcs11):
        section = dict(good["pkcs11"])
        for key, value in pkcs11.items():
            if value is None:
                section.pop(key, None)
            else:
                section[key] = value
        write(base + "/hsm/" + name, yaml.safe_dump({"type": kind, "pkcs11": section}))

    config("pin-stored.yaml", pin=os.environ["WRONG_PIN"])
    config("unknown-token.yaml", token="No-Such-Token")
    config("unset-pin-env.yaml", pin_env="QPKI_BADINPUT_UNSET_PIN")
    config("no-pin-env.yaml", pin_env=None)
    config("missing-lib.yaml", lib="/nonexistent/libpkcs11.so")
    config("not-a-lib.yaml", lib="/etc/passwd")
    config("unknown-type.yaml", kind="tpm")
    config("two-selectors.yaml", slot=0)
    write(base + "/hsm/syntax.yaml", "type: pkcs11\npkcs11: {lib: %s, token: [CA-Token\n" % SOFTHSM_LIB)
    write(base + "/hsm/not-a-mapping.yaml", "- pkcs11\n- softhsm\n")


def authorities(base, good_config):
    past = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) \
        - datetime.timedelta(days=400)
    shortroot = base + "/profiles/shortroot.yaml"
    ca_init(base + "/ca", "ec/issuing-ca", {"cn": "Bad Input Issuing CA"})
    cert_issue(base + "/ca", "ec/tls-server", csr_pem(cn="valid.example.com"))
    revoked = cert_issue(base + "/ca", "ec/tls-server", csr_pem(cn="revoked.example.com"))
    cert_revoke(base + "/ca", revoked.serial, "superseded")
    write(base + "/in/revoked.serial", revoked.serial)
    crl_gen(base + "/ca")
    ca_init(base + "/root", "ec/root-ca", {"cn": "Bad Input Root"})
    # Expired, with pathLen 1 so that expiry is the only reason to refuse a subordinate CA.
    ca_init(base + "/oldroot", base + "/profiles/oldroot.yaml", {"cn": "Old Root"}, now=past)
    ca_init(base + "/root0", shortroot, {"cn": "PathLen 0 Root"})
    ca_init(base + "/notca", "ec/root-ca", {"cn": "Not A CA"})
    make_not_a_ca(base + "/notca")
    ca_init(base + "/enc", "ec/issuing-ca", {"cn": "Encrypted"}, passphrase=PASSPHRASE)
    ca_init(base + "/hsmca", "ec/root-ca", {"cn": "Bad Input HSM Root"},
            key=KeyRequest(hsm_config=good_config, key_label="badinput-root", generate_key=True))
    credential_enroll(base + "/ca", base + "/creds", "ec/tls-server",
                      {"cn": "cred.example.com"}, credential_id="existing")
    # Damaged copies of the issuing CA.
    for name in ("ca-mode", "ca-index", "ca-meta", "ca-audit"):
        shutil.copytree(base + "/ca", base + "/" + name, symlinks=True)
    os.chmod(base + "/ca-mode/private/ca.ecdsa-p256.key", 0o640)
    edit(base + "/ca-index/index.txt", None, b"this is not an index line\n")
    edit(base + "/ca-meta/ca.meta.json", b'"private/ca.ecdsa-p256.key"', b'"private/../../etc/shadow"')
    edit(base + "/ca-audit/audit.log", None, b'{"seq":99,"op":"cert.iss')


def main(argv):
    base, good_config = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    if os.path.exists(base):
        raise SystemExit("%s exists" % base)
    inputs(base)
    profiles(base)
    hsm_configs(base, good_config)
    authorities(base, good_config)


if __name__ == "__main__":
    main(sys.argv)
