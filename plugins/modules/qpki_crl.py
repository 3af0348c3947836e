#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: qpki_crl
short_description: Revoke certificates and keep a qpki CA's CRL current
version_added: "0.1.0"
description:
  - Revokes the serials listed in O(revoked_serials) in the CA's index. A serial that is
    already revoked is left as it is.
  - Takes the serials listed in O(released_serials) off hold. A serial that is valid is left as
    it is; one revoked for another reason than C(certificateHold) fails the task.
  - Generates the CA's CRL (C(crl/ca.crl) PEM and C(crl/ca.crl.der)) only when there is none,
    when the revocations changed since the last CRL, or when its nextUpdate is within
    O(renew_before). A second run with the same input signs nothing.
  - With O(path), the CRL is also written there in O(format). The CA's own C(crl/) files are
    always written too (the OCSP responder and C(qpki ca check) read them). When only the file
    at O(path) is missing or holds another CRL, the current CRL is written to it without
    signing a new one.
requirements:
  - python-pkcs11 when the CA key is in an HSM
extends_documentation_fragment:
  - qpki.pki.qpki
  - qpki.pki.qpki.passphrase
  - ansible.builtin.files
attributes:
  diff_mode:
    support: full
    details: Shows the revoked serials (one C(SERIAL reason) line each) before and after, as a
      file diff.
options:
  ca_dir:
    description:
      - Directory of the CA.
    type: path
    required: true
  path:
    description:
      - Where to write the CRL, in O(format), besides the CA's own C(crl/ca.crl) and
        C(crl/ca.crl.der).
      - Default C(<ca_dir>/crl/ca.crl) for O(format=pem), C(<ca_dir>/crl/ca.crl.der) for
        O(format=der). One of those two files with the other format is refused.
      - The file attribute options (O(mode), O(owner)...) and O(backup) apply to this file; when
        O(path) is not given, the attributes apply to both CRL files of the CA.
    type: path
  format:
    description:
      - Encoding of the CRL written to O(path).
    type: str
    choices: [pem, der]
    default: pem
  days:
    description:
      - Lifetime of a new CRL (its nextUpdate), in days.
    type: int
    default: 7
  renew_before:
    description:
      - Make a new CRL when the current one's nextUpdate is this close (C(1d), C(12h); a plain
        number counts days). Must be shorter than O(days).
    type: str
    default: 1d
  revoked_serials:
    description:
      - Certificates to revoke, by serial number (hex, as in RV(qpki.pki.qpki_cert#module:serial)).
    type: list
    elements: dict
    default: []
    suboptions:
      serial:
        description: Serial number in hex (C(1A2B...), C(0x1a2b...) or with colons).
        type: str
        required: true
      reason:
        description:
          - RFC 5280 revocation reason, in any case and with or without C(_) separators
            (C(keyCompromise), C(key_compromise) and C(KEYCOMPROMISE) are the same).
          - One of C(unspecified), C(keyCompromise), C(cACompromise), C(affiliationChanged),
            C(superseded), C(cessationOfOperation), C(certificateHold), C(privilegeWithdrawn),
            C(aACompromise). C(removeFromCRL) is refused (delta CRLs only); use
            O(released_serials) to take a certificate off hold.
        type: str
        default: unspecified
      invalidity_date:
        description:
          - When the key was known or suspected to be compromised (ISO 8601, UTC when no zone is
            given). Only with O(revoked_serials[].reason=keyCompromise) or
            O(revoked_serials[].reason=cACompromise); written to the CRL entry as its invalidity
            date.
        type: str
  released_serials:
    description:
      - Certificates on hold (reason C(certificateHold)) to take off hold, by serial number. They
        become valid again and the next CRL leaves them out; each release is in the audit log.
    type: list
    elements: str
    default: []
  drop_expired:
    description:
      - Leave out of the new CRL the revoked certificates that have expired and were already
        listed by a CRL issued after their expiry (RFC 5280 section 3.3). By default expired
        entries are kept.
    type: bool
    default: false
  force:
    description:
      - Generate a new CRL even when the current one is up to date.
    type: bool
    default: false
  backup:
    description:
      - Keep a timestamped copy of the file at O(path) when it is replaced.
    type: bool
    default: false
  return_content:
    description:
      - Return in RV(crl) the CRL written to O(path), as PEM text, or its DER in base64 when
        O(format=der).
    type: bool
    default: false
seealso:
  - module: qpki.pki.qpki_cert
  - module: community.crypto.x509_crl
"""

EXAMPLES = r"""
- name: Keep the issuing CA's CRL current (weekly CRL, renewed a day ahead)
  qpki.pki.qpki_crl:
    ca_dir: /srv/pki/issuing
    days: 7
    renew_before: 1d
  environment:
    HSM_PIN: "{{ vault_hsm_pin }}"

- name: Revoke a compromised certificate and publish the CRL
  qpki.pki.qpki_crl:
    ca_dir: /srv/pki/issuing
    revoked_serials:
      - serial: "{{ www_cert.serial }}"
        reason: keyCompromise
        invalidity_date: "2026-03-01T08:00:00Z"

- name: Take a certificate off hold
  qpki.pki.qpki_crl:
    ca_dir: /srv/pki/issuing
    released_serials:
      - "{{ laptop_cert.serial }}"

- name: Publish the CRL in DER on the web server's directory, and return it
  qpki.pki.qpki_crl:
    ca_dir: /srv/pki/issuing
    path: /var/www/pki/issuing.crl
    format: der
    mode: "0644"
    return_content: true
  register: issuing_crl
"""

RETURN = r"""
path:
  description: Path of the CRL written in O(format) (O(path), or its default).
  returned: always
  type: str
  sample: /srv/pki/issuing/crl/ca.crl
format:
  description: Encoding of the CRL at RV(path).
  returned: always
  type: str
  sample: pem
crl_path:
  description: Path of the CA's own PEM CRL.
  returned: always
  type: str
crl_der_path:
  description: Path of the CA's own DER CRL.
  returned: always
  type: str
crl_number:
  description: CRL number of the current CRL (the predicted CRL is not numbered in check mode).
  returned: when a CRL exists
  type: int
this_update:
  description: thisUpdate of the current CRL (RFC 3339, UTC).
  returned: when a CRL exists
  type: str
next_update:
  description: nextUpdate of the current CRL (RFC 3339, UTC).
  returned: when a CRL exists
  type: str
revoked_count:
  description: Number of entries in the current CRL.
  returned: when a CRL exists
  type: int
revoked:
  description: Serials revoked by this run.
  returned: always
  type: list
  elements: str
released:
  description: Serials taken off hold by this run.
  returned: always
  type: list
  elements: str
reasons:
  description:
    - Why the task changed (or would change) the CRL. Every reason signs a new CRL except one
      saying that RV(path) does not hold the current CRL, which only writes it there.
  returned: always
  type: list
  elements: str
crl:
  description: The CRL at RV(path) (PEM text, or base64 of the DER when O(format=der)).
  returned: when O(return_content=true) and the file exists
  type: str
backup_file:
  description: Copy of the replaced CRL.
  returned: when O(backup=true) and a CRL was replaced
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.qpki.pki.plugins.module_utils.module_argspec import create_module, passphrase_options
from ansible_collections.qpki.pki.plugins.module_utils.module_support import (
    abs_path, apply_file_attributes, check_dependencies, run_op, secret)
from ansible_collections.qpki.pki.plugins.module_utils.ops.crl.copy import crl_text
from ansible_collections.qpki.pki.plugins.module_utils.ops.crl.state import crl_ensure
from ansible_collections.qpki.pki.plugins.module_utils.process_hygiene import disable_core_dumps


def main():
    disable_core_dumps()  # before the arguments (passphrases) and the PIN are read
    argument_spec = dict(
        ca_dir=dict(type="path", required=True),
        path=dict(type="path"),
        format=dict(type="str", default="pem", choices=["pem", "der"]),
        days=dict(type="int", default=7),
        renew_before=dict(type="str", default="1d"),
        revoked_serials=dict(type="list", elements="dict", default=[], options=dict(
            serial=dict(type="str", required=True),
            reason=dict(type="str", default="unspecified"),
            invalidity_date=dict(type="str"),
        )),
        released_serials=dict(type="list", elements="str", default=[]),
        drop_expired=dict(type="bool", default=False),
        force=dict(type="bool", default=False),
        backup=dict(type="bool", default=False),
        return_content=dict(type="bool", default=False),
        **passphrase_options("ca"),
    )
    module = create_module(
        AnsibleModule, _load_params,
        argument_spec=argument_spec,
        mutually_exclusive=[["ca_passphrase", "ca_passphrase_env"]],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    check_dependencies(module, missing_required_lib)
    params = module.params
    ca_dir = abs_path(params["ca_dir"])
    crl_path = os.path.join(ca_dir, "crl", "ca.crl")
    der_path = os.path.join(ca_dir, "crl", "ca.crl.der")
    target = abs_path(params["path"]) or (der_path if params["format"] == "der" else crl_path)
    backup_file = None
    before = None
    if params["backup"] and os.path.isfile(target):
        with open(target, "rb") as handle:
            before = handle.read()
    result = run_op(module, crl_ensure, ca_dir, days=params["days"],
                    renew_before=params["renew_before"],
                    revocations=params["revoked_serials"], releases=params["released_serials"],
                    drop_expired=params["drop_expired"], force=params["force"],
                    check_mode=module.check_mode, path=params["path"] and target,
                    crl_format=params["format"],
                    passphrase=secret(module, "ca_passphrase", "ca_passphrase_env")).to_dict()
    changed = result["changed"]
    if changed and not module.check_mode and before is not None:
        backup_file = _write_backup(module, target, before)
    if not module.check_mode:
        changed = apply_file_attributes(module, [target] if params["path"] else [crl_path, der_path],
                                        changed)
    for warning in result.get("warnings") or []:
        module.warn(warning)
    output = {
        "changed": changed,
        "path": target,
        "format": params["format"],
        "crl_path": crl_path,
        "crl_der_path": der_path,
        "crl_number": result.get("crl_number"),
        "this_update": result.get("this_update"),
        "next_update": result.get("next_update"),
        "revoked_count": result.get("revoked_count"),
        "revoked": result.get("revoked", []),
        "released": result.get("released", []),
        "reasons": result.get("reasons", []),
    }
    if backup_file:
        output["backup_file"] = backup_file
    if params["return_content"] and os.path.isfile(target):
        with open(target, "rb") as handle:
            output["crl"] = crl_text(handle.read(), params["format"])
    if module._diff and result.get("diff"):
        output["diff"] = _file_diff(target, result["diff"])
    module.exit_json(**output)


def _file_diff(target, diff):
    """The revoked serials before and after (one "SERIAL reason" line
    each), shaped for Ansible's file diff."""
    def text(lines):
        return "".join(line + "\n" for line in lines)

    header = "%s (revoked serials)" % target
    return {"before_header": header, "after_header": header,
            "before": text(diff["before"]), "after": text(diff["after"])}


def _write_backup(module, path, data):
    """backup_local copies the file as it is now; the CRL was already
    replaced, so the previous bytes are written to the backup name."""
    import time

    name = "%s.%s.%s~" % (path, os.getpid(), time.strftime("%Y-%m-%d@%H:%M:%S"))
    try:
        with open(name, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        module.fail_json(msg="cannot write backup %s: %s" % (name, exc.strerror or exc))
    return name


if __name__ == "__main__":
    main()
