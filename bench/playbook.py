"""Playbook comparison with community.crypto (issue item 3).

The same play, on the same localhost inventory and Ansible settings
(pipelining on, no fact gathering), built twice:

* the collection: ``qpki_ca`` (root), ``qpki_ca`` (issuing, signed by the
  root), one ``qpki_cert`` task with the batch form (``certificates``) for
  the TLS certificates, ``qpki_crl``;
* community.crypto: ``openssl_privatekey`` + ``openssl_csr`` +
  ``x509_certificate`` (``selfsigned``, then provider ``ownca``) for the two
  CAs, ``x509_certificate`` with provider ``ownca`` in a loop for the TLS
  certificates, ``x509_crl``.

The TLS CSRs (P-256, CN + SAN) are made beforehand for both sides, as the
servers owning the keys would make them; the timed plays do the CA's work.
Each play runs twice: first run (everything is created) and rerun (nothing
to do: ``changed=0`` expected; for qpki the PKI directory must also be
byte-identical, i.e. nothing was signed).
"""

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

from . import common

QPKI_PLAY = """---
- name: qpki.pki - root CA, issuing CA, TLS certificates, CRL
  hosts: bench
  gather_facts: false
  tasks:
    - name: Root CA
      qpki.pki.qpki_ca:
        ca_dir: "{{ pki }}/root"
        profile: ec/root-ca
        vars: {cn: Bench Root CA}
    - name: Issuing CA signed by the root
      qpki.pki.qpki_ca:
        ca_dir: "{{ pki }}/issuing"
        profile: ec/issuing-ca
        vars: {cn: Bench Issuing CA}
        parent_ca_dir: "{{ pki }}/root"
    - name: TLS certificates, one batch
      qpki.pki.qpki_cert:
        ca_dir: "{{ pki }}/issuing"
        profile: ec/tls-server
        certificates: "{{ tls }}"
    - name: CRL
      qpki.pki.qpki_crl:
        ca_dir: "{{ pki }}/issuing"
"""

COMMUNITY_PLAY = """---
- name: community.crypto - root CA, issuing CA, TLS certificates, CRL
  hosts: bench
  gather_facts: false
  tasks:
    - name: Root key
      community.crypto.openssl_privatekey:
        path: "{{ pki }}/root.key"
        type: ECC
        curve: secp384r1
    - name: Root CSR
      community.crypto.openssl_csr:
        path: "{{ pki }}/root.csr"
        privatekey_path: "{{ pki }}/root.key"
        common_name: Bench Root CA
        basic_constraints: ["CA:TRUE", "pathlen:1"]
        basic_constraints_critical: true
        key_usage: [keyCertSign, cRLSign]
        key_usage_critical: true
    - name: Root certificate
      community.crypto.x509_certificate:
        path: "{{ pki }}/root.crt"
        csr_path: "{{ pki }}/root.csr"
        privatekey_path: "{{ pki }}/root.key"
        provider: selfsigned
        selfsigned_not_after: "+7300d"
    - name: Issuing key
      community.crypto.openssl_privatekey:
        path: "{{ pki }}/issuing.key"
        type: ECC
        curve: secp256r1
    - name: Issuing CSR
      community.crypto.openssl_csr:
        path: "{{ pki }}/issuing.csr"
        privatekey_path: "{{ pki }}/issuing.key"
        common_name: Bench Issuing CA
        basic_constraints: ["CA:TRUE", "pathlen:0"]
        basic_constraints_critical: true
        key_usage: [keyCertSign, cRLSign]
        key_usage_critical: true
    - name: Issuing certificate signed by the root
      community.crypto.x509_certificate:
        path: "{{ pki }}/issuing.crt"
        csr_path: "{{ pki }}/issuing.csr"
        provider: ownca
        ownca_path: "{{ pki }}/root.crt"
        ownca_privatekey_path: "{{ pki }}/root.key"
        ownca_not_after: "+3650d"
    - name: TLS certificates
      community.crypto.x509_certificate:
        path: "{{ item.path }}"
        csr_path: "{{ item.csr_path }}"
        provider: ownca
        ownca_path: "{{ pki }}/issuing.crt"
        ownca_privatekey_path: "{{ pki }}/issuing.key"
        ownca_not_after: "+365d"
      loop: "{{ tls }}"
    - name: CRL
      community.crypto.x509_crl:
        path: "{{ pki }}/issuing.crl"
        privatekey_path: "{{ pki }}/issuing.key"
        issuer: {CN: Bench Issuing CA}
        last_update: "+0s"
        next_update: "+7d"
        ignore_timestamps: true
        revoked_certificates: []
"""


def prerequisites():
    """None when the comparison can run, else why not."""
    module = common.REPO / "plugins" / "modules" / "qpki_cert.py"
    if "certificates:" not in module.read_text():
        return "plugins/modules/qpki_cert.py has no batch form (certificates) yet"
    if not (common.VENV_BIN / "ansible-playbook").exists():
        return "ansible-playbook is not installed in the venv"
    listed = common.run([common.VENV_BIN / "ansible-galaxy", "collection", "list",
                         "community.crypto"])
    match = re.search(r"community\.crypto\s+(\S+)", listed.stdout)
    if not match:
        return ("community.crypto is not installed (pip install 'ansible>=12,<13' in the venv "
                "bundles it)")
    return None


def _version():
    listed = common.run([common.VENV_BIN / "ansible-galaxy", "collection", "list",
                         "community.crypto"])
    match = re.search(r"community\.crypto\s+(\S+)", listed.stdout)
    return match.group(1) if match else "?"


def _tree_digest(path):
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if name == ".lock":
                continue
            full = Path(root) / name
            digest.update(str(full.relative_to(path)).encode() + b"\0" + full.read_bytes())
    return digest.hexdigest()


def _play(work, play, extra, env):
    start = time.perf_counter()
    proc = common.run([common.VENV_BIN / "ansible-playbook", "-i", work / "inventory.ini",
                       "-e", "@%s" % extra, play], env=env, cwd=work, timeout=1800)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (Path(play).name, proc.stdout[-3000:]))
    recap = re.search(r"ok=(\d+)\s+changed=(\d+)", proc.stdout)
    tasks = {name.strip(): float(value) for name, value in
             re.findall(r"^(\S.*?) -{3,} (\d+\.\d+)s$", proc.stdout, re.M)}
    return {"seconds": seconds, "ok": int(recap.group(1)), "changed": int(recap.group(2)),
            "tasks": tasks}


def run(work, certs=50, log=print):
    problem = prerequisites()
    if problem:
        log("  skipped: %s" % problem)
        return {"skipped": True, "todo": "TODO (issue 7 item 3): not measured: %s." % problem}
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    collections = work / "collections" / "ansible_collections" / "qpki"
    collections.mkdir(parents=True, exist_ok=True)
    if not (collections / "pki").exists():
        os.symlink(common.REPO, collections / "pki")
    (work / "inventory.ini").write_text(
        "[bench]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n"
        % (common.VENV_BIN / "python"))
    env = {"ANSIBLE_COLLECTIONS_PATH": work / "collections", "ANSIBLE_PIPELINING": "1",
           "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_LOCAL_TEMP": work / "tmp-local",
           "ANSIBLE_REMOTE_TEMP": work / "tmp-remote", "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_STDOUT_CALLBACK": "default",
           "ANSIBLE_DEPRECATION_WARNINGS": "0",
           "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "PATH": "%s:%s" % (common.VENV_BIN,
                                                                   os.environ.get("PATH", ""))}
    csrs = common.write_csrs(work / "csrs", certs, "ec")
    results = {"certs": certs, "community_version": _version()}
    for side, text in (("qpki", QPKI_PLAY), ("community", COMMUNITY_PLAY)):
        pki = work / ("pki-%s" % side)
        shutil.rmtree(pki, ignore_errors=True)
        (pki / "tls").mkdir(parents=True)
        play = work / ("%s.yml" % side)
        play.write_text(text)
        extra = work / ("%s-vars.json" % side)
        extra.write_text(json.dumps({"pki": str(pki), "tls": [
            {"csr_path": str(csr), "path": str(pki / "tls" / (csr.stem + ".crt"))}
            for csr in csrs]}))
        first = _play(work, play, extra, env)
        before = _tree_digest(pki)
        rerun = _play(work, play, extra, env)
        rerun["untouched"] = _tree_digest(pki) == before
        results[side] = {"first": first, "rerun": rerun}
        log("  %s: first run %.1f s (changed=%d), rerun %.1f s (changed=%d, files %s)"
            % (side, first["seconds"], first["changed"], rerun["seconds"], rerun["changed"],
               "unchanged" if rerun["untouched"] else "CHANGED"))
        if rerun["tasks"]:
            log("    rerun per task: " + ", ".join("%s %.2f s" % kv
                                                   for kv in rerun["tasks"].items()))
    for run_name, target in (("first", 10), ("rerun", 30)):
        ratio = results["community"][run_name]["seconds"] / results["qpki"][run_name]["seconds"]
        log("  %s: qpki.pki %.1fx faster than community.crypto (target >= %dx)"
            % ("first run" if run_name == "first" else "rerun", ratio, target))
    results["description"] = (
        "Same localhost inventory and settings for both (pipelining on, no fact gathering),"
        " %d TLS certificates from CSRs made beforehand (the servers own their keys), first run"
        " on an empty directory, then a rerun with nothing to do. qpki.pki: 4 tasks"
        " (`qpki_ca` x2, one `qpki_cert` with `certificates`, `qpki_crl`). community.crypto %s:"
        " `openssl_privatekey` + `openssl_csr` + `x509_certificate` for each CA,"
        " `x509_certificate` (provider `ownca`) looped over the CSRs, `x509_crl`"
        " (`ignore_timestamps: true` so that its rerun is idempotent). The issue's own baseline"
        " (110 s / 109 s) also generated the 50 TLS keys and CSRs in the play; the collection"
        " has no batch form for that yet (a `qpki_credential` batch would be the equivalent),"
        " so that variant is not measured here." % (certs, results["community_version"]))
    return results
