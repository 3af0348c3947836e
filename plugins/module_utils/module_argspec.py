"""Argument-spec helpers shared by the Ansible modules: the spec side of the
doc fragments in plugins/doc_fragments/qpki.py.

``create_module`` makes every module's ``AnsibleModule``; it refuses a string
given for any list option first. Ansible would otherwise split the string at
commas (``released_serials: "0A,0B"`` becomes a list) or read each part as a
mapping (``revoked_serials: "serial=0A"`` becomes ``[{serial: 0A}]``, and
``revoked_serials: "0A"`` fails with a message that names no option). A
``type`` callable in the spec cannot do this check: Ansible then ignores
``elements`` and ``options``, and ansible-test's validate-modules refuses a
spec whose type differs from the documented ``list``.

Like module_support, this file does not import Ansible: the module hands
over its ``AnsibleModule`` class and Ansible's reader of the task arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

Spec = dict[str, dict[str, Any]]
Module = TypeVar("Module")

# The release after which the former option names (passphrase, passphrase_env) go.
OLD_PASSPHRASE_NAMES_UNTIL = "0.2.0"
_ELEMENT_NOUNS = {"dict": "mappings", "str": "strings", "path": "paths", "int": "integers"}


def passphrase_options(prefix: str) -> Spec:
    """The argument spec of ``<prefix>_passphrase`` (no_log) and
    ``<prefix>_passphrase_env``, named for the key they protect, with the
    former names ``passphrase`` / ``passphrase_env`` as deprecated aliases."""
    def option(suffix: str, no_log: bool) -> dict[str, Any]:
        old = "passphrase" + suffix
        return dict(type="str", no_log=no_log, aliases=[old], deprecated_aliases=[dict(
            name=old, version=OLD_PASSPHRASE_NAMES_UNTIL, collection_name="qpki.pki")])

    return {f"{prefix}_passphrase": option("", True),
            f"{prefix}_passphrase_env": option("_env", False)}


def list_given_as_text(argument_spec: Mapping[str, Mapping[str, Any]],
                       given: Mapping[str, Any]) -> str | None:
    """The one-line refusal of the first list option of ``argument_spec``
    (under its name or an alias) that ``given``, the task's arguments, sets
    to a string; None when there is none. The string is not repeated: it may
    be a mapping that holds a secret."""
    for name, spec in argument_spec.items():
        if spec.get("type") != "list":
            continue
        for key in (name, *spec.get("aliases", ())):
            if isinstance(given.get(key), str):
                return "%s must be a list of %s, not a string; write it as %s: [%s]" % (
                    key, _ELEMENT_NOUNS.get(spec.get("elements", "str"), "items"), key, _item_example(spec))
    return None


def _item_example(spec: Mapping[str, Any]) -> str:
    if spec.get("elements") != "dict":
        return "..., ..."
    options = spec.get("options") or {}
    first = next((name for name, option in options.items() if option.get("required")),
                 next(iter(options), "key"))
    return "{%s: ...}" % first


def create_module(module_class: Callable[..., Module], load_params: Callable[[], Any],
                  argument_spec: Spec, **options: Any) -> Module:
    """``module_class(argument_spec=argument_spec, **options)`` (the module's
    ``AnsibleModule``), unless the task sets a list option to a string: then
    the module fails naming that option, before Ansible converts anything.
    ``load_params``: Ansible's ``_load_params`` (the task arguments as given)."""
    try:
        given = load_params() or {}
    except Exception:  # AnsibleModule reports unreadable arguments itself
        given = {}
    refusal = list_given_as_text(argument_spec, given)
    if refusal is None:
        return module_class(argument_spec=argument_spec, **options)
    # A module that takes every option as given (secrets still masked) only to fail with the refusal.
    lenient = {name: dict(type="raw", no_log=bool(spec.get("no_log")), aliases=list(spec.get("aliases", ())))
               for name, spec in argument_spec.items()}
    module: Any = module_class(argument_spec=lenient, supports_check_mode=True,
                               add_file_common_args=bool(options.get("add_file_common_args")))
    module.fail_json(msg=refusal)
    return module  # not reached: fail_json exits
