# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Documentation shared by the qpki.pki modules.

    qpki.pki.qpki             author, base requirement, the note on the HSM PIN and the
                              attributes every module shares, each described here (every module
                              lists this one; a module sets only what differs, such as diff_mode)
    qpki.pki.qpki.hsm_key     hsm_config / key_label / key_id of a key in a PKCS#11 token
    qpki.pki.qpki.passphrase  ca_passphrase / ca_passphrase_env of the CA's software key
    """

    DOCUMENTATION = r"""
options: {}
author:
  - QPKI maintainers (@qpki)
requirements:
  - python >= 3.10 on the managed host
  - cryptography >= 49, pyyaml, pyasn1, pyasn1-modules (the qpki core dependencies)
notes:
  - The HSM PIN is never a module option. Set the environment variable named by C(pin_env) in
    the HSM configuration file with the task's C(environment) keyword, from Ansible Vault. The
    collection's action plugin sends environment values on the module's standard input, never on
    a command line or in a file, so the PIN does not appear in C(-vvv) output or in the process
    list. A connection that cannot pipeline fails the task unless C(qpki_environment_file=true).
attributes:
  check_mode:
    description: Whether a run with C(--check) predicts the change without making it.
    support: full
  diff_mode:
    description: Whether a run with C(--diff) shows what changes (or would change in check mode).
  platform:
    description: The target systems the module runs on.
    support: N/A
    platforms: posix
  action_group:
    description: The action groups the module belongs to, for C(module_defaults).
    support: N/A
    membership: [qpki.pki.qpki]
  action:
    description: Whether an action plugin on the controller runs part of the task.
    support: full
    details: The action plugin passes the task's environment (the HSM PIN) to the module in a
      private temporary file instead of the command line.
  async:
    description: Whether the task can run with the C(async) keyword.
    support: none
  bypass_host_loop:
    description: Whether the task runs once for all hosts instead of once per host.
    support: none
"""

    HSM_KEY = r"""
options:
  hsm_config:
    description:
      - HSM configuration file (YAML with C(type), C(pkcs11.lib), C(pkcs11.token) and
        C(pkcs11.pin_env)) on the managed host. Selects HSM mode for the key, which is then
        made in (or taken from) the token.
    type: path
  key_label:
    description:
      - Label (CKA_LABEL) of the key in the token.
    type: str
  key_id:
    description:
      - Id (CKA_ID, hex, for example C(0102)) of the key in the token. With O(key_label), both
        must name the same key.
    type: str
"""

    PASSPHRASE = r"""
options:
  ca_passphrase:
    description:
      - Passphrase of the CA's software key.
      - The former name C(passphrase) still works and is deprecated (removed in 0.2.0).
    type: str
    aliases: [passphrase]
  ca_passphrase_env:
    description:
      - Name of an environment variable holding the CA key passphrase.
      - The former name C(passphrase_env) still works and is deprecated (removed in 0.2.0).
    type: str
    aliases: [passphrase_env]
"""
