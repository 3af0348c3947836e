"""Helpers for the Ansible modules (plugins/modules/qpki_*.py).

This file belongs to the Ansible front end but does not import Ansible: it
works on the ``AnsibleModule`` object (and Ansible helpers) it is given, so
the core package stays free of Ansible (the ``qpki`` console script never
loads this file).
"""

import os
import traceback

from .dependencies import missing_libraries, missing_traceback
from .errors import QpkiError

REQUIREMENTS = ("for the qpki core (cryptography >= 49, pyyaml, pyasn1, pyasn1-modules; "
                "python-pkcs11 for HSM keys)")
# import name -> pip name, where they differ
_PIP_NAMES = {"pyasn1_modules": "pyasn1-modules", "yaml": "pyyaml", "pkcs11": "python-pkcs11"}


def check_dependencies(module, missing_required_lib):
    """Stop the module with Ansible's ``missing_required_lib()`` message when
    a library the core imports at module level is missing (or too old) on
    the managed host."""
    missing = missing_libraries()
    if not missing:
        return
    names = ", ".join(sorted(_PIP_NAMES.get(name, name) for name in missing))
    module.fail_json(msg=missing_required_lib(names, reason=REQUIREMENTS),
                     exception=missing_traceback())


def run_op(module, function, *args, **kwargs):
    """Call an ops function; a QpkiError becomes ``fail_json(msg=...)``."""
    try:
        return function(*args, **kwargs)
    except QpkiError as exc:
        module.fail_json(msg=str(exc))
    except Exception as exc:  # a bug: one-line message, traceback in 'exception'
        module.fail_json(msg="internal error: %s: %s" % (type(exc).__name__,
                                                         " ".join(str(exc).split())),
                         exception=traceback.format_exc())
    return None  # not reached: fail_json exits


def secret(module, value_option, env_option):
    """A passphrase as bytes: the ``value_option`` parameter (no_log) or the
    environment variable named by ``env_option``; None when neither is set."""
    value = module.params.get(value_option)
    if value:
        return value.encode("utf-8")
    from .env_secret import secret_from_env

    return run_op(module, secret_from_env, module.params.get(env_option),
                  f"named by {env_option}; set it with the task's environment: keyword")


def key_request(module, passphrase=None):
    """The KeyRequest described by hsm_config / key_label / key_id / generate_key."""
    from .ops.ca.keys import KeyRequest

    params = module.params
    hsm_config = abs_path(params.get("hsm_config"))
    if hsm_config is None and params.get("generate_key"):
        module.fail_json(msg="generate_key needs hsm_config")
    if hsm_config is not None and not (params.get("key_label") or params.get("key_id")):
        module.fail_json(msg="hsm_config needs key_label and/or key_id")
    return run_op(module, KeyRequest, hsm_config=hsm_config, key_label=params.get("key_label"),
                  key_id=params.get("key_id"), generate_key=bool(params.get("generate_key")),
                  passphrase=passphrase)


def abs_path(path):
    if not path:
        return None
    return os.path.abspath(os.path.expanduser(path))


def values(module, option="vars"):
    """The profile variables (a dict; None values dropped)."""
    given = module.params.get(option) or {}
    return {k: v for k, v in given.items() if v is not None}


def apply_file_attributes(module, paths, changed):
    """Apply mode/owner/group/SELinux attributes (add_file_common_args) to
    every existing path; returns the updated ``changed``."""
    for path in paths:
        if not path or not os.path.exists(path):
            continue
        file_args = module.load_file_common_arguments(module.params, path=path)
        changed = module.set_fs_attributes_if_different(file_args, changed)
    return changed


def file_attributes_requested(module):
    return any(module.params.get(name) is not None
               for name in ("mode", "owner", "group", "seuser", "serole", "setype",
                            "selevel", "attributes"))


def strip_none(mapping):
    return {k: v for k, v in mapping.items() if v is not None}
