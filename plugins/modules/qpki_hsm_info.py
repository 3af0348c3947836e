#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: qpki_hsm_info
short_description: Slots, tokens, mechanisms and keys of a PKCS#11 library
version_added: "0.1.0"
description:
  - Lists the slots and tokens of a PKCS#11 library. No PIN is needed for this.
  - With O(hsm_config) it can also list the token's mechanisms (no PIN), its keys (PIN), and
    test a login (PIN).
requirements:
  - python-pkcs11 and a PKCS#11 library (for example SoftHSM2)
extends_documentation_fragment:
  - qpki.pki.qpki
attributes:
  diff_mode:
    support: none
options:
  lib:
    description:
      - Path of the PKCS#11 library. Default is the one in O(hsm_config).
    type: path
  hsm_config:
    description:
      - HSM configuration file, which names the token and the PIN variable.
    type: path
  mechanisms:
    description:
      - List the mechanisms of the configured token (no PIN).
    type: bool
    default: false
  keys:
    description:
      - List the key objects of the configured token (needs the PIN).
    type: bool
    default: false
  login_test:
    description:
      - Log in to the configured token and out again (needs the PIN).
    type: bool
    default: false
seealso:
  - module: qpki.pki.qpki_hsm_key
"""

EXAMPLES = r"""
- name: Slots and tokens (no PIN)
  qpki.pki.qpki_hsm_info:
    lib: /usr/lib/softhsm/libsofthsm2.so
  register: hsm

- name: Check the CA token and its keys
  qpki.pki.qpki_hsm_info:
    hsm_config: /etc/qpki/hsm.yaml
    mechanisms: true
    keys: true
    login_test: true
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"
  register: token
"""

RETURN = r"""
lib:
  description: The PKCS#11 library.
  returned: always
  type: str
slots:
  description: One entry per slot (slot, description, token_present, label, serial, manufacturer,
    model, initialized, login_required, flags).
  returned: always
  type: list
  elements: dict
token:
  description: The token the configuration selects (label, serial or slot).
  returned: with O(hsm_config)
  type: raw
mechanisms:
  description: Mechanism names (C(CKM_ECDSA)...).
  returned: with O(mechanisms=true)
  type: list
  elements: str
keys:
  description: Key objects (label, id, type, size, curve, class).
  returned: with O(keys=true)
  type: list
  elements: dict
login:
  description: Login test result (ok, token, serial, slot).
  returned: with O(login_test=true)
  type: dict
"""


from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.qpki.pki.plugins.module_utils.module_argspec import create_module
from ansible_collections.qpki.pki.plugins.module_utils.module_support import (
    abs_path, check_dependencies, run_op)
from ansible_collections.qpki.pki.plugins.module_utils.ops.keys.hsm_state import hsm_info
from ansible_collections.qpki.pki.plugins.module_utils.process_hygiene import disable_core_dumps


def main():
    disable_core_dumps()  # before the arguments (passphrases) and the PIN are read
    module = create_module(
        AnsibleModule, _load_params,
        argument_spec=dict(
            lib=dict(type="path"),
            hsm_config=dict(type="path"),
            mechanisms=dict(type="bool", default=False),
            keys=dict(type="bool", default=False, no_log=False),
            login_test=dict(type="bool", default=False),
        ),
        required_one_of=[["lib", "hsm_config"]],
        required_if=[["mechanisms", True, ["hsm_config"]], ["keys", True, ["hsm_config"]],
                     ["login_test", True, ["hsm_config"]]],
        supports_check_mode=True,
    )
    check_dependencies(module, missing_required_lib)
    params = module.params
    result = run_op(module, hsm_info, lib=abs_path(params["lib"]),
                    hsm_config=abs_path(params["hsm_config"]), mechanisms=params["mechanisms"],
                    keys=params["keys"], login_test=params["login_test"]).to_dict()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
