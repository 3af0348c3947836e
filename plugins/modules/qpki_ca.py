#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: qpki_ca
short_description: Create a root or subordinate X.509 CA (software, HSM or hybrid keys)
version_added: "0.1.0"
description:
  - Ensures a CA directory exists, made from a qpki profile and its variables.
  - A root CA is self-signed. A subordinate CA is signed by O(parent_ca_dir) on the same host,
    or, when its parent is on another host (an offline root), made in two steps that never move
    a private key. First the key and a CSR are created (O(csr_path)); the CA is then I(pending).
    The parent issues the certificate from that CSR with M(qpki.pki.qpki_cert) (for example
    with C(delegate_to)). A second run of this module with O(ca_cert_content) or O(ca_cert_path)
    installs the certificate and completes the CA.
  - The CA key is a software key file (mode 0600, optionally encrypted with O(ca_passphrase)), or a
    key in a PKCS#11 token (O(hsm_config), O(key_label) and/or O(key_id), optionally created by
    O(generate_key)). HSM mode accepts classical profiles only (C(ec/*), C(rsa/*)).
  - When the CA already exists the module reports C(changed=false) if its profile, subject,
    parent and key storage are the ones asked for, and fails naming every difference otherwise.
  - An existing CA is re-keyed only through O(rotate_before) - when its active certificate
    expires within that window, a new version of the CA is made with O(profile) and the key
    options (a root's old and new keys cross-certify each other; a subordinate's new version is
    certified by O(parent_ca_dir)). See C(docs/LIFECYCLE.md).
requirements:
  - python-pkcs11 and a PKCS#11 library for HSM keys
extends_documentation_fragment:
  - qpki.pki.qpki
  - qpki.pki.qpki.hsm_key
  - qpki.pki.qpki.passphrase
  - ansible.builtin.files
attributes:
  check_mode:
    details: Nothing is created, signed or written; the result predicts the CA.
  diff_mode:
    support: full
options:
  state:
    description:
      - C(present) creates the CA when missing and checks it when it exists.
    type: str
    choices: [present]
    default: present
  ca_dir:
    description:
      - The CA directory (C(ca.meta.json), C(ca.crt), C(index.txt), C(certs/), C(crl/), C(private/)).
    type: path
    required: true
  profile:
    description:
      - A builtin CA profile (C(ec/root-ca), C(ec/issuing-ca), C(rsa/root-ca), C(ml/root-ca),
        C(hybrid/catalyst/root-ca)...) or the path of a YAML profile on the managed host.
    type: str
    required: true
  vars:
    description:
      - The profile's variables, for example V(cn) and V(o) for C(ec/root-ca).
    type: dict
    default: {}
  parent_ca_dir:
    description:
      - Directory of the parent CA on the same host; the new CA is a subordinate CA signed by it.
      - Mutually exclusive with O(csr_path), O(ca_cert_path) and O(ca_cert_content).
    type: path
  parent_passphrase:
    description:
      - Passphrase of the parent CA's software key.
    type: str
  parent_passphrase_env:
    description:
      - Name of an environment variable holding the parent CA key passphrase.
    type: str
  csr_path:
    description:
      - Make a subordinate CA whose parent is on another host. The key and a CSR are created
        and the CSR is copied to this path; the CA stays I(pending) until its certificate is
        installed with O(ca_cert_content) or O(ca_cert_path).
      - Also returned as RV(csr) so that it can be passed to M(qpki.pki.qpki_cert) on the parent's host.
    type: path
  ca_cert_path:
    description:
      - Certificate issued by the remote parent for this CA's CSR (PEM file on the managed host).
    type: path
  ca_cert_content:
    description:
      - Certificate issued by the remote parent for this CA's CSR (PEM text).
    type: str
  chain_path:
    description:
      - The parent's chain (the parent's certificate first, the root last), PEM file.
    type: path
  chain_content:
    description:
      - The parent's chain (the parent's certificate first, the root last), PEM text.
    type: str
  generate_key:
    description:
      - Generate the key in the token when no key with O(key_label)/O(key_id) exists there yet.
        An existing key is used as it is, after checking that it suits the profile's algorithm.
    type: bool
    default: false
  ca_passphrase:
    description:
      - Passphrase that encrypts a new software CA key (and decrypts it later).
      - The former name C(passphrase) still works and is deprecated (removed in 0.2.0).
    type: str
    aliases: [passphrase]
  crl_url:
    description:
      - CRL distribution point that every certificate this CA issues carries (unless its profile
        or its variables give one). An empty string removes it; not given, it is left as it is.
      - Recorded in C(ca.meta.json); changing it changes the certificates issued from then on.
      - It may name the signing CA version, C({version}) (for example
        C(http://pki.example/crl/{version}/ca.crl)), so that after a rotation each version's
        certificates point at the CRL that version signs (C(crl/<version>/ca.crl)).
    type: str
  ocsp_url:
    description:
      - OCSP responder URL for the authorityInfoAccess of every certificate this CA issues
        (not of OCSP-responder certificates). Same rules as O(crl_url).
    type: str
  ca_issuers_url:
    description:
      - Where this CA's certificate is published (authorityInfoAccess caIssuers). Same rules as
        O(crl_url).
    type: str
  store_dsn_env:
    description:
      - Keep the new CA's certificates in a PostgreSQL database. The value is the name of the
        environment variable (set it with the task's C(environment) keyword, from a vault) that
        holds the connection string; only the name is recorded in C(ca.meta.json).
      - Default is C(ca.db), an SQLite file in the CA directory. Used when the CA is created
        (for a CA signed elsewhere, O(csr_path), when its request is made).
    type: str
  rotate_before:
    description:
      - Rotate the CA (new key, new version, made active) when its active certificate expires
        within this duration, for example V(365d). Otherwise nothing is signed and the CA is
        checked as usual.
      - A rotation into a token needs a key label (O(key_label)) that the active version does not
        use.
      - Not with O(csr_path) (a CA completed from a CSR is rotated where its parent is).
    type: str
  return_content:
    description:
      - Return the CA certificate (and chain) PEM in RV(certificate) and RV(chain).
    type: bool
    default: false
  unencrypted_key:
    description:
      - Write a software CA key without a passphrase on purpose (a demo, a test). Without it, a
        CA key file written without O(ca_passphrase) is named in a warning.
    type: bool
    default: false
notes:
  - Files written by this module are applied O(mode), O(owner) and O(group) (C(ca.crt) and
    C(chain.crt)); private keys always stay mode 0600 in a 0700 directory.
seealso:
  - module: qpki.pki.qpki_cert
  - module: qpki.pki.qpki_hsm_key
  - module: community.crypto.x509_certificate
"""

EXAMPLES = r"""
- name: Root CA with its key in a SoftHSM2 token (PIN from Ansible Vault)
  qpki.pki.qpki_ca:
    ca_dir: /srv/pki/root
    profile: ec/root-ca
    vars:
      cn: Example Root CA
    hsm_config: /etc/qpki/hsm.yaml
    key_label: root-ca-key
    generate_key: true
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"

- name: Issuing CA signed by a root CA directory on the same host
  qpki.pki.qpki_ca:
    ca_dir: /srv/pki/issuing
    profile: ec/issuing-ca
    vars:
      cn: Example Issuing CA
    parent_ca_dir: /srv/pki/root
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"

- name: Issuing CA whose root is offline, step 1 - key and CSR
  qpki.pki.qpki_ca:
    ca_dir: /srv/pki/issuing
    profile: ec/issuing-ca
    vars:
      cn: Example Issuing CA
    csr_path: /srv/pki/issuing.csr
  register: issuing

- name: Step 2 - the root signs the CSR on its own host
  qpki.pki.qpki_cert:
    ca_dir: /srv/pki/root
    profile: ec/issuing-ca
    csr_content: "{{ issuing.csr }}"
    vars:
      cn: Example Issuing CA
    path: /srv/pki/root/issued/issuing.crt
    return_content: true
  delegate_to: root-host
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"
  register: signed

- name: Step 3 - install the certificate, which completes the CA
  qpki.pki.qpki_ca:
    ca_dir: /srv/pki/issuing
    profile: ec/issuing-ca
    vars:
      cn: Example Issuing CA
    csr_path: /srv/pki/issuing.csr
    ca_cert_content: "{{ signed.certificate }}"
    chain_content: "{{ signed.chain }}"
"""

RETURN = r"""
state:
  description: C(complete) for a usable CA, C(pending) while a remote parent has not signed its CSR.
  returned: always
  type: str
  sample: complete
ca_dir:
  description: Absolute path of the CA directory.
  returned: always
  type: str
subject:
  description: Subject of the CA certificate (RFC 4514), or the requested subject.
  returned: always
  type: str
  sample: CN=Example Root CA
issuer:
  description: Issuer of the CA certificate (RFC 4514).
  returned: when the CA is complete
  type: str
serial:
  description: Serial number of the CA certificate (hex).
  returned: when the CA is complete
  type: str
not_before:
  description: Start of validity (RFC 3339, UTC).
  returned: when the CA is complete
  type: str
not_after:
  description: End of validity (RFC 3339, UTC).
  returned: when the CA is complete
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the CA certificate (hex, upper case).
  returned: when the CA is complete
  type: str
profile:
  description: The CA's profile.
  returned: always
  type: str
algorithms:
  description: Algorithms of the CA keys.
  returned: always
  type: list
  elements: str
  sample: [ecdsa-p384]
keys:
  description: The CA keys as stored in C(ca.meta.json) (id, algorithm, storage).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "default", "algorithm": "ecdsa-p384",
            "storage": {"type": "pkcs11", "config": "/etc/qpki/hsm.yaml", "label": "root-ca-key"}}]
cert_path:
  description: Path of the CA certificate (C(ca.crt)).
  returned: when the CA is complete
  type: str
chain_path:
  description: Path of C(chain.crt) (subordinate CAs only).
  returned: when the CA is complete
  type: str
csr:
  description: This CA's CSR (PEM) when it was made for a remote parent.
  returned: when the CA has a CSR
  type: str
csr_path:
  description: Path of the CSR in the CA directory.
  returned: when the CA has a CSR
  type: str
certificate:
  description: The CA certificate (PEM).
  returned: when O(return_content=true) and the CA is complete
  type: str
chain:
  description: The CA chain (PEM, this CA first).
  returned: when O(return_content=true) and the CA is complete
  type: str
active_version:
  description: The CA's active version (C(v1) until its first rotation).
  returned: when the CA is complete
  type: str
  sample: v2
rotated:
  description: The version a rotation made in this run (O(rotate_before)), else null.
  returned: always
  type: str
  sample: v2
urls:
  description: The CRL, OCSP and CA-issuers URLs the CA's certificates carry, when any URL
    option was given.
  returned: when O(crl_url), O(ocsp_url) or O(ca_issuers_url) is given
  type: dict
  sample: {crl: "http://pki.example.com/crl/issuing.crl", ocsp: "http://ocsp.example.com/"}
"""

import os

from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.qpki.pki.plugins.module_utils.input_file import read_input
from ansible_collections.qpki.pki.plugins.module_utils.module_argspec import create_module, passphrase_options
from ansible_collections.qpki.pki.plugins.module_utils.module_support import (
    abs_path, apply_file_attributes, check_dependencies, key_request, run_op, secret,
    values)
from ansible_collections.qpki.pki.plugins.module_utils.ops.ca.rotation_state import ca_ensure_rotated
from ansible_collections.qpki.pki.plugins.module_utils.ops.ca.url_commands import ca_urls_ensure
from ansible_collections.qpki.pki.plugins.module_utils.ops.ca.urls import requested_urls
from ansible_collections.qpki.pki.plugins.module_utils.ops.ca.state import ca_install, ca_request
from ansible_collections.qpki.pki.plugins.module_utils.process_hygiene import disable_core_dumps
from ansible_collections.qpki.pki.plugins.module_utils.store.ca_dir import ca_dir_state


def _read(module, path, what):
    return run_op(module, read_input, path, what)


def _content(module, path_option, content_option, what):
    if module.params.get(content_option):
        return module.params[content_option].encode("utf-8")
    if module.params.get(path_option):
        return _read(module, module.params[path_option], what)
    return None


def main():
    disable_core_dumps()  # before the arguments (passphrases) and the PIN are read
    module = create_module(
        AnsibleModule, _load_params,
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present"]),
            ca_dir=dict(type="path", required=True),
            profile=dict(type="str", required=True),
            vars=dict(type="dict", default={}),
            parent_ca_dir=dict(type="path"),
            parent_passphrase=dict(type="str", no_log=True),
            parent_passphrase_env=dict(type="str", no_log=False),
            csr_path=dict(type="path"),
            ca_cert_path=dict(type="path"),
            ca_cert_content=dict(type="str"),
            chain_path=dict(type="path"),
            chain_content=dict(type="str"),
            hsm_config=dict(type="path"),
            key_label=dict(type="str", no_log=False),
            key_id=dict(type="str"),
            generate_key=dict(type="bool", default=False),
            **passphrase_options("ca"),
            return_content=dict(type="bool", default=False),
            unencrypted_key=dict(type="bool", default=False),
            rotate_before=dict(type="str"),
            store_dsn_env=dict(type="str"),
            crl_url=dict(type="str"),
            ocsp_url=dict(type="str"),
            ca_issuers_url=dict(type="str"),
        ),
        mutually_exclusive=[
            ["parent_ca_dir", "csr_path"],
            ["parent_ca_dir", "ca_cert_path"],
            ["parent_ca_dir", "ca_cert_content"],
            ["ca_cert_path", "ca_cert_content"],
            ["chain_path", "chain_content"],
            ["ca_passphrase", "ca_passphrase_env"],
            ["parent_passphrase", "parent_passphrase_env"],
            ["csr_path", "rotate_before"],
        ],
        required_by={
            "key_label": "hsm_config",
            "key_id": "hsm_config",
            "chain_path": "csr_path",
            "chain_content": "csr_path",
            "ca_cert_path": "csr_path",
            "ca_cert_content": "csr_path",
        },
        required_if=[["generate_key", True, ["hsm_config", "key_label"]]],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    check_dependencies(module, missing_required_lib)
    params = module.params
    ca_dir = abs_path(params["ca_dir"])
    key = key_request(module, secret(module, "ca_passphrase", "ca_passphrase_env"))
    check = module.check_mode

    before_state = ca_dir_state(ca_dir)
    if params["csr_path"]:
        cert_data = _content(module, "ca_cert_path", "ca_cert_content", "CA certificate")
        chain_data = _content(module, "chain_path", "chain_content", "CA chain")
        result = run_op(module, ca_request, ca_dir, params["profile"], values(module), key=key,
                        csr_out=abs_path(params["csr_path"]), check_mode=check,
                        store_dsn_env=params["store_dsn_env"]).to_dict()
        if cert_data is not None:
            installed = run_op(module, ca_install, ca_dir, cert_data, chain_data,
                               check_mode=check,
                               cert_where=params["ca_cert_path"] or "ca_cert_content",
                               chain_where=params["chain_path"] or "chain_content").to_dict()
            installed["changed"] = installed["changed"] or result["changed"]
            if not installed.get("csr"):
                installed["csr"] = result.get("csr")
            installed.setdefault("unprotected_keys", result.get("unprotected_keys"))
            result = installed
    else:
        result = run_op(module, ca_ensure_rotated, ca_dir, params["profile"], values(module),
                        parent_dir=abs_path(params["parent_ca_dir"]), key=key,
                        rotate_before=params["rotate_before"],
                        store_dsn_env=params["store_dsn_env"],
                        parent_passphrase=secret(module, "parent_passphrase",
                                                 "parent_passphrase_env"),
                        check_mode=check).to_dict()

    urls = [params[name] for name in ("crl_url", "ocsp_url", "ca_issuers_url")]
    if any(url is not None for url in urls) and os.path.exists(os.path.join(ca_dir, "ca.meta.json")):
        recorded = run_op(module, ca_urls_ensure, ca_dir, *urls, check_mode=check).to_dict()
        result["changed"] = result["changed"] or recorded["changed"]
        result["urls"] = recorded["urls"]
    elif any(url is not None for url in urls):  # check mode on a CA still to be made
        result["urls"] = run_op(module, requested_urls, *urls).to_meta()
    changed = result["changed"]
    if not params["unencrypted_key"]:
        for path in result.get("unprotected_keys") or []:
            module.warn(f"CA key written without a passphrase: {path} (anyone who can read this "
                        "file can sign as the CA; set ca_passphrase, or unencrypted_key=true to say "
                        "this is meant)")
    if result.get("state") == "complete" and not check:
        changed = apply_file_attributes(module, [result.get("cert_path"),
                                                 result.get("chain_path")], changed)
    output = {
        "changed": changed,
        "state": result.get("state"),
        "ca_dir": ca_dir,
        "subject": result.get("subject"),
        "issuer": result.get("issuer"),
        "serial": result.get("serial"),
        "not_before": result.get("not_before"),
        "not_after": result.get("not_after"),
        "fingerprint_sha256": result.get("fingerprint_sha256"),
        "profile": result.get("profile"),
        "keys": result.get("keys", []),
        "algorithms": [k.get("algorithm") for k in result.get("keys", [])],
        "cert_path": result.get("cert_path"),
        "chain_path": result.get("chain_path"),
        "csr": result.get("csr"),
        "csr_path": result.get("csr_path"),
        "active_version": result.get("active_version"),
        "rotated": result.get("rotated"),
        "urls": result.get("urls"),
    }
    if params["return_content"] and output["cert_path"] and os.path.exists(output["cert_path"]):
        output["certificate"] = _read(module, output["cert_path"], "CA certificate").decode()
        chain = output["chain_path"] or output["cert_path"]
        output["chain"] = _read(module, chain, "CA chain").decode()
    if module._diff:
        after = {"state": output["state"], "subject": output["subject"],
                 "profile": output["profile"], "keys": output["keys"],
                 "fingerprint_sha256": output["fingerprint_sha256"]}
        before = dict(after, state=before_state) if before_state != "absent" else {
            "state": "absent"}
        if before_state == "pending":
            before["fingerprint_sha256"] = None
        output["diff"] = {"before": before if result["changed"] else after, "after": after}
    module.exit_json(**output)


if __name__ == "__main__":
    main()
