"""Declarative token keys and token facts.

``hsm_key_ensure`` makes sure a key pair with a label and/or id and the
given algorithm exists in the token (``present``), or that it does not
(``absent``: only with ``confirm_delete``, deleting a CA key is final).
A present key of another type or size is an error naming both, never a
reason to replace it. ``hsm_info`` gathers slots and tokens (no PIN), and on
request mechanisms (no PIN), keys and a login test (PIN).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...dependencies import missing

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:
    serialization = missing()

from ...algorithms.registry import get_algorithm, hsm_algorithm_names
from ...errors import HsmError, InputError, UsageError
from ..ca.keys import config_pending
from .results import HsmInfo, TokenKeyAbsent, TokenKeyPresent

if TYPE_CHECKING:
    import pkcs11

    from ...hsm.config import HsmConfig
    from ...hsm.session import HsmSession


def _config(hsm_config: str) -> HsmConfig:
    from ...hsm.config import load_hsm_config

    return load_hsm_config(hsm_config)


def _matching(hsm: HsmSession, label: str | None, key_id: str | None) -> list[pkcs11.Object]:
    """Private-key objects named by label and/or id (both must match)."""
    import pkcs11

    from ...hsm.keyid import parse_key_id
    from ...hsm.lookup import search

    raw_id = parse_key_id(key_id) if key_id not in (None, "") else None
    return search(hsm, pkcs11.ObjectClass.PRIVATE_KEY, label=label or None, key_id=raw_id)


def _clash(hsm: HsmSession, label: str | None, key_id: str | None) -> str | None:
    """A description of an object that has the label or the id but not both."""
    import pkcs11

    from ...hsm.keyid import format_key_id, parse_key_id
    from ...hsm.lookup import object_id, object_label, search

    raw_id = parse_key_id(key_id) if key_id not in (None, "") else None
    for cls in (pkcs11.ObjectClass.PRIVATE_KEY, pkcs11.ObjectClass.PUBLIC_KEY):
        if label:
            for obj in search(hsm, cls, label=label):
                if raw_id is not None and object_id(obj) != raw_id:
                    return "label '%s' is used by a key with id %s" % (
                        label, format_key_id(object_id(obj)))
        if raw_id is not None:
            for obj in search(hsm, cls, key_id=raw_id):
                if label and object_label(obj) != label:
                    return "id %s is used by a key labelled '%s'" % (
                        format_key_id(raw_id), object_label(obj))
    return None


def _public_pem(public_key: Any) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _facts(hsm: HsmSession, obj: pkcs11.Object, algorithm_name: str, changed: bool
           ) -> tuple[TokenKeyPresent, Any]:
    from ...hsm.keys import describe_key_object, public_key_of

    described = describe_key_object(obj)
    public_key = public_key_of(hsm, obj)
    return TokenKeyPresent(
        changed=changed, state="present", label=described["label"], key_id=described["id"],
        algorithm=algorithm_name, public_key=_public_pem(public_key), token=hsm.label,
        type=described["type"], size=described["size"], curve=described["curve"],
    ), public_key


def hsm_key_ensure(hsm_config: str, label: str | None = None, key_id: str | None = None,
                   algorithm: str | None = None, state: str = "present",
                   confirm_delete: bool = False, check_mode: bool = False
                   ) -> TokenKeyPresent | TokenKeyAbsent:
    """Ensure the token key named by ``label``/``key_id`` is present (with
    ``algorithm``) or absent. Returns the key facts and its public key PEM."""
    from ...hsm.session import open_session

    if not label and key_id in (None, ""):
        raise UsageError("a key label or a key id is required")
    if state not in ("present", "absent"):
        raise UsageError("state must be present or absent (got %r)" % (state,))
    wanted = None
    if state == "present":
        if not algorithm:
            raise UsageError("state=present needs an algorithm (%s)"
                             % ", ".join(hsm_algorithm_names()))
        wanted = get_algorithm(algorithm)
        if not wanted.hsm_capable:
            raise HsmError("algorithm %s cannot be generated in an HSM (HSM keys are %s; PQC "
                           "keys are software-only)" % (wanted.name, ", ".join(hsm_algorithm_names())))
        if not label:
            raise UsageError("state=present needs a key label (key_id alone cannot name a new key)")
    elif not confirm_delete:
        pass  # checked below, only when there is something to delete

    note = config_pending(hsm_config, check_mode)
    if note:
        return TokenKeyPresent(changed=state == "present", state=state, label=label,
                               key_id=key_id, algorithm=wanted.name if wanted else None,
                               public_key=None, token=None, type=None, size=None, curve=None,
                               deleted=[], note=note)
    config = _config(hsm_config)
    with open_session(config) as hsm:
        found = _matching(hsm, label, key_id)
        if len(found) > 1:
            raise HsmError("%d private keys match label %r / id %r in token '%s'; give both "
                           "label and id" % (len(found), label, key_id, hsm.label))
        if wanted is None:  # state == "absent"
            return _absent(hsm, found, label, key_id, confirm_delete, check_mode)
        if found:
            facts, public_key = _facts(hsm, found[0], wanted.name, changed=False)
            if not wanted.matches_public_key(public_key):
                raise HsmError("token key '%s' in token '%s' is %s but %s was requested; an "
                               "existing key is never replaced (use another label, or delete "
                               "it with state=absent and confirm_delete=true)"
                               % (label or key_id, hsm.label,
                                  wanted.describe_public_key(public_key), wanted.name))
            return facts
        clash = _clash(hsm, label, key_id)
        if clash:
            raise HsmError("cannot create key '%s' in token '%s': %s" % (label, hsm.label, clash))
        if check_mode:
            return TokenKeyPresent(changed=True, state="present", label=label, key_id=key_id,
                                   algorithm=wanted.name, public_key=None, token=hsm.label,
                                   type=None, size=None, curve=None)
        from ...hsm.keys import generate_key

        made_id = generate_key(hsm, wanted, label, key_id)
        found = _matching(hsm, label, made_id)
        if len(found) != 1:
            raise HsmError("key '%s' was generated in token '%s' but cannot be found again"
                           % (label, hsm.label))
        facts, _public_key = _facts(hsm, found[0], wanted.name, changed=True)
        return facts


def _absent(hsm: HsmSession, found: list[pkcs11.Object], label: str | None, key_id: str | None,
            confirm_delete: bool, check_mode: bool) -> TokenKeyAbsent:
    from ...hsm.keys import delete_key

    if not found:
        import pkcs11

        from ...hsm.keyid import parse_key_id
        from ...hsm.lookup import search

        raw_id = parse_key_id(key_id) if key_id not in (None, "") else None
        orphans = search(hsm, pkcs11.ObjectClass.PUBLIC_KEY, label=label or None, key_id=raw_id)
        if not orphans:
            return TokenKeyAbsent(changed=False, state="absent", label=label, key_id=key_id,
                                  token=hsm.label, deleted=[])
    if not confirm_delete:
        raise InputError("refusing to delete key %s from token '%s' without confirm_delete: true "
                         "(deleting a CA key cannot be undone)"
                         % ("'%s'" % label if label else "with id %s" % key_id, hsm.label))
    if check_mode:
        return TokenKeyAbsent(changed=True, state="absent", label=label, key_id=key_id,
                              token=hsm.label, deleted=[])
    deleted = delete_key(hsm, label, key_id)
    return TokenKeyAbsent(changed=bool(deleted), state="absent", label=label, key_id=key_id,
                          token=hsm.label, deleted=deleted)


def hsm_info(lib: str | None = None, hsm_config: str | None = None, mechanisms: bool = False,
             keys: bool = False, login_test: bool = False) -> HsmInfo:
    """Slots and tokens of ``lib`` (or of the configuration's library);
    ``mechanisms`` (no PIN), ``keys`` and ``login_test`` (PIN) need
    ``hsm_config``."""
    from ...hsm.discovery import list_slots

    config = _config(hsm_config) if hsm_config else None
    if lib is None:
        if config is None:
            raise UsageError("give lib (the PKCS#11 library) or hsm_config")
        lib = config.lib
    result = HsmInfo(changed=False, lib=lib, slots=list_slots(lib))
    if (mechanisms or keys or login_test) and config is None:
        raise UsageError("mechanisms, keys and login_test need hsm_config (which token, which "
                         "PIN variable)")
    if config is None:
        return result
    result.token = config.token or config.token_serial or config.slot
    if mechanisms:
        result.mechanisms = _mechanisms(config)
    if login_test:
        from ...hsm.discovery import test_connection

        tested = test_connection(config)
        result.login = {"ok": bool(tested.get("logged_in")), "token": tested.get("token"),
                        "serial": tested.get("serial"), "slot": tested.get("slot")}
    if keys:
        from ...hsm.keys import list_keys
        from ...hsm.session import open_session

        with open_session(config) as hsm:
            result.keys = list_keys(hsm)
    return result


def _mechanisms(config: HsmConfig) -> list[str]:
    import pkcs11

    from ...hsm.discovery import mechanism_name
    from ...hsm.library import describe_pkcs11_error
    from ...hsm.session import open_session

    with open_session(config, login=False) as hsm:
        try:
            return sorted(mechanism_name(m) for m in hsm.token.slot.get_mechanisms())
        except pkcs11.PKCS11Error as exc:
            raise HsmError("cannot list mechanisms of token '%s': %s"
                           % (hsm.label, describe_pkcs11_error(exc))) from None
