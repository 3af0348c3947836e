#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: qpki_ca_info
short_description: Read a qpki (or QPKI) CA directory
version_added: "0.1.0"
description:
  - Returns what a CA directory holds, namely the active CA certificate (subject, issuer, serial, dates,
    seconds until it expires), its profile and where its keys are (file or token), and every
    version of the CA with its status, algorithms and certificate files (after rotations).
  - Reads QPKI's versioned CA directories too.
  - Reads only; never changes anything, never opens a key or a token.
extends_documentation_fragment:
  - qpki.pki.qpki
attributes:
  diff_mode:
    support: none
options:
  ca_dir:
    description:
      - The CA directory.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Read the root CA
  qpki.pki.qpki_ca_info:
    ca_dir: /srv/pki/root
  register: root

- name: Say when the root must be rotated
  ansible.builtin.debug:
    msg: "{{ root.subject }} ({{ root.active_version }}) expires in {{ root.expires_in_seconds // 86400 }} days"
"""

RETURN = r"""
ca_dir:
  description: The CA directory, as given.
  returned: always
  type: str
subject:
  description: Subject of the active CA certificate (RFC 4514).
  returned: always
  type: str
  sample: CN=Example Root CA
issuer:
  description: Issuer of the active CA certificate (RFC 4514); the subject for a root.
  returned: always
  type: str
serial:
  description: Serial number of the active CA certificate (hexadecimal).
  returned: always
  type: str
not_before:
  description: Start of the active CA certificate's validity (ISO 8601, UTC).
  returned: always
  type: str
not_after:
  description: End of the active CA certificate's validity (ISO 8601, UTC).
  returned: always
  type: str
expires_in_seconds:
  description: Seconds until the active CA certificate expires (0 once it has).
  returned: always
  type: int
fingerprint_sha256:
  description: SHA-256 fingerprint of the active CA certificate.
  returned: always
  type: str
profile:
  description: The active version's profile.
  returned: always
  type: str
keys:
  description: The active version's keys, each with its id, algorithm and storage.
  returned: always
  type: list
  elements: dict
metadata_shape:
  description: C(flat) (the seed's C(ca.meta.json), never rotated) or C(versioned).
  returned: always
  type: str
active_version:
  description: The version that signs.
  returned: always
  type: str
  sample: v2
versions:
  description: Every version, with id, status (active, archived, pending), profiles, algorithms,
    dates, keys and certificate files.
  returned: always
  type: list
  elements: dict
urls:
  description: The CRL, OCSP and CA-issuers URLs the CA's certificates carry (C(crl), C(ocsp),
    C(ca_issuers)); empty when none is set.
  returned: always
  type: dict
cert_path:
  description: Path of C(ca.crt).
  returned: always
  type: str
chain_path:
  description: Path of C(chain.crt), or null for a root CA.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.qpki.pki.plugins.module_utils.module_argspec import create_module
from ansible_collections.qpki.pki.plugins.module_utils.module_support import (
    abs_path, check_dependencies, run_op)
from ansible_collections.qpki.pki.plugins.module_utils.ops.ca.commands import ca_info


def main():
    module = create_module(
        AnsibleModule, _load_params,
        argument_spec=dict(ca_dir=dict(type="path", required=True)),
        supports_check_mode=True,
    )
    check_dependencies(module, missing_required_lib)
    result = run_op(module, ca_info, abs_path(module.params["ca_dir"])).to_dict()
    result.pop("paths", None)
    result["changed"] = False
    module.exit_json(**result)


if __name__ == "__main__":
    main()
