#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: qpki_hsm_key
short_description: Ensure a key pair exists (or not) in a PKCS#11 token
version_added: "0.1.0"
description:
  - With O(state=present), makes sure a key pair with O(key_label) (and O(key_id) if given) and
    the type and size of O(algorithm) exists in the token named by O(hsm_config). A missing key
    is generated inside the token. The private key is sensitive, cannot be extracted, and is
    usable for signing only. The module returns the public key.
  - An existing key of another type or size is an error naming both. It is never replaced.
  - With O(state=absent), deletes the key pair, but only with O(confirm_delete=true), because
    deleting a CA key cannot be undone.
requirements:
  - python-pkcs11 and a PKCS#11 library (for example SoftHSM2)
extends_documentation_fragment:
  - qpki.pki.qpki
attributes:
  check_mode:
    details: Logs in to look for the key, generates or deletes nothing.
  diff_mode:
    support: full
options:
  hsm_config:
    description:
      - HSM configuration file on the managed host, with C(type=pkcs11), C(pkcs11.lib),
        C(pkcs11.token) and C(pkcs11.pin_env).
    type: path
    required: true
  key_label:
    description:
      - Label (CKA_LABEL) of the key pair. Required with O(state=present).
    type: str
  key_id:
    description:
      - Id (CKA_ID, hex such as C(0102)). With O(key_label), both must name the same key; a new
        key without O(key_id) gets a random 8-byte id.
    type: str
  algorithm:
    description:
      - Type and size of the key. PQC algorithms are not available in tokens.
    type: str
    choices: [ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072, rsa-4096]
  state:
    description:
      - C(present) creates the key when missing; C(absent) deletes it (needs O(confirm_delete)).
    type: str
    choices: [present, absent]
    default: present
  confirm_delete:
    description:
      - Must be C(true) for O(state=absent) to delete an existing key.
    type: bool
    default: false
seealso:
  - module: qpki.pki.qpki_hsm_info
  - module: qpki.pki.qpki_ca
"""

EXAMPLES = r"""
- name: Root CA key in the token
  qpki.pki.qpki_hsm_key:
    hsm_config: /etc/qpki/hsm.yaml
    key_label: root-ca-key
    algorithm: ecdsa-p384
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"
  register: root_key

- name: Delete a test key
  qpki.pki.qpki_hsm_key:
    hsm_config: /etc/qpki/hsm.yaml
    key_label: test-key
    state: absent
    confirm_delete: true
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"
"""

RETURN = r"""
label:
  description: Key label.
  returned: always
  type: str
key_id:
  description: Key id (hex).
  returned: when the key exists
  type: str
  sample: a1b2c3d4e5f60708
type:
  description: Key type in the token (C(EC) or C(RSA)).
  returned: when the key exists
  type: str
size:
  description: Key size in bits.
  returned: when the key exists
  type: int
curve:
  description: EC curve name.
  returned: for EC keys
  type: str
algorithm:
  description: The qpki algorithm name.
  returned: with O(state=present)
  type: str
public_key:
  description: Public key (PEM SubjectPublicKeyInfo).
  returned: when the key exists (not for a key check mode would create)
  type: str
token:
  description: Label of the token.
  returned: always
  type: str
deleted:
  description: The objects deleted (label, id, type, class).
  returned: with O(state=absent)
  type: list
  elements: dict
note:
  description:
    - In check mode, when O(hsm_config) does not exist yet (on a fresh host an earlier task of
      the run, such as the C(qpki.pki.softhsm_token) role, writes it), the module predicts
      instead of failing and says so here. The token is then not consulted.
  returned: in check mode, when O(hsm_config) does not exist
  type: str
"""


from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.qpki.pki.plugins.module_utils.module_argspec import create_module
from ansible_collections.qpki.pki.plugins.module_utils.module_support import (
    abs_path, check_dependencies, run_op)
from ansible_collections.qpki.pki.plugins.module_utils.ops.keys.hsm_state import hsm_key_ensure
from ansible_collections.qpki.pki.plugins.module_utils.process_hygiene import disable_core_dumps


HSM_ALGORITHMS = ("ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-3072", "rsa-4096")


def main():
    disable_core_dumps()  # before the arguments (passphrases) and the PIN are read
    module = create_module(
        AnsibleModule, _load_params,
        argument_spec=dict(
            hsm_config=dict(type="path", required=True),
            key_label=dict(type="str", no_log=False),
            key_id=dict(type="str"),
            algorithm=dict(type="str", choices=list(HSM_ALGORITHMS)),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            confirm_delete=dict(type="bool", default=False),
        ),
        required_one_of=[["key_label", "key_id"]],
        required_if=[["state", "present", ["key_label", "algorithm"]]],
        supports_check_mode=True,
    )
    check_dependencies(module, missing_required_lib)
    params = module.params
    result = run_op(module, hsm_key_ensure, abs_path(params["hsm_config"]),
                    label=params["key_label"], key_id=params["key_id"],
                    algorithm=params["algorithm"], state=params["state"],
                    confirm_delete=params["confirm_delete"], check_mode=module.check_mode).to_dict()
    if module._diff:
        present = {"state": "present", "label": result.get("label"),
                   "algorithm": result.get("algorithm")}
        absent = {"state": "absent", "label": params["key_label"]}
        if params["state"] == "present":
            before, after = (absent if result["changed"] else present), present
        else:
            before, after = (present if result["changed"] else absent), absent
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
