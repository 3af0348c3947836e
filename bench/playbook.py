"""Playbook comparison with community.crypto (issue 7, item 3).

The same plays, on the same localhost inventory and Ansible settings
(pipelining on, no fact gathering), built twice: with the collection and with
community.crypto. Two variants:

* ``keys`` (the issue's own baseline): a root CA, an issuing CA, 50 TLS
  servers whose keys, CSRs and certificates are all made in the play, a CRL.
  qpki.pki: ``qpki_ca`` x2, one ``qpki_credential`` task with the batch form
  (``credentials``), ``qpki_crl``. community.crypto: ``openssl_privatekey``
  + ``openssl_csr`` + ``x509_certificate`` for each CA, then
  ``openssl_privatekey``, ``openssl_csr`` and ``x509_certificate`` (provider
  ``ownca``) each looped over the servers, ``x509_crl``.
* ``csrs``: the TLS CSRs (P-256, CN + SAN) are made beforehand for both
  sides, as servers owning their keys would; the plays do the CA's work.
  qpki.pki: one ``qpki_cert`` task with the batch form (``certificates``).

Each play runs twice: first run (everything is created) and rerun (nothing to
do: ``changed=0`` expected; the PKI directory must also be byte-identical,
audit.log and index included, i.e. nothing was signed). The qpki plays run
through the in-process fast path of the action plugins (the inventory is
``ansible_connection=local``); the ``keys`` variant is also run with
``QPKI_IN_PROCESS=0`` (every module through AnsiballZ) for comparison.
"""

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

from . import common

QPKI_HEAD = """---
- name: qpki.pki - root CA, issuing CA, TLS %(what)s, CRL
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
"""

QPKI_TLS = {
    "csrs": """    - name: TLS certificates, one batch
      qpki.pki.qpki_cert:
        ca_dir: "{{ pki }}/issuing"
        profile: ec/tls-server
        certificates: "{{ tls }}"
""",
    "keys": """    - name: TLS credentials (key + certificate), one batch
      qpki.pki.qpki_credential:
        ca_dir: "{{ pki }}/issuing"
        cred_dir: "{{ pki }}/credentials"
        profile: ec/tls-server
        credentials: "{{ servers }}"
"""}

QPKI_TAIL = """    - name: CRL
      qpki.pki.qpki_crl:
        ca_dir: "{{ pki }}/issuing"
"""


def qpki_play(variant):
    what = "certificates" if variant == "csrs" else "keys and certificates"
    return QPKI_HEAD % {"what": what} + QPKI_TLS[variant] + QPKI_TAIL


COMMUNITY_HEAD = """---
- name: community.crypto - root CA, issuing CA, TLS %(what)s, CRL
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
"""

COMMUNITY_TLS = {
    "csrs": """    - name: TLS certificates
      community.crypto.x509_certificate:
        path: "{{ item.path }}"
        csr_path: "{{ item.csr_path }}"
        provider: ownca
        ownca_path: "{{ pki }}/issuing.crt"
        ownca_privatekey_path: "{{ pki }}/issuing.key"
        ownca_not_after: "+365d"
      loop: "{{ tls }}"
""",
    "keys": """    - name: TLS keys
      community.crypto.openssl_privatekey:
        path: "{{ pki }}/tls/{{ item.credential_id }}.key"
        type: ECC
        curve: secp256r1
      loop: "{{ servers }}"
    - name: TLS CSRs
      community.crypto.openssl_csr:
        path: "{{ pki }}/tls/{{ item.credential_id }}.csr"
        privatekey_path: "{{ pki }}/tls/{{ item.credential_id }}.key"
        common_name: "{{ item.vars.cn }}"
        subject_alt_name: "{{ item.vars.dns_names | map('regex_replace', '^', 'DNS:') | list }}"
        key_usage: [digitalSignature]
        key_usage_critical: true
        extended_key_usage: [serverAuth]
      loop: "{{ servers }}"
    - name: TLS certificates
      community.crypto.x509_certificate:
        path: "{{ pki }}/tls/{{ item.credential_id }}.crt"
        csr_path: "{{ pki }}/tls/{{ item.credential_id }}.csr"
        provider: ownca
        ownca_path: "{{ pki }}/issuing.crt"
        ownca_privatekey_path: "{{ pki }}/issuing.key"
        ownca_not_after: "+365d"
      loop: "{{ servers }}"
"""}

COMMUNITY_TAIL = """    - name: CRL
      community.crypto.x509_crl:
        path: "{{ pki }}/issuing.crl"
        privatekey_path: "{{ pki }}/issuing.key"
        issuer: {CN: Bench Issuing CA}
        last_update: "+0s"
        next_update: "+7d"
        ignore_timestamps: true
        revoked_certificates: []
"""


def community_play(variant):
    what = "certificates" if variant == "csrs" else "keys and certificates"
    return COMMUNITY_HEAD % {"what": what} + COMMUNITY_TLS[variant] + COMMUNITY_TAIL


def prerequisites():
    """None when the comparison can run, else why not."""
    module = common.REPO / "plugins" / "modules" / "qpki_cert.py"
    if "certificates:" not in module.read_text():
        return "plugins/modules/qpki_cert.py has no batch form (certificates) yet"
    module = common.REPO / "plugins" / "modules" / "qpki_credential.py"
    if "credentials:" not in module.read_text():
        return "plugins/modules/qpki_credential.py has no batch form (credentials) yet"
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
                       "-e", "@%s" % extra, play], env=env, cwd=work, timeout=3600)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (Path(play).name, proc.stdout[-3000:]))
    recap = re.search(r"ok=(\d+)\s+changed=(\d+)", proc.stdout)
    tasks = {name.strip(): float(value) for name, value in
             re.findall(r"^(\S.*?) -{3,} (\d+\.\d+)s$", proc.stdout, re.M)}
    return {"seconds": seconds, "ok": int(recap.group(1)), "changed": int(recap.group(2)),
            "tasks": tasks}


def _file_digest(path):
    path = Path(path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _servers(certs):
    names = ["host%05d.bench.example" % number for number in range(certs)]
    return [{"credential_id": name, "vars": {"cn": name, "dns_names": [name]}}
            for name in names]


def _side(work, env, variant, side, csrs, certs, log, label=None, extra_env=None):
    """First run and rerun of one play; returns their figures."""
    label = label or side
    pki = work / ("pki-%s-%s" % (variant, label))
    shutil.rmtree(pki, ignore_errors=True)
    (pki / "tls").mkdir(parents=True)
    play = work / ("%s-%s.yml" % (variant, side))
    play.write_text(qpki_play(variant) if side == "qpki" else community_play(variant))
    extra = work / ("%s-%s-vars.json" % (variant, label))
    extra.write_text(json.dumps({
        "pki": str(pki), "servers": _servers(certs),
        "tls": [{"csr_path": str(csr), "path": str(pki / "tls" / (csr.stem + ".crt"))}
                for csr in csrs]}))
    env = dict(env, **(extra_env or {}))
    first = _play(work, play, extra, env)
    before = _tree_digest(pki)
    audit = _file_digest(pki / "issuing" / "audit.log")
    rerun = _play(work, play, extra, env)
    rerun["untouched"] = _tree_digest(pki) == before
    if side == "qpki":
        rerun["audit_untouched"] = _file_digest(pki / "issuing" / "audit.log") == audit
    log("  %s/%s: first run %.1f s (changed=%d), rerun %.1f s (changed=%d, files %s)"
        % (variant, label, first["seconds"], first["changed"], rerun["seconds"],
           rerun["changed"], "unchanged" if rerun["untouched"] else "CHANGED"))
    if rerun["tasks"]:
        log("    rerun per task: " + ", ".join("%s %.2f s" % kv for kv in rerun["tasks"].items()))
    return {"first": first, "rerun": rerun}


DESCRIPTIONS = {
    "keys": (
        "**The issue's play.** A root CA, an issuing CA, %(certs)d TLS servers whose keys, CSRs"
        " and certificates are all made in the play, and a CRL; same localhost inventory and"
        " settings for both (pipelining on, no fact gathering), first run on an empty directory,"
        " then a rerun with nothing to do. qpki.pki: 4 tasks (`qpki_ca` x2, one `qpki_credential`"
        " with `credentials`, `qpki_crl`). community.crypto %(version)s: `openssl_privatekey` +"
        " `openssl_csr` + `x509_certificate` for each CA, then `openssl_privatekey`,"
        " `openssl_csr` and `x509_certificate` (provider `ownca`) each looped over the servers,"
        " `x509_crl` (`ignore_timestamps: true` so that its rerun is idempotent). The qpki"
        " modules run in the worker process (local connection); the same play with"
        " `QPKI_IN_PROCESS=0` (every module through AnsiballZ) is measured too."),
    "csrs": (
        "**Pre-made CSRs.** The same, but the %(certs)d TLS CSRs are made beforehand for both"
        " sides (servers owning their keys), so the plays do only the CA's work. qpki.pki: one"
        " `qpki_cert` task with `certificates` instead of `qpki_credential`; community.crypto:"
        " `x509_certificate` (provider `ownca`) looped over the CSRs."),
}


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
           "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
           "QPKI_IN_PROCESS": None,
           "PATH": "%s:%s" % (common.VENV_BIN, os.environ.get("PATH", ""))}
    csrs = common.write_csrs(work / "csrs", certs, "ec")
    version = _version()
    results = {"certs": certs, "community_version": version, "variants": {}}
    for variant in ("keys", "csrs"):
        figures = {}
        for side in ("qpki", "community"):
            figures[side] = _side(work, env, variant, side, csrs, certs, log)
        if variant == "keys":
            figures["qpki_ansiballz"] = _side(work, env, variant, "qpki", csrs, certs, log,
                                              label="qpki-ansiballz",
                                              extra_env={"QPKI_IN_PROCESS": "0"})
        for run_name, target in (("first", 10), ("rerun", 30)):
            ratio = (figures["community"][run_name]["seconds"]
                     / figures["qpki"][run_name]["seconds"])
            log("  %s, %s: qpki.pki %.1fx faster than community.crypto (target >= %dx)"
                % (variant, "first run" if run_name == "first" else "rerun", ratio, target))
        figures["description"] = DESCRIPTIONS[variant] % {"certs": certs, "version": version}
        results["variants"][variant] = figures
    # The variant is the headline figure.
    results["qpki"] = results["variants"]["keys"]["qpki"]
    results["community"] = results["variants"]["keys"]["community"]
    results["description"] = " ".join(results["variants"][v]["description"]
                                      for v in ("keys", "csrs"))
    return results
