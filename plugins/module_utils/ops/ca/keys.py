"""Creating and reopening the signing keys of a CA, whatever holds them.

``storage`` entries are the ones of ``ca.meta.json`` (seed format):
``{"type": "software", "path": "private/ca.<alg>.key"}`` or
``{"type": "pkcs11", "config": <hsm yaml>, "label": ..., "key_id": ...}``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...algorithms.registry import get_algorithm
from ...errors import HsmError, InputError, StoreError, UsageError
from ...store.private_key import write_private_key
from ...signer.software import SoftwareSigner

if TYPE_CHECKING:
    from ...signer.base import Signer
    from ...signer.pkcs11 import Pkcs11Signer


class KeyRequest:
    """Where a new CA (or credential) key should live."""

    def __init__(self, hsm_config: str | None = None, key_label: str | None = None,
                 key_id: str | None = None, generate_key: bool = False,
                 passphrase: bytes | None = None) -> None:
        self.hsm_config = hsm_config
        self.key_label = key_label
        self.key_id = key_id
        self.generate_key = generate_key
        self.passphrase = passphrase
        if hsm_config is None and (key_label or key_id):
            raise InputError("a key label or id names a key in a token: it needs an HSM "
                             "configuration (hsm_config)")

    @property
    def in_hsm(self) -> bool:
        return self.hsm_config is not None

    def token_config(self) -> str:
        """The HSM configuration of a key in a token (``in_hsm``)."""
        if self.hsm_config is None:
            raise UsageError("a key in a token needs an HSM configuration (hsm_config)")
        return self.hsm_config


def check_hsm_algorithm(algorithm_name: str, profile_name: str) -> None:
    algorithm = get_algorithm(algorithm_name)
    if not algorithm.hsm_capable:
        raise HsmError(
            "profile %s uses %s, which is not available in HSM mode (HSM keys are "
            "classical only; use a software key or a hybrid profile)"
            % (profile_name, algorithm.name))


def hsm_signer(config_path: str, algorithm: str, label: str | None, key_id: str | None,
               options: Any, generate: bool) -> Pkcs11Signer:
    from ...hsm.config import load_hsm_config
    from ...signer.pkcs11 import Pkcs11Signer

    config = load_hsm_config(config_path)
    if not generate:
        return Pkcs11Signer(config, algorithm, label=label, key_id=key_id, options=options)
    from ...hsm.keys import generate_key
    from ...hsm.session import connect

    # One login for generation and signing: the signer joins this session's
    # login before it is released.
    session = connect(config)
    try:
        generated = generate_key(session, get_algorithm(algorithm), label, key_id)
        if key_id is None and isinstance(generated, str):
            key_id = generated
        return Pkcs11Signer(config, algorithm, label=label, key_id=key_id, options=options)
    finally:
        session.close()


def hsm_storage(config_path: str, label: str | None, key_id: str | None) -> dict:
    """The seed's pkcs11 storage entry, its config path made absolute (a
    relative one would depend on the directory the command ran from). A
    generated key's random id is not recorded: the label, unique in the
    token, names it (as in the seed)."""
    storage = {"type": "pkcs11", "config": os.path.abspath(config_path), "label": label}
    if key_id:
        storage["key_id"] = key_id
    return storage


def open_hsm_key(request: KeyRequest, algorithm: str,
                 options: Any) -> tuple[Pkcs11Signer, dict[str, Any]]:
    """(signer, storage) for a key in the token named by ``request``."""
    if not request.key_label and not request.key_id:
        raise InputError("a key in a token needs a key label and/or id")
    config = request.token_config()
    signer = hsm_signer(config, algorithm, request.key_label, request.key_id, options,
                        request.generate_key)
    return signer, hsm_storage(config, request.key_label, request.key_id)


def new_software_key(algorithm: str, key_path: str | os.PathLike, relative_path: str,
                     passphrase: bytes | None, options: Any
                     ) -> tuple[SoftwareSigner, dict[str, Any]]:
    """Generate a key, write it (0600) and return (signer, storage)."""
    key = get_algorithm(algorithm).generate()
    write_private_key(key_path, key, passphrase)
    storage = {"type": "software", "path": relative_path}
    return SoftwareSigner(key, algorithm, options), storage


def unprotected_key_files(ca_path: str | os.PathLike, keys: list[dict],
                          passphrase: bytes | None) -> list[str]:
    """The CA key files just written without a passphrase: whoever can read
    one can sign as the CA. The front ends warn about them unless told that
    this is meant (a demo, a test)."""
    if passphrase:
        return []
    return [os.fspath(Path(ca_path) / key["storage"]["path"]) for key in keys
            if key["storage"].get("type") == "software"]


def config_pending(hsm_config: str | None, check_mode: bool) -> str | None:
    """In check mode, a note when the HSM configuration does not exist yet,
    else None. On a fresh host an earlier task of the same run (the
    softhsm_token role, a template) writes it, which check mode does not do:
    the modules then predict what they would do instead of failing."""
    if not check_mode or not hsm_config or os.path.exists(hsm_config):
        return None
    return (f"check mode: HSM config {hsm_config} does not exist yet; predicted as if an "
            "earlier task creates it (the real run needs it)")


def resolve_config_path(config: str, base_dir: str | os.PathLike[str],
                        meta_name: str = "ca.meta.json") -> str:
    """The HSM config a stored key entry names: absolute, or relative to the
    directory holding the metadata (``base_dir``, DESIGN §4), never to the
    current directory. StoreError when a relative entry does not resolve,
    saying so if it would have resolved from the current directory (earlier
    versions stored the path as given, relative to where ``ca init`` ran)."""
    if os.path.isabs(config):
        return config
    base_dir = os.path.abspath(base_dir)
    candidate = os.path.normpath(os.path.join(base_dir, config))
    if os.path.exists(candidate):
        return candidate
    where = os.path.join(base_dir, meta_name)
    if config and os.path.exists(config):
        raise StoreError(
            f"HSM config {config!r} in {where} is relative to {base_dir}, where it does not "
            f"exist ({candidate}); it exists relative to the current directory "
            f"({os.path.abspath(config)}): write that absolute path into {meta_name}")
    raise StoreError(f"HSM config {config!r} in {where} does not exist (relative paths are "
                     f"taken from {base_dir}: {candidate})")


def open_signer(storage: dict[str, Any], algorithm: str, base_dir: str | os.PathLike,
                passphrase: bytes | None = None, options: Any = None) -> Signer:
    """Reopen the signer a stored key entry describes."""
    kind = storage.get("type")
    if kind == "software":
        path = storage.get("path", "")
        full = os.path.normpath(os.path.join(base_dir, path))
        if not full.startswith(os.path.normpath(base_dir) + os.sep):
            raise StoreError("key path %r in %s leaves the directory" % (path, base_dir))
        return SoftwareSigner.from_file(full, algorithm, passphrase, options)
    if kind == "pkcs11":
        return hsm_signer(resolve_config_path(storage.get("config", ""), base_dir),
                          algorithm, storage.get("label"), storage.get("key_id"),
                          options, False)
    raise StoreError("unknown key storage type %r in %s" % (kind, base_dir))
