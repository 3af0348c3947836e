#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: qpki_cert
short_description: Issue certificates from CSRs with a qpki CA, only when needed
version_added: "0.1.0"
description:
  - Issues a certificate from a CSR (O(csr_path) or O(csr_content)) with the CA in O(ca_dir) and
    a profile, and writes it to O(path).
  - Idempotent. Nothing is signed when O(path) already holds a certificate that was issued by
    this CA for the CSR's public key, with the subject, subjectAltName and extensions the profile
    gives now. It must also not be revoked, and its notAfter must be more than O(renew_before)
    away.
  - Batch form. O(certificates) lists several CSRs. They are all issued under one opening of
    the CA, which means one HSM login for the whole batch.
  - A CA profile (C(ec/issuing-ca)...) is allowed. This is how a root CA on another host signs
    the CSR of a subordinate CA created by M(qpki.pki.qpki_ca) with O(qpki.pki.qpki_ca#module:csr_path).
requirements:
  - python-pkcs11 when the CA key is in an HSM
extends_documentation_fragment:
  - qpki.pki.qpki
  - qpki.pki.qpki.passphrase
  - ansible.builtin.files
attributes:
  check_mode:
    details: Decides exactly as a real run, signs and writes nothing.
  diff_mode:
    support: full
options:
  ca_dir:
    description:
      - Directory of the issuing CA.
    type: path
    required: true
  profile:
    description:
      - Certificate profile (C(ec/tls-server), C(ec/tls-client), C(ml/tls-server),
        C(ec/issuing-ca)...) or the path of a YAML profile on the managed host.
      - Default for the items of O(certificates).
    type: str
    required: true
  vars:
    description:
      - Profile variables. Names given here (any variable of the profile's subject or
        subjectAltName, such as C(cn) or C(dns_names)) replace the CSR's names
        entirely. When none is given, the CSR's subject and subjectAltName fill the
        name variables the profile maps (other CSR names are dropped). Then the
        profile's defaults apply.
    type: dict
    default: {}
  csr_path:
    description:
      - CSR file (PEM or DER) on the managed host.
    type: path
  csr_content:
    description:
      - CSR as PEM text.
    type: str
  path:
    description:
      - Where the certificate (PEM) is written. It is also what idempotency checks.
      - Without O(path) a certificate is issued on every run (it stays in the CA's C(certs/)).
    type: path
  certificates:
    description:
      - Several certificates issued under one CA opening (one HSM login). Each item takes
        C(csr_path) or C(csr_content), C(path), and optionally C(vars) and C(profile).
      - Mutually exclusive with O(csr_path), O(csr_content) and O(path).
    type: list
    elements: dict
    suboptions:
      csr_path:
        description: CSR file on the managed host.
        type: path
      csr_content:
        description: CSR as PEM text.
        type: str
      path:
        description: Where the certificate is written.
        type: path
        required: true
      vars:
        description: Profile variables for this certificate.
        type: dict
        default: {}
      profile:
        description: Profile for this certificate (default O(profile)).
        type: str
  renew_before:
    description:
      - Issue a new certificate when the existing one expires within this time. A duration
        such as C(30d), C(12h) or C(1y); a plain number counts days; C(0) renews only
        expired certificates.
    type: str
    default: 30d
  force:
    description:
      - Issue a new certificate even if the existing one is still good.
    type: bool
    default: false
  backup:
    description:
      - Keep a timestamped copy of a certificate file that is replaced.
    type: bool
    default: false
  return_content:
    description:
      - Return the certificate and the CA chain (PEM) in RV(certificate) and RV(chain).
    type: bool
    default: false
seealso:
  - module: qpki.pki.qpki_ca
  - module: qpki.pki.qpki_crl
  - module: community.crypto.x509_certificate
"""

EXAMPLES = r"""
- name: TLS server certificate from a CSR, renewed 30 days before it expires
  qpki.pki.qpki_cert:
    ca_dir: /srv/pki/issuing
    profile: ec/tls-server
    csr_path: /etc/ssl/www.csr
    vars:
      cn: www.example.com
      dns_names: [www.example.com, example.com]
    path: /etc/ssl/www.crt
    mode: "0644"
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"

- name: Many certificates, one HSM login
  qpki.pki.qpki_cert:
    ca_dir: /srv/pki/issuing
    profile: ec/tls-server
    certificates:
      - csr_path: /srv/csr/a.csr
        path: /srv/certs/a.crt
      - csr_path: /srv/csr/b.csr
        path: /srv/certs/b.crt
        vars:
          cn: b.example.com
          dns_names: [b.example.com]
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"
"""

RETURN = r"""
path:
  description: Where the certificate was written.
  returned: single certificate form
  type: str
serial:
  description: Serial number (hex) of the certificate now in O(path).
  returned: single certificate form, unless check mode predicts a new one
  type: str
subject:
  description: Subject (RFC 4514).
  returned: single certificate form
  type: str
  sample: CN=www.example.com
issuer:
  description: Issuer (RFC 4514).
  returned: single certificate form, unless check mode predicts a new one
  type: str
not_after:
  description: End of validity (RFC 3339, UTC).
  returned: single certificate form, unless check mode predicts a new one
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint (hex).
  returned: single certificate form, unless check mode predicts a new one
  type: str
sans:
  description: subjectAltName values.
  returned: single certificate form
  type: list
  elements: str
reasons:
  description: Why a certificate was (or in check mode would be) issued; empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample: ["certificate expires on 2026-01-02T10:30:00Z, within renew_before (30d)"]
certificate:
  description: The certificate (PEM).
  returned: when O(return_content=true)
  type: str
chain:
  description: The issuing CA's chain (PEM, the CA first, root last).
  returned: when O(return_content=true)
  type: str
backup_file:
  description: Copy of the replaced certificate.
  returned: when O(backup=true) and a certificate was replaced
  type: str
certificates:
  description: One result per item of O(certificates), with the keys above.
  returned: batch form
  type: list
  elements: dict
signed:
  description: How many certificates were signed by this run.
  returned: always
  type: int
"""


from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.qpki.pki.plugins.module_utils.module_argspec import create_module, passphrase_options
from ansible_collections.qpki.pki.plugins.module_utils.module_support import (
    abs_path, apply_file_attributes, check_dependencies, run_op, secret)
from ansible_collections.qpki.pki.plugins.module_utils.ops.cert.batch import read_csr
from ansible_collections.qpki.pki.plugins.module_utils.ops.cert.state import (
    CertRequest, cert_ensure)
from ansible_collections.qpki.pki.plugins.module_utils.process_hygiene import disable_core_dumps

KEEP = ("path", "serial", "subject", "issuer", "not_before", "not_after", "fingerprint_sha256",
        "sans", "reasons", "changed")


def _csr(module, item, where):
    if item.get("csr_content"):
        return item["csr_content"].encode("utf-8"), where + "csr_content"
    if item.get("csr_path"):
        return run_op(module, read_csr, item["csr_path"]), item["csr_path"]
    module.fail_json(msg="%scsr_path or csr_content is required" % where)
    return None, None


def main():
    disable_core_dumps()  # before the arguments (passphrases) and the PIN are read
    module = create_module(
        AnsibleModule, _load_params,
        argument_spec=dict(
            ca_dir=dict(type="path", required=True),
            profile=dict(type="str", required=True),
            vars=dict(type="dict", default={}),
            csr_path=dict(type="path"),
            csr_content=dict(type="str"),
            path=dict(type="path"),
            certificates=dict(type="list", elements="dict", options=dict(
                csr_path=dict(type="path"),
                csr_content=dict(type="str"),
                path=dict(type="path", required=True),
                vars=dict(type="dict", default={}),
                profile=dict(type="str"),
            ), mutually_exclusive=[["csr_path", "csr_content"]],
                required_one_of=[["csr_path", "csr_content"]]),
            renew_before=dict(type="str", default="30d"),
            force=dict(type="bool", default=False),
            backup=dict(type="bool", default=False),
            return_content=dict(type="bool", default=False),
            **passphrase_options("ca"),
        ),
        mutually_exclusive=[
            ["csr_path", "csr_content", "certificates"],
            ["path", "certificates"],
            ["ca_passphrase", "ca_passphrase_env"],
        ],
        required_one_of=[["csr_path", "csr_content", "certificates"]],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    check_dependencies(module, missing_required_lib)
    params = module.params
    batch = params["certificates"] is not None
    items = params["certificates"] if batch else [dict(
        csr_path=params["csr_path"], csr_content=params["csr_content"], path=params["path"],
        vars=params["vars"], profile=None)]
    requests = []
    for number, item in enumerate(items):
        where = "certificates[%d]." % number if batch else ""
        data, csr_where = _csr(module, item, where)
        merged = dict(params["vars"] or {}) if batch else {}
        merged.update(item.get("vars") or {})
        request = run_op(module, CertRequest, item.get("profile") or params["profile"], data,
                         abs_path(item.get("path")), {k: v for k, v in merged.items()
                                                      if v is not None}, csr_where)
        requests.append(request)

    backups = {}

    def on_replace(path):
        if params["backup"]:
            backups[path] = module.backup_local(path)

    outcome = run_op(module, cert_ensure, abs_path(params["ca_dir"]), requests,
                     renew_before=params["renew_before"], force=params["force"],
                     check_mode=module.check_mode,
                     passphrase=secret(module, "ca_passphrase", "ca_passphrase_env"),
                     on_replace=on_replace)
    results = []
    changed = outcome.changed
    for result in outcome.results:
        facts = result.to_dict()
        item = {k: facts.get(k) for k in KEEP}
        if not module.check_mode and result.path:
            item_changed = apply_file_attributes(module, [result.path], result.changed)
            changed = changed or item_changed
            item["changed"] = item_changed
        if result.path in backups:
            item["backup_file"] = backups[result.path]
        if params["return_content"]:
            item["certificate"] = result.certificate
            item["chain"] = result.chain
        results.append(item)

    output = {"changed": changed, "signed": outcome.signed}
    if batch:
        output["certificates"] = results
        output["reasons"] = [r for item in results for r in item.get("reasons") or []]
    else:
        output.update(results[0])
        output["changed"] = changed
    if module._diff:
        output["diff"] = {
            "before": {"certificates": [{"path": r["path"], "reasons": r["reasons"]}
                                        for r in results if r["changed"]]},
            "after": {"certificates": [{"path": r["path"], "subject": r["subject"],
                                        "not_after": r["not_after"]}
                                       for r in results if r["changed"]]},
        }
    module.exit_json(**output)


if __name__ == "__main__":
    main()
