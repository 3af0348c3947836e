#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qpki.pki maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: qpki_cert_info
short_description: Read a certificate and, optionally, verify it against trust anchors
version_added: "0.1.0"
description:
  - Returns what an X.509 certificate says (names, dates, serial, subjectAltName, key and
    signature algorithms including ML-DSA, SLH-DSA, catalyst and composite, extensions) and how
    long it stays valid, much like M(community.crypto.x509_certificate_info).
  - With O(ca_path), also verifies it as C(qpki cert verify) does (RFC 5280 path validation;
    optionally for a host, IP address, e-mail address and purpose) and returns the verdict with
    the name of the rule that failed in RV(verification).
  - Reads only; never changes anything.
extends_documentation_fragment:
  - qpki.pki.qpki
attributes:
  diff_mode:
    support: none
options:
  path:
    description:
      - Certificate file (PEM or DER) on the managed host.
      - Exactly one of O(path) and O(content) is required.
    type: path
  content:
    description:
      - The certificate itself, PEM.
    type: str
  valid_at:
    description:
      - Moments to test the validity period at, by name. Each is an ISO 8601 time (UTC when no
        offset is given) or relative to now, V(+30d), V(-1w), V(+2w3d12h).
      - The result is in RV(valid_at), under the same names.
    type: dict
  ca_dir:
    description:
      - Directory of the CA that issued the certificate. Given, RV(revocation) says whether the
        CA's records have it good, revoked (when, why) or unknown.
    type: path
  ca_path:
    description:
      - Trust anchors (PEM, one or more certificates). Given, the certificate is verified.
    type: path
  untrusted_path:
    description:
      - Intermediate CA certificates (PEM) to build the path with.
    type: path
  crl_paths:
    description:
      - CRLs to check revocation against (one per CA of the path, as needed).
    type: list
    elements: path
  host:
    description:
      - DNS name the certificate must be valid for (its subjectAltName, RFC 6125 rules).
    type: str
  ip:
    description:
      - IP address the certificate must be valid for.
    type: str
  email:
    description:
      - E-mail address the certificate must be valid for.
    type: str
  purpose:
    description:
      - What the certificate must be good for (its extendedKeyUsage and keyUsage).
    type: str
    choices: [serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning]
  verify_at:
    description:
      - Moment to verify at (ISO 8601 or relative, as for O(valid_at)). Default now.
    type: str
  max_depth:
    description:
      - Intermediate CAs allowed in the path, self-issued ones not counted.
    type: int
    default: 8
  web_pki:
    description:
      - Also apply the CA/Browser Forum Baseline Requirements for publicly-trusted TLS
        certificates.
    type: bool
    default: false
  classical_only:
    description:
      - Ignore catalyst alternative signatures (verify like a client that only knows the
        classical one).
    type: bool
    default: false
  engine:
    description:
      - Path validation engine. V(auto) takes cryptography's verifier for the classical chains
        it implements and qpki's own for the others (PQC, hybrid...).
    type: str
    choices: [auto, cryptography, qpki]
    default: auto
notes:
  - A certificate that does not verify is not a task failure; test RV(verification.valid).
    Unreadable input (a missing file, a file that is not a certificate) fails the task.
  - O(untrusted_path), O(crl_paths), O(host), O(ip), O(email), O(purpose) and O(verify_at) are
    verification options and need O(ca_path).
seealso:
  - module: community.crypto.x509_certificate_info
  - module: qpki.pki.qpki_cert
"""

EXAMPLES = r"""
- name: Read a certificate
  qpki.pki.qpki_cert_info:
    path: /srv/pki/creds/www/cert.pem
    valid_at:
      next_month: "+30d"
  register: www

- name: Renew when it expires within 30 days
  ansible.builtin.debug:
    msg: "renew {{ www.subject }}"
  when: not www.valid_at.next_month

- name: Verify it as a TLS server certificate for www.example.com
  qpki.pki.qpki_cert_info:
    path: /srv/pki/creds/www/cert.pem
    ca_path: /srv/pki/root/ca.crt
    untrusted_path: /srv/pki/issuing/ca.crt
    crl_paths: [/srv/pki/issuing/crl/ca.crl]
    host: www.example.com
    purpose: serverAuth
  register: checked

- name: Stop when it does not verify
  ansible.builtin.assert:
    that: checked.verification.valid
    fail_msg: "{{ checked.verification.rule }}: {{ checked.verification.reason }}"
"""

RETURN = r"""
subject:
  description: Subject, RFC 4514.
  returned: success
  type: str
  sample: CN=www.example.com,O=Example
subject_ordered:
  description: Subject attributes in order, each a [name, value] pair.
  returned: success
  type: list
  elements: list
issuer:
  description: Issuer, RFC 4514.
  returned: success
  type: str
issuer_ordered:
  description: Issuer attributes in order, each a [name, value] pair.
  returned: success
  type: list
  elements: list
serial:
  description: Serial number, hexadecimal.
  returned: success
  type: str
serial_number:
  description: Serial number.
  returned: success
  type: int
version:
  description: X.509 version (3).
  returned: success
  type: int
not_before:
  description: Start of the validity period (UTC, ISO 8601).
  returned: success
  type: str
not_after:
  description: End of the validity period (UTC, ISO 8601).
  returned: success
  type: str
expired:
  description: Whether not_after has passed.
  returned: success
  type: bool
expires_in_seconds:
  description: Seconds until not_after (negative once expired).
  returned: success
  type: int
valid_at:
  description: For each name of O(valid_at), whether the certificate is valid then.
  returned: success
  type: dict
public_key_algorithm:
  description: Key algorithm (V(ecdsa-p256), V(ml-dsa-65), V(composite-mldsa65-ecdsa-p256)...).
  returned: success
  type: str
signature_algorithm:
  description: Signature algorithm of the issuer.
  returned: success
  type: str
hybrid:
  description: V(catalyst) or V(composite) for hybrid certificates.
  returned: for hybrid certificates
  type: str
alt_public_key_algorithm:
  description: The catalyst alternative (PQC) key algorithm.
  returned: for catalyst certificates
  type: str
alt_signature_algorithm:
  description: The catalyst alternative signature algorithm.
  returned: for catalyst certificates
  type: str
composite_components:
  description: The two component algorithms of a composite key.
  returned: for composite keys
  type: list
  elements: str
subject_alt_name:
  description: subjectAltName entries (V(DNS:...), V(IP:...), V(email:...), V(URI:...)...).
  returned: success
  type: list
  elements: str
subject_alt_name_critical:
  description: Whether subjectAltName is critical.
  returned: success
  type: bool
key_usage:
  description: keyUsage bits set (V(digitalSignature), V(keyCertSign)...), null when absent.
  returned: success
  type: list
  elements: str
extended_key_usage:
  description: extendedKeyUsage purposes (V(serverAuth)...), null when absent.
  returned: success
  type: list
  elements: str
basic_constraints:
  description: basicConstraints (ca, path_length, critical), null when absent.
  returned: success
  type: dict
name_constraints:
  description: nameConstraints (permitted, excluded, critical), null when absent.
  returned: success
  type: dict
subject_key_identifier:
  description: subjectKeyIdentifier, hexadecimal.
  returned: success
  type: str
authority_key_identifier:
  description: keyIdentifier of authorityKeyIdentifier, hexadecimal.
  returned: success
  type: str
extensions:
  description: Every extension (name, critical, value as text).
  returned: success
  type: list
  elements: dict
fingerprint_sha256:
  description: SHA-256 fingerprint of the DER certificate, hexadecimal.
  returned: success
  type: str
verification:
  description: The verdict of the verification.
  returned: with O(ca_path)
  type: dict
  contains:
    valid:
      description: Every rule held.
      returned: always
      type: bool
    rule:
      description: V(ok), or the name of the rule that failed (V(name.mismatch),
        V(validity.expired), V(name_constraints.permitted)...; the list is in docs/VERIFY.md).
      returned: always
      type: str
    reason:
      description: One line, the failure's message or V(ok).
      returned: always
      type: str
    failures:
      description: Every broken rule (rule, message).
      returned: always
      type: list
      elements: dict
    path:
      description: Subjects of the path, the certificate first, the trust anchor last.
      returned: always
      type: list
      elements: str
    engine:
      description: V(cryptography) or V(qpki), the engine that judged.
      returned: always
      type: str
    revoked:
      description: A certificate of the path is on a CRL.
      returned: always
      type: bool
revocation:
  description: The certificate's status in the records of O(ca_dir) - C(status) (good, revoked or
    unknown), C(serial), and for a revoked one C(revoked_at), C(reason) and C(invalidity_date).
  returned: when O(ca_dir) is given
  type: dict
  sample: {status: revoked, serial: 5A1F, revoked_at: "2026-12-01T10:00:00Z", reason: keyCompromise}
"""

from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.qpki.pki.plugins.module_utils.input_file import read_crl_input, read_input
from ansible_collections.qpki.pki.plugins.module_utils.module_argspec import create_module
from ansible_collections.qpki.pki.plugins.module_utils.module_support import (
    abs_path, check_dependencies, run_op)
from ansible_collections.qpki.pki.plugins.module_utils.ops.cert.details import (
    certificate_report)
from ansible_collections.qpki.pki.plugins.module_utils.process_hygiene import disable_core_dumps

PURPOSES = ["serverAuth", "clientAuth", "codeSigning", "emailProtection", "timeStamping",
            "OCSPSigning"]


def _read(module, path, what):
    return run_op(module, read_input, path, what)


def main():
    disable_core_dumps()
    module = create_module(
        AnsibleModule, _load_params,
        argument_spec=dict(
            path=dict(type="path"),
            content=dict(type="str"),
            valid_at=dict(type="dict"),
            ca_path=dict(type="path"),
            ca_dir=dict(type="path"),
            untrusted_path=dict(type="path"),
            crl_paths=dict(type="list", elements="path"),
            host=dict(type="str"),
            ip=dict(type="str"),
            email=dict(type="str"),
            purpose=dict(type="str", choices=PURPOSES),
            verify_at=dict(type="str"),
            max_depth=dict(type="int", default=8),
            web_pki=dict(type="bool", default=False),
            classical_only=dict(type="bool", default=False),
            engine=dict(type="str", choices=["auto", "cryptography", "qpki"], default="auto"),
        ),
        required_one_of=[["path", "content"]],
        mutually_exclusive=[["path", "content"]],
        required_by=dict.fromkeys(("untrusted_path", "crl_paths", "host", "ip", "email",
                                   "purpose", "verify_at"), "ca_path"),
        supports_check_mode=True,
    )
    check_dependencies(module, missing_required_lib)
    params = module.params
    path = abs_path(params["path"])
    data = _read(module, path, "certificate") if path else params["content"].encode("utf-8")
    ca_path = abs_path(params["ca_path"])
    untrusted = abs_path(params["untrusted_path"])
    result = run_op(
        module, certificate_report, data, path or "content",
        valid_at={str(k): str(v) for k, v in (params["valid_at"] or {}).items()},
        ca_data=_read(module, ca_path, "CA certificates") if ca_path else None,
        untrusted_data=_read(module, untrusted, "intermediate certificates") if untrusted else None,
        crl_data=[run_op(module, read_crl_input, abs_path(p)) for p in params["crl_paths"] or []],
        verify_at=params["verify_at"], purpose=params["purpose"], host=params["host"],
        ip=params["ip"], email=params["email"], max_depth=params["max_depth"],
        web_pki=params["web_pki"], classical_only=params["classical_only"],
        engine=params["engine"], ca_dir=abs_path(params["ca_dir"]))
    module.exit_json(**result.to_dict())


if __name__ == "__main__":
    main()
