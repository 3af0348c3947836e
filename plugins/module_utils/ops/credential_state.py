"""Declarative credential enrollment.

A credential is looked up by ``credential_id`` when one is given, otherwise
by profile and subject common name among the valid credentials of
``cred_dir``. An existing credential is kept (``changed`` false) when its
certificate was issued by this CA with the subject, subjectAltName and
extensions the profile renders now, is not revoked and is not within
``renew_before`` of expiry.

Without ``credential_id`` a credential that no longer fits is superseded by
a new enrollment (new id); with an explicit ``credential_id`` a mismatch is
an error (a credential directory is never rewritten).
"""

import os

from ..errors import InputError
from ..profiles.loader import load_profile
from ..store.ca_dir import CaDir
from ..store.credential_dir import CredentialDir, list_credentials
from ..store.index import read_index
from ..store.metafile import parse_utc_text
from ..x509.parse import load_certificate
from .authority import Authority
from .ca_keys import KeyRequest
from .hybrid import check_key_request
from .credential import _common_name, credential_enroll
from .issuance import fingerprint, pem
from .state import (abspath, expiry_reason, extension_differences, issued_by, now_utc,
                    parse_renew_before, read_optional, san_list)


def _load(cred):
    """(meta, certificate, cert path) of a credential's first certificate."""
    meta = cred.load_meta()
    certificates = meta.get("certificates") or []
    if not certificates:
        return meta, None, None
    first = certificates[0]
    path = cred.cert_path(first.get("role", "signature"), first.get("algorithm", ""))
    data = read_optional(path)
    if data is None:
        return meta, None, path
    return meta, load_certificate(data, os.fspath(path)), path


def _differences(meta, cert, profile, rendered, ca_cert, ca_public_key, revoked,
                 renew_before, now):
    reasons = []
    if profile.name not in (meta.get("profiles") or []):
        reasons.append("profiles are %s (requested %s)"
                       % (", ".join(meta.get("profiles") or []) or "none", profile.name))
    if meta.get("status", "valid") != "valid":
        reasons.append("status is %s" % meta.get("status"))
    if cert is None:
        reasons.append("certificate file is missing")
        return reasons
    if not issued_by(cert, ca_cert, ca_public_key):
        reasons.append("certificate was not issued by CA %s" % ca_cert.subject.rfc4514_string())
    if cert.subject != rendered.subject:
        reasons.append("subject is %s (requested %s)"
                       % (cert.subject.rfc4514_string(), rendered.subject.rfc4514_string()))
    have, want = san_list(cert.extensions), san_list(rendered.extensions)
    if have != want:
        reasons.append("subjectAltName is %s (requested %s)"
                       % (", ".join(have) or "none", ", ".join(want) or "none"))
    others = [d for d in extension_differences(rendered.extensions, cert, ignore_alt_key=True)
              if not d.startswith("subjectAltName")]
    if others:
        reasons.append("extensions differ from the profile (%s)" % ", ".join(others))
    if cert.serial_number in revoked:
        reasons.append("certificate is revoked")
    expiry = expiry_reason(cert.not_valid_after_utc, renew_before, now)
    if expiry:
        reasons.append(expiry)
    return reasons


def _describe(cred, meta, cert, cert_path, changed, reasons):
    storage = []
    for entry in meta.get("certificates") or []:
        storage.extend(entry.get("storage") or [])
    key_path = None
    for item in storage:
        if item.get("type") == "software":
            key_path = os.fspath(cred.resolve(item["path"]))
    return {
        "changed": changed,
        "id": cred.id,
        "cred_path": os.fspath(cred.path),
        "profile": (meta.get("profiles") or [None])[0],
        "serial": "%X" % cert.serial_number if cert is not None else None,
        "subject": cert.subject.rfc4514_string() if cert is not None else None,
        "sans": san_list(cert.extensions) if cert is not None else [],
        "not_after": meta.get("not_after"),
        "fingerprint_sha256": fingerprint(cert) if cert is not None else None,
        "cert_path": os.fspath(cert_path) if cert_path else None,
        "chain_path": os.fspath(cred.chain),
        "key_path": key_path,
        "key_storage": storage[0] if storage else None,
        "certificate": pem(cert).decode() if cert is not None else None,
        "reasons": reasons,
    }


def _candidates(cred_dir, profile, common_name):
    """Valid credentials of ``profile`` for ``common_name``, newest first."""
    found = []
    for cred_id in list_credentials(cred_dir):
        cred = CredentialDir(cred_dir, cred_id)
        try:
            meta = cred.load_meta()
        except Exception:  # an unreadable credential is not a candidate
            continue
        if profile.name not in (meta.get("profiles") or []):
            continue
        if (meta.get("subject") or {}).get("common_name") != common_name:
            continue
        if meta.get("status", "valid") != "valid":
            continue
        try:
            when = parse_utc_text(meta.get("not_after") or "")
        except ValueError:
            continue
        found.append((when, cred_id))
    return [CredentialDir(cred_dir, cred_id) for _w, cred_id in sorted(found, reverse=True)]


def credential_ensure(ca_dir, cred_dir, profile, values=None, credential_id=None, key=None,
                      ca_passphrase=None, renew_before="30d", check_mode=False, now=None):
    """Enroll a credential unless a matching one exists; see the module doc."""
    key = key or KeyRequest()
    profile = load_profile(profile) if isinstance(profile, str) else profile
    if profile.is_ca:
        raise InputError("profile %s is a CA profile: use qpki_ca / qpki ca init" % profile.name)
    check_key_request(profile, key)  # HSM keys: classical only (a catalyst PQC key is a file)
    renew_before = parse_renew_before(renew_before)
    now = now_utc(now)
    rendered = profile.render(values or {})
    common_name = _common_name(rendered.subject)

    if not CaDir(ca_dir).exists():
        if check_mode:
            return {"changed": True, "id": credential_id, "subject":
                    rendered.subject.rfc4514_string(), "profile": profile.name,
                    "reasons": ["CA does not exist yet (check mode)"]}
        CaDir(ca_dir).require()
    with Authority(ca_dir, need_signers=False) as authority:
        ca_cert, ca_public_key = authority.cert, authority.public_key
        revoked = {e.serial for e in read_index(authority.dir.index) if e.status == "R"} \
            if authority.dir.index.exists() else set()

    if credential_id:
        candidates = [CredentialDir(cred_dir, credential_id)]
        candidates = [c for c in candidates if c.exists()]
    else:
        candidates = _candidates(cred_dir, profile, common_name)
    reasons = ["no credential %s in %s" % (credential_id, cred_dir) if credential_id
               else "no valid %s credential for %s in %s" % (profile.name, common_name, cred_dir)]
    for cred in candidates:
        meta, cert, cert_path = _load(cred)
        reasons = _differences(meta, cert, profile, rendered, ca_cert, ca_public_key, revoked,
                               renew_before, now)
        if not reasons:
            return _describe(cred, meta, cert, cert_path, False, [])
        if credential_id and all(r.startswith("certificate expire") for r in reasons):
            kept = _describe(cred, meta, cert, cert_path, False, [])
            kept["warnings"] = ["credential %s: %s; enroll a new credential to renew it"
                                % (credential_id, reasons[0])]
            return kept
        if credential_id:
            raise InputError("credential %s in %s does not match the request: %s; a credential "
                             "is never rewritten (use another credential_id, or omit it to "
                             "enroll a new one)" % (credential_id, cred_dir, "; ".join(reasons)))
        break  # the newest candidate decides; an older one is not revived

    if check_mode:
        return {"changed": True, "id": credential_id, "subject": rendered.subject.rfc4514_string(),
                "profile": profile.name, "reasons": reasons, "cred_path": None,
                "cert_path": None, "key_path": None, "certificate": None}
    from .ca_state import resolve_generate

    result = credential_enroll(ca_dir, cred_dir, profile, values or {},
                               credential_id=credential_id, key=resolve_generate(key),
                               ca_passphrase=ca_passphrase)
    cred = CredentialDir(cred_dir, result["id"])
    meta, cert, cert_path = _load(cred)
    described = _describe(cred, meta, cert, cert_path, True, reasons)
    described["paths"] = [os.fspath(p) for p in result.get("paths", [])]
    described["cred_path"] = abspath(described["cred_path"])
    return described
