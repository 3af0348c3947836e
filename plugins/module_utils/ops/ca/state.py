"""Declarative CA creation: create when missing, accept when matching, refuse
to change an existing CA.

``ca_ensure`` creates a root CA, or a subordinate CA signed by a parent CA
directory on the same host (``ca_init``). When the CA exists it compares the
profile, the subject, the parent and the key storage with what is asked:
all equal means nothing to do; any difference is an error naming each one
(an existing CA is never re-keyed or re-issued behind the operator's back).

A subordinate CA whose parent lives on another host (an offline root) is made
in two steps that never move a private key:

1. ``ca_request``: create the key (file or token) and a PKCS#10 request in
   the CA directory (``ca.csr`` + ``ca.request.json``: a *pending* CA).
2. The parent issues the certificate from the CSR (``cert_state.cert_ensure``
   with a CA profile, on the parent's host).
3. ``ca_install``: check the certificate is for the pending key and install
   it with its chain; ``ca.meta.json`` is written last, which completes the CA.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NoReturn

from ...dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ...errors import HsmError, InputError, StoreError
from ...profiles.loader import as_profile
from ...store.atomic import write_file
from ...store.audit import audit_path
from ...store.ca_dir import CaDir
from ...store.lock import ca_lock
from ...store.metafile import dump_json, load_json_object, utc_text
from ...x509.certificate import utcnow
from ...x509.parse import (load_certificate, load_certificates, load_csr,
                           public_key_of_certificate, public_key_of_csr)
from ...x509.path_length import check_path_length
from ..audit.trail import audit_ready, install_record, log_ca_init
from ..audit.journal import journaled
from .authority import Authority
from .commands import ca_info, ca_init
from .database import claim_database, store_entry_for
from .keys import KeyRequest, resolve_config_path, unprotected_key_files
from ..keys.hybrid import check_key_request, new_ca_keys, subject_algorithm
from .publish import install_version_files
from ..cert.issuance import fingerprint, pem
from ..ensure import abspath, issued_by, read_optional, same_public_key

from ...store.ca_dir import CSR_NAME, REQUEST_NAME
from ..result import fields_of
from .results import CaPlanned, CaState

if TYPE_CHECKING:
    from ...profiles.profile import Profile


# ---------------------------------------------------------------- helpers


def _check_profile(profile: Profile, key: KeyRequest) -> None:
    if not profile.is_ca:
        raise InputError("profile %s is not a CA profile (basicConstraints ca is not true)"
                         % profile.name)
    subject_algorithm(profile)  # an impossible hybrid pair fails here
    check_key_request(profile, key)  # HSM: classical keys only (catalyst: the classical half)


def _norm_id(key_id: str | None) -> str | None:
    if key_id in (None, ""):
        return None
    from ...hsm.keyid import format_key_id, parse_key_id

    return format_key_id(parse_key_id(key_id))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def key_differences(meta_keys: list[dict[str, Any]], key: KeyRequest,
                    ca_path: str | os.PathLike) -> list[str]:
    """Texts naming how the stored key(s) differ from the KeyRequest."""
    if not meta_keys:
        return ["ca.meta.json lists no key"]
    differences: list[str] = []
    entry = meta_keys[0]
    for candidate in meta_keys:  # the classical key of a hybrid CA goes to the HSM
        if candidate.get("id") in ("default", "classical"):
            entry = candidate
            break
    storage = entry.get("storage", {})
    kind = storage.get("type")
    if key.in_hsm and kind != "pkcs11":
        differences.append("key storage is %s (requested pkcs11 via %s)" % (kind, key.hsm_config))
    elif not key.in_hsm and kind != "software":
        differences.append("key storage is %s (label %s; requested a software key)"
                           % (kind, storage.get("label") or storage.get("key_id")))
    elif key.in_hsm:
        stored_config = resolve_config_path(storage.get("config", ""), os.fspath(ca_path))
        if not _same_file(stored_config, key.token_config()):
            differences.append("HSM config is %s (requested %s)"
                               % (storage.get("config"), key.hsm_config))
        if key.key_label and storage.get("label") != key.key_label:
            differences.append("key label is %r (requested %r)"
                               % (storage.get("label"), key.key_label))
        if key.key_id and storage.get("key_id") \
                and _norm_id(storage.get("key_id")) != _norm_id(key.key_id):
            differences.append("key id is %s (requested %s)"
                               % (storage.get("key_id"), key.key_id))
    return differences


def _refuse(ca_dir: str | os.PathLike, differences: list[str]) -> NoReturn:
    raise InputError(
        "existing CA in %s does not match the requested settings: %s; an existing CA is "
        "never changed or re-keyed (use another ca_dir, or remove this one deliberately)"
        % (ca_dir, "; ".join(differences)))


def _compare_existing(ca_dir: str | os.PathLike, profile: Profile, rendered: Any,
                      key: KeyRequest, parent_dir: str | os.PathLike | None,
                      parent_cert: x509.Certificate | None = None) -> list[str]:
    """Differences between the CA in ``ca_dir`` and the request, and its info."""
    with Authority(ca_dir, need_signers=False) as authority:
        meta, cert = authority.meta, authority.cert
        differences = []
        if meta.get("profile") != profile.name:
            differences.append("profile is %s (requested %s)" % (meta.get("profile"), profile.name))
        if cert.subject != rendered.subject:
            differences.append("subject is %s (requested %s)"
                               % (cert.subject.rfc4514_string(), rendered.subject.rfc4514_string()))
        differences.extend(key_differences(meta.get("keys", []), key, authority.dir.path))
        if parent_dir is not None:
            with Authority(parent_dir, need_signers=False) as parent:
                if not issued_by(cert, parent.cert, parent.public_key):
                    differences.append("CA certificate was not issued by parent %s (%s)"
                                       % (parent_dir, parent.cert.subject.rfc4514_string()))
        elif parent_cert is not None:
            if not issued_by(cert, parent_cert, public_key_of_certificate(parent_cert)):
                differences.append("CA certificate was not issued by %s"
                                   % parent_cert.subject.rfc4514_string())
        elif cert.issuer != cert.subject:
            pass  # a subordinate CA completed from a CSR: its parent is elsewhere
    return differences


def _predict(ca_dir: str | os.PathLike, profile: Profile, rendered: Any, key: KeyRequest,
             parent_dir: str | os.PathLike | None, state: str) -> CaPlanned:
    storage = ({"type": "pkcs11", "config": key.hsm_config, "label": key.key_label,
                "key_id": key.key_id} if key.in_hsm
               else {"type": "software", "path": CaDir.key_relpath(subject_algorithm(profile))})
    return CaPlanned(
        changed=True,
        state=state,
        ca_dir=abspath(ca_dir),
        subject=rendered.subject.rfc4514_string(),
        issuer=None if parent_dir else rendered.subject.rfc4514_string(),
        profile=profile.name,
        keys=[{"id": "classical" if profile.mode == "catalyst" else "default",
               "algorithm": subject_algorithm(profile), "storage": storage}],
        serial=None,
        not_before=None,
        not_after=None,
        fingerprint_sha256=None,
        cert_path=os.path.join(abspath(ca_dir), "ca.crt"),
        chain_path=None,
        csr=None,
        csr_path=None,
        paths=[],
    )


def ca_facts(ca_dir: str | os.PathLike, changed: bool = False) -> CaState:
    """What ca info says of the CA, as a complete CA's state, with its CSR
    when it was made from one."""
    info = ca_info(ca_dir)
    info.changed = changed
    csr = read_optional(os.path.join(ca_dir, CSR_NAME))
    return CaState(**fields_of(info), state="complete", csr=csr.decode() if csr else None,
                   csr_path=os.path.join(abspath(ca_dir), CSR_NAME) if csr else None)


def _key_in_token(key: KeyRequest) -> bool:
    """True when the KeyRequest's label/id already names a token key."""
    from ...hsm.config import load_hsm_config
    from ...hsm.keys import find_private_key
    from ...hsm.session import open_session

    with open_session(load_hsm_config(key.token_config())) as session:
        try:
            find_private_key(session, key.key_label, key.key_id)
        except HsmError as exc:
            if str(exc).startswith("no private key"):
                return False
            raise
    return True


def resolve_generate(key: KeyRequest) -> KeyRequest:
    """``generate_key`` means "generate when the token has no such key yet"."""
    if key.in_hsm and key.generate_key and _key_in_token(key):
        return KeyRequest(hsm_config=key.hsm_config, key_label=key.key_label,
                          key_id=key.key_id, generate_key=False, passphrase=key.passphrase)
    return key


# ---------------------------------------------------------------- ensure

def _requested(ca_dir: str | os.PathLike, profile: Profile | str,
               values: dict[str, Any] | None, key: KeyRequest,
               parent_dir: str | os.PathLike | None) -> tuple[Profile, Any, CaState | None]:
    """(profile, rendered, facts of the existing CA or None); an existing CA
    that differs from the request is refused, naming every difference."""
    profile = as_profile(profile)
    _check_profile(profile, key)
    rendered = profile.render(values or {})
    if CaDir(ca_dir).exists():
        differences = _compare_existing(ca_dir, profile, rendered, key, parent_dir)
        if differences:
            _refuse(ca_dir, differences)
        return profile, rendered, ca_facts(ca_dir)
    return profile, rendered, None


def ca_ensure(ca_dir: str | os.PathLike, profile: Profile | str,
              values: dict[str, Any] | None = None,
              parent_dir: str | os.PathLike | None = None, key: KeyRequest | None = None,
              passphrase: bytes | None = None, parent_passphrase: bytes | None = None,
              check_mode: bool = False,
              store_dsn_env: str | None = None) -> CaState | CaPlanned:
    """Create the CA when missing; return its facts (``changed`` false) when
    it matches; raise InputError naming every difference otherwise."""
    key = key or KeyRequest(passphrase=passphrase)
    profile, rendered, existing = _requested(ca_dir, profile, values, key, parent_dir)
    if existing is not None:
        return existing
    if os.path.exists(os.path.join(ca_dir, REQUEST_NAME)):
        raise StoreError("%s holds a pending CA request (%s): complete it with the signed "
                         "certificate, or remove the directory" % (ca_dir, REQUEST_NAME))
    if parent_dir is not None and not CaDir(parent_dir).exists() and not check_mode:
        raise StoreError("parent CA %s does not exist (no ca.meta.json)" % parent_dir)
    if check_mode:
        return _predict(ca_dir, profile, rendered, key, parent_dir, "complete")
    made = ca_init(ca_dir, profile, values or {}, parent_dir=parent_dir, key=resolve_generate(key),
                   passphrase=passphrase, parent_passphrase=parent_passphrase,
                   store_dsn_env=store_dsn_env)
    facts = ca_facts(ca_dir, changed=True)
    facts.unprotected_keys = made.unprotected_keys
    return facts


# ---------------------------------------------------------------- CSR path

def _request_paths(ca_dir: str | os.PathLike) -> tuple[str, str]:
    return os.path.join(ca_dir, REQUEST_NAME), os.path.join(ca_dir, CSR_NAME)


def pending_request(ca_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The pending request metadata of ``ca_dir``, or None."""
    path, _csr = _request_paths(ca_dir)
    if not os.path.exists(path):
        return None
    return load_json_object(path)


def _pending_result(ca_dir: str | os.PathLike, request: dict[str, Any], csr_pem: bytes | str | None,
                    changed: bool, csr_copy: str | None = None) -> CaPlanned:
    paths = list(_request_paths(abspath(ca_dir)))
    if csr_copy:
        paths.append(csr_copy)
    return CaPlanned(
        changed=changed,
        state="pending",
        ca_dir=abspath(ca_dir),
        subject=request.get("subject"),
        issuer=None,
        profile=request.get("profile"),
        keys=request.get("keys", []),
        serial=None,
        not_before=None,
        not_after=None,
        fingerprint_sha256=None,
        cert_path=None,
        chain_path=None,
        csr=csr_pem.decode() if isinstance(csr_pem, bytes) else csr_pem,
        csr_path=os.path.join(abspath(ca_dir), CSR_NAME),
        paths=paths,
    )


def _compare_pending(ca_dir: str | os.PathLike, request: dict[str, Any], profile: Profile,
                     rendered: Any, key: KeyRequest) -> list[str]:
    differences: list[str] = []
    if request.get("profile") != profile.name:
        differences.append("profile is %s (requested %s)" % (request.get("profile"), profile.name))
    if request.get("subject") != rendered.subject.rfc4514_string():
        differences.append("subject is %s (requested %s)"
                           % (request.get("subject"), rendered.subject.rfc4514_string()))
    differences.extend(key_differences(request.get("keys", []), key, ca_dir))
    return differences


def ca_request(ca_dir: str | os.PathLike, profile: Profile | str,
               values: dict[str, Any] | None = None, key: KeyRequest | None = None,
               passphrase: bytes | None = None, csr_out: str | None = None,
               check_mode: bool = False,
               store_dsn_env: str | None = None) -> CaState | CaPlanned:
    """Step 1 of a subordinate CA signed elsewhere: key + CSR, CA pending.

    Idempotent: a pending request (or a completed CA) made with the same
    profile, subject and key storage is returned unchanged, with its CSR.
    ``csr_out`` is an extra path to copy the CSR to. ``store_dsn_env``: as
    for ``ca_init``, where the CA will keep its certificates once installed.
    """
    store = store_entry_for(store_dsn_env)
    key = key or KeyRequest(passphrase=passphrase)
    profile, rendered, existing = _requested(ca_dir, profile, values, key, None)
    if existing is not None:
        return existing
    request = pending_request(ca_dir)
    request_path, csr_path = _request_paths(ca_dir)
    if request is not None:
        differences = _compare_pending(ca_dir, request, profile, rendered, key)
        if differences:
            raise InputError("pending CA request in %s does not match: %s (remove the directory "
                             "to start over)" % (ca_dir, "; ".join(differences)))
        csr_pem = read_optional(csr_path)
        if csr_pem is None:
            raise StoreError("pending CA request in %s has lost its CSR %s" % (ca_dir, csr_path))
        changed = _copy_csr(csr_pem, csr_out, check_mode)
        return _pending_result(ca_dir, request, csr_pem, changed, csr_out)
    if os.path.isdir(ca_dir) and os.listdir(ca_dir):
        raise StoreError("directory %s is not empty and holds no CA" % ca_dir)
    if check_mode:
        result = _predict(ca_dir, profile, rendered, key, "external", "pending")
        result.csr_path = csr_path
        return result
    return _create_request(ca_dir, profile, rendered, resolve_generate(key), csr_out, store)


def _copy_csr(csr_pem: bytes, csr_out: str | None, check_mode: bool) -> bool:
    if not csr_out or _same_file_content(csr_out, csr_pem):
        return False
    if not check_mode:
        write_file(csr_out, csr_pem)
    return True


def _same_file_content(path: str, data: bytes) -> bool:
    return read_optional(path) == data


def _create_request(ca_dir: str | os.PathLike, profile: Profile, rendered: Any,
                    key: KeyRequest, csr_out: str | None, store: dict) -> CaPlanned:
    from ...x509.csr import build_csr

    target = CaDir(ca_dir)
    created_dir = not os.path.exists(ca_dir)
    target.create_layout()
    keys = []
    request_path, csr_path = _request_paths(ca_dir)
    try:
        # One key ("default"), or "classical" + "pqc" for a catalyst profile: a catalyst
        # CSR proves possession of both.
        keys = new_ca_keys(target, profile, key)
        alt_signer = keys[1].signer if len(keys) > 1 else None
        csr = build_csr(keys[0].signer, rendered.subject, alt_signer=alt_signer)
        csr_pem = csr.public_bytes(serialization.Encoding.PEM)
        write_file(csr_path, csr_pem)
        request = {
            "profile": profile.name,
            "created": utc_text(utcnow()),
            "subject": rendered.subject.rfc4514_string(),
            "keys": [k.meta() for k in keys],
            "store": store,
        }
        dump_json(request_path, request)
    except BaseException:
        _cleanup(target, created_dir)
        raise
    finally:
        for made in keys:
            made.signer.close()
    _copy_csr(csr_pem, csr_out, False)
    result = _pending_result(ca_dir, request, csr_pem, True, csr_out)
    result.unprotected_keys = unprotected_key_files(ca_dir, request["keys"], key.passphrase)
    return result


def _cleanup(target: CaDir, created_dir: bool) -> None:
    import shutil

    if created_dir:
        shutil.rmtree(target.path, ignore_errors=True)


def ca_install(ca_dir: str | os.PathLike, cert_data: bytes, chain_data: bytes | None = None,
               check_mode: bool = False, cert_where: str = "certificate",
               chain_where: str = "chain") -> CaState | CaPlanned:
    """Step 3: install the certificate the parent issued for a pending CA.

    The certificate must be a CA certificate for the pending key; ``chain``
    (the parent's chain, root last) must contain its issuer when given. On
    a completed CA the same certificate is a no-op; a certificate for the
    same key and subject (a renewal by the parent) replaces the old one; any
    other certificate is refused.
    """
    cert = load_certificate(cert_data, cert_where)
    chain = load_certificates(chain_data, chain_where) if chain_data else []
    chain = [c for c in chain if c != cert]
    _check_ca_certificate(cert, cert_where)
    if chain:
        issuer = chain[0]
        if not issued_by(cert, issuer, public_key_of_certificate(issuer)):
            raise InputError("%s was not issued by the first certificate of %s (%s)"
                             % (cert_where, chain_where, issuer.subject.rfc4514_string()))
        check_path_length(chain, True, _path_len(cert), cert_where, os.fspath(ca_dir))
    target = CaDir(ca_dir)
    if target.exists():
        return _reinstall(ca_dir, target, cert, chain, check_mode, cert_where)
    request = pending_request(ca_dir)
    if request is None:
        if check_mode:
            return CaPlanned(changed=True, state="complete", ca_dir=abspath(ca_dir),
                             subject=cert.subject.rfc4514_string(),
                             issuer=cert.issuer.rfc4514_string(), profile=None, keys=[],
                             serial="%X" % cert.serial_number, not_before=None,
                             not_after=None, fingerprint_sha256=fingerprint(cert),
                             cert_path=os.path.join(abspath(ca_dir), "ca.crt"),
                             chain_path=None, csr=None, csr_path=None, paths=[])
        raise StoreError("%s holds no pending CA request: run the request step first" % ca_dir)
    csr_path = _request_paths(ca_dir)[1]
    csr = load_csr(read_optional(csr_path) or b"", csr_path)
    if not same_public_key(public_key_of_certificate(cert), public_key_of_csr(csr)):
        raise InputError("%s is not for the pending key of %s (public key differs from %s)"
                         % (cert_where, ca_dir, csr_path))
    if check_mode:
        result = _pending_result(ca_dir, request, read_optional(csr_path), True)
        result.state = "complete"
        return result
    write_file(target.cert, pem(cert))
    write_file(target.chain, pem(cert) + b"".join(pem(c) for c in chain))
    meta = {k: v for k, v in request.items() if k != "subject"}
    if not read_optional(audit_path(ca_dir)):  # a retried install keeps its first record
        log_ca_init(ca_dir, cert, meta)  # the log starts with the CA's creation (ops/audit/trail.py)
    meta.setdefault("store", store_entry_for(None))  # a request made before the database
    target.write_meta(meta)
    claim_database(target, cert)
    os.unlink(os.path.join(ca_dir, REQUEST_NAME))
    return ca_facts(ca_dir, changed=True)


def _path_len(cert: "x509.Certificate") -> int | None:
    return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length


def _check_ca_certificate(cert: x509.Certificate, where: str) -> None:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise InputError("%s is not a CA certificate (basicConstraints ca is not true)" % where)


def _reinstall(ca_dir: str | os.PathLike, target: CaDir, cert: x509.Certificate,
               chain: list[x509.Certificate], check_mode: bool, cert_where: str) -> CaState:
    current = load_certificate(target.read_cert_pem(), os.fspath(target.cert))
    if current == cert:
        wanted_chain = pem(cert) + b"".join(pem(c) for c in chain)
        have_chain = target.read_chain_pem()
        if not chain or have_chain == wanted_chain:
            return ca_facts(ca_dir)
        if not check_mode:
            write_file(target.chain, wanted_chain)
        return ca_facts(ca_dir, changed=True)
    if not same_public_key(public_key_of_certificate(current), public_key_of_certificate(cert)) \
            or current.subject != cert.subject:
        raise InputError("CA %s already has a certificate for another key or subject (%s); "
                         "refusing to replace it with %s"
                         % (ca_dir, current.subject.rfc4514_string(), cert_where))
    if check_mode:
        return ca_facts(ca_dir, changed=True)

    def replace() -> None:
        chain_pem = pem(cert) + b"".join(pem(c) for c in chain)
        install_version_files(target, cert, chain_pem)  # a rotated CA's active version first
        write_file(target.cert, pem(cert))
        write_file(target.chain, chain_pem)

    with ca_lock(target.path):
        audit_ready(target.path)
        journaled(target.path, [install_record(cert)], replace)
    return ca_facts(ca_dir, changed=True)
