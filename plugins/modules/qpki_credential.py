#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: qpki_credential
short_description: Enroll a credential (key and certificate) with a qpki CA, once
version_added: "0.1.0"
description:
  - Generates a key (a software key file, or a key in a PKCS#11 token) and issues its
    certificate with the CA in O(ca_dir). The result is a credential directory in O(cred_dir)
    holding C(credential.meta.json), the certificate, the chain and the software key.
  - Idempotent on O(credential_id). When it is omitted, the module looks for a valid credential
    with the same profile and subject common name. An existing credential is kept when its
    certificate was issued by this CA with the subject, subjectAltName and extensions the
    profile gives now, is not revoked, and is not within O(renew_before) of expiry.
  - Without O(credential_id), a credential that no longer fits is superseded by a new one with
    a new id. With O(credential_id), a credential whose certificate expires within
    O(renew_before) is renewed in place - a new version of it, with the same key, or with a new
    key when O(rotate=true) (see C(docs/LIFECYCLE.md)); any other mismatch is an error.
  - Batch form. O(credentials) lists several credentials. They are checked together and the
    missing ones are enrolled under one opening of the CA (one HSM login for the CA key, one
    lock, one index update), which is much faster than a loop.
requirements:
  - python-pkcs11 for HSM keys
extends_documentation_fragment:
  - qpki.pki.qpki
  - qpki.pki.qpki.hsm_key
  - ansible.builtin.files
attributes:
  diff_mode:
    support: full
options:
  state:
    description:
      - C(present) enrolls the credential when no matching one exists.
    type: str
    choices: [present]
    default: present
  ca_dir:
    description:
      - Directory of the issuing CA.
    type: path
    required: true
  cred_dir:
    description:
      - Directory that holds the credential directories (one per credential id).
    type: path
    required: true
  profile:
    description:
      - End-entity profile (C(ec/tls-server), C(ec/tls-client), C(ml/signing)...) or the path of
        a YAML profile.
      - Default for the items of O(credentials).
    type: str
    required: true
  vars:
    description:
      - Profile variables, for example V(cn) and V(dns_names) for C(ec/tls-server).
      - With O(credentials), the variables every item starts from (an item's own C(vars) are
        merged over them).
    type: dict
    default: {}
  credentials:
    description:
      - Several credentials in one task. Each item takes C(credential_id), C(vars) and
        optionally C(profile), C(key_label) and C(key_id) (with O(hsm_config)), with the same
        meaning as the options of the single form.
      - The items are decided one by one as the single form would (kept, enrolled, or an error
        for a mismatching O(credential_id)). Every item is checked before anything is enrolled;
        the first bad one fails the task, naming it (C(credentials[3])), and nothing is written.
      - Mutually exclusive with O(credential_id), O(key_label) and O(key_id).
    type: list
    elements: dict
    suboptions:
      credential_id:
        description: Id of the credential (default as for O(credential_id)).
        type: str
      vars:
        description: Profile variables of this credential, merged over O(vars).
        type: dict
        default: {}
      profile:
        description: Profile of this credential (default O(profile)).
        type: str
      key_label:
        description: Label of this credential's key in the token (needs O(hsm_config)).
        type: str
      key_id:
        description: Id (hex) of this credential's key in the token (needs O(hsm_config)).
        type: str
  credential_id:
    description:
      - Id (directory name) of the credential. Default is a new id made from the common name
        and the date, with lookup by profile and common name as described above.
    type: str
  generate_key:
    description:
      - Generate the credential key in the token. With C(false) the key must already exist there.
    type: bool
    default: true
  renew_before:
    description:
      - Enroll a new credential when the current one expires within this time (C(30d), C(12h);
        a plain number counts days). With O(credential_id) the credential is renewed in place
        instead (a new version; see O(rotate)).
    type: str
    default: 30d
  rotate:
    description:
      - When a named credential (O(credential_id)) is renewed, give it a new key rather than
        certifying its key again. A token-held key is rotated to a new key in the token, which
        needs O(hsm_config) and a O(key_label) the current key does not use.
    type: bool
    default: false
  key_passphrase:
    description:
      - Passphrase that encrypts the new software credential key.
      - The former name C(passphrase) still works and is deprecated (removed in 0.2.0).
    type: str
    aliases: [passphrase]
  key_passphrase_env:
    description:
      - Name of an environment variable holding the credential key passphrase.
      - The former name C(passphrase_env) still works and is deprecated (removed in 0.2.0).
    type: str
    aliases: [passphrase_env]
  ca_passphrase:
    description:
      - Passphrase of the CA's software key.
    type: str
  ca_passphrase_env:
    description:
      - Name of an environment variable holding the CA key passphrase.
    type: str
  return_content:
    description:
      - Return the certificate PEM in RV(certificate).
    type: bool
    default: false
notes:
  - O(mode), O(owner) and O(group) apply to the credential's certificate and chain; the key
    file always stays mode 0600 and gets O(owner) and O(group) only.
seealso:
  - module: qpki.pki.qpki_cert
"""

EXAMPLES = r"""
- name: TLS credentials for a list of servers
  qpki.pki.qpki_credential:
    ca_dir: /srv/pki/issuing
    cred_dir: /srv/pki/credentials
    profile: ec/tls-server
    credential_id: "{{ item }}"
    vars:
      cn: "{{ item }}"
      dns_names: ["{{ item }}"]
  loop: [www.example.com, api.example.com]
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"

- name: TLS credentials for many servers in one task (one CA opening, one HSM login)
  qpki.pki.qpki_credential:
    ca_dir: /srv/pki/issuing
    cred_dir: /srv/pki/credentials
    profile: ec/tls-server
    credentials:
      - credential_id: www.example.com
        vars: {cn: www.example.com, dns_names: [www.example.com, example.com]}
      - credential_id: api.example.com
        vars: {cn: api.example.com, dns_names: [api.example.com]}
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"

- name: A signing credential whose key is generated in the HSM
  qpki.pki.qpki_credential:
    ca_dir: /srv/pki/issuing
    cred_dir: /srv/pki/credentials
    profile: ec/signing
    credential_id: release-signing
    vars:
      cn: Release signing
    hsm_config: /etc/qpki/hsm.yaml
    key_label: release-signing
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"
"""

RETURN = r"""
id:
  description: Credential id.
  returned: when the credential exists (or O(credential_id) was given)
  type: str
  sample: www-example-com-20250102-a1b2c3
cred_path:
  description: The credential directory.
  returned: when the credential exists
  type: str
cert_path:
  description: The certificate (PEM).
  returned: when the credential exists
  type: str
chain_path:
  description: The CA chain (PEM).
  returned: when the credential exists
  type: str
key_path:
  description: The software private key (PEM, mode 0600), null for an HSM key.
  returned: when the credential exists
  type: str
key_storage:
  description: Where the key is (C(software) path, or C(pkcs11) config and label).
  returned: when the credential exists
  type: dict
serial:
  description: Certificate serial number (hex).
  returned: when the credential exists
  type: str
subject:
  description: Certificate subject (RFC 4514).
  returned: always
  type: str
not_after:
  description: End of validity (RFC 3339, UTC).
  returned: when the credential exists
  type: str
fingerprint_sha256:
  description: Certificate SHA-256 fingerprint.
  returned: when the credential exists
  type: str
reasons:
  description: Why a credential was (or would be) enrolled.
  returned: always
  type: list
  elements: str
certificate:
  description: The certificate (PEM).
  returned: when O(return_content=true) and the credential exists
  type: str
credentials:
  description: One result per item of O(credentials), with the keys above and C(changed).
  returned: batch form
  type: list
  elements: dict
enrolled:
  description: How many credentials this run enrolled (signed).
  returned: batch form
  type: int
"""


from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.qpki.pki.plugins.module_utils.errors import QpkiError
from ansible_collections.qpki.pki.plugins.module_utils.module_argspec import create_module, passphrase_options
from ansible_collections.qpki.pki.plugins.module_utils.module_support import (
    abs_path, apply_file_attributes, check_dependencies, key_request, run_op, secret,
    values)
from ansible_collections.qpki.pki.plugins.module_utils.ops.ca.keys import KeyRequest
from ansible_collections.qpki.pki.plugins.module_utils.ops.credential.state import (
    CredentialRequest, credential_ensure, credential_ensure_many)
from ansible_collections.qpki.pki.plugins.module_utils.process_hygiene import disable_core_dumps

KEEP = ("id", "cred_path", "cert_path", "chain_path", "key_path", "key_storage", "serial",
        "subject", "sans", "not_after", "fingerprint_sha256", "profile", "reasons")


def _apply_attributes(module, result, changed):
    """mode/owner/group on the certificate and chain; owner/group on the key (0600)."""
    changed = apply_file_attributes(module, [result.get("cert_path"), result.get("chain_path")],
                                    changed)
    if result.get("key_path"):
        key_args = module.load_file_common_arguments(module.params, path=result["key_path"])
        key_args["mode"] = "0600"
        changed = module.set_fs_attributes_if_different(key_args, changed)
    return changed


def _output(module, result, changed):
    output = {k: result.get(k) for k in KEEP}
    output["changed"] = changed
    if module.params["return_content"]:
        output["certificate"] = result.get("certificate")
    return output


def _diff_of(output, enrolled):
    after = {"id": output["id"], "subject": output["subject"], "profile": output["profile"],
             "sans": output["sans"]}
    return ({} if enrolled else after), after


def _batch(module, passphrase, ca_passphrase):
    params = module.params
    hsm_config = abs_path(params["hsm_config"])
    requests = []
    for number, item in enumerate(params["credentials"]):
        where = "credentials[%d]" % number
        if hsm_config is not None and not (item.get("key_label") or item.get("key_id")):
            module.fail_json(msg="%s: hsm_config needs key_label and/or key_id" % where)
        merged = dict(params["vars"] or {})
        merged.update(item.get("vars") or {})
        try:
            key = KeyRequest(hsm_config=hsm_config, key_label=item.get("key_label"),
                             key_id=item.get("key_id"), generate_key=bool(params["generate_key"]),
                             passphrase=passphrase)
        except QpkiError as exc:
            module.fail_json(msg="%s: %s" % (where, exc))
        requests.append(CredentialRequest(item.get("profile") or params["profile"],
                                          {k: v for k, v in merged.items() if v is not None},
                                          credential_id=item.get("credential_id"), key=key,
                                          where=where))
    outcome = run_op(module, credential_ensure_many, abs_path(params["ca_dir"]),
                     abs_path(params["cred_dir"]), requests, ca_passphrase=ca_passphrase,
                     renew_before=params["renew_before"], check_mode=module.check_mode,
                     rotate=params["rotate"]).to_dict()
    changed = outcome["changed"]
    results = []
    for result in outcome["results"]:
        item_changed = result["changed"]
        if not module.check_mode:
            item_changed = _apply_attributes(module, result, item_changed)
        changed = changed or item_changed
        output = _output(module, result, item_changed)
        output["enrolled"] = result["changed"]
        results.append(output)
    output = {"changed": changed, "enrolled": outcome["enrolled"], "credentials": results,
              "reasons": [r for item in results for r in item.get("reasons") or []]}
    if module._diff:
        pairs = [_diff_of(r, r["enrolled"]) for r in results if r["changed"]]
        output["diff"] = {"before": {"credentials": [b for b, _a in pairs]},
                          "after": {"credentials": [a for _b, a in pairs]}}
    for item in results:
        item.pop("enrolled")
    module.exit_json(**output)


def main():
    disable_core_dumps()  # before the arguments (passphrases) and the PIN are read
    module = create_module(
        AnsibleModule, _load_params,
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present"]),
            ca_dir=dict(type="path", required=True),
            cred_dir=dict(type="path", required=True),
            profile=dict(type="str", required=True),
            vars=dict(type="dict", default={}),
            credential_id=dict(type="str"),
            credentials=dict(type="list", elements="dict", options=dict(
                credential_id=dict(type="str"),
                vars=dict(type="dict", default={}),
                profile=dict(type="str"),
                key_label=dict(type="str", no_log=False),
                key_id=dict(type="str"),
            )),
            hsm_config=dict(type="path"),
            key_label=dict(type="str", no_log=False),
            key_id=dict(type="str"),
            generate_key=dict(type="bool", default=True),
            renew_before=dict(type="str", default="30d"),
            rotate=dict(type="bool", default=False),
            **passphrase_options("key"),
            ca_passphrase=dict(type="str", no_log=True),
            ca_passphrase_env=dict(type="str", no_log=False),
            return_content=dict(type="bool", default=False),
        ),
        mutually_exclusive=[["key_passphrase", "key_passphrase_env"],
                            ["ca_passphrase", "ca_passphrase_env"],
                            ["hsm_config", "key_passphrase"], ["hsm_config", "key_passphrase_env"],
                            ["credentials", "credential_id"], ["credentials", "key_label"],
                            ["credentials", "key_id"]],
        required_by={"key_label": "hsm_config", "key_id": "hsm_config"},
        add_file_common_args=True,
        supports_check_mode=True,
    )
    check_dependencies(module, missing_required_lib)
    params = module.params
    if params["hsm_config"] is None:
        params["generate_key"] = False
    passphrase = secret(module, "key_passphrase", "key_passphrase_env")
    ca_passphrase = secret(module, "ca_passphrase", "ca_passphrase_env")
    if params["credentials"] is not None:
        _batch(module, passphrase, ca_passphrase)
    key = key_request(module, passphrase)
    result = run_op(module, credential_ensure, abs_path(params["ca_dir"]),
                    abs_path(params["cred_dir"]), params["profile"], values(module),
                    credential_id=params["credential_id"], key=key,
                    ca_passphrase=ca_passphrase,
                    renew_before=params["renew_before"], check_mode=module.check_mode,
                    rotate=params["rotate"]).to_dict()
    changed = result["changed"]
    if not module.check_mode:
        changed = _apply_attributes(module, result, changed)
    output = _output(module, result, changed)
    if module._diff:
        before, after = _diff_of(output, result["changed"])
        output["diff"] = {"before": before, "after": after}
    module.exit_json(**output)


if __name__ == "__main__":
    main()
