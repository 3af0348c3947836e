"""Hybrid profiles in ops: which keys a subject holds, and making CA keys.

``mode: catalyst`` (ITU-T X.509 §9.8): the subject has a classical key (the
certificate's own) and a post-quantum key (subjectAltPublicKeyInfo); a
catalyst CA keeps them as key ids ``classical`` (file or HSM) and ``pqc``
(always a file, ``private/ca.<alg>.key``).

``mode: composite`` (draft-ietf-lamps-pq-composite-sigs-13): the subject
has one composite key of the draft-13 algorithm pairing the two; a
composite CA keeps it as key id ``default``, in a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...algorithms.composite_algorithm import composite_name_for
from ...algorithms.registry import get_algorithm
from ...errors import HsmError, InputError, VerificationError
from ...x509.catalyst import alt_public_key_extension
from ..ca.keys import KeyRequest, check_hsm_algorithm, new_software_key, open_hsm_key

if TYPE_CHECKING:
    from ...profiles.profile import Profile
    from ...store.ca_dir import CaDir


def subject_algorithm(profile: Profile) -> str:
    """Registry name of the key in the certificate's SubjectPublicKeyInfo."""
    if profile.mode == "composite":
        classical, pqc = profile.algorithms
        return composite_name_for(classical, pqc, profile.signature)
    return profile.algorithms[0]


def alt_algorithm(profile: Profile) -> str | None:
    """The catalyst alternative (PQC) algorithm of a profile, or None."""
    return profile.algorithms[1] if profile.mode == "catalyst" else None


def check_key_request(profile: Profile, key: KeyRequest) -> None:
    """Refuse an HSM key where the profile's subject key cannot be one."""
    if not key.in_hsm:
        return
    if profile.mode == "composite":
        raise HsmError("profile %s: composite keys are software-only (no HSM configuration)"
                       % profile.name)
    # Catalyst: only the classical key goes to the token; the PQC one is a file.
    check_hsm_algorithm(profile.algorithms[0], profile.name)


def alt_extensions(alt_public_key: Any) -> list[Any]:
    """The subjectAltPublicKeyInfo extension for a catalyst subject, or none."""
    return [] if alt_public_key is None else [alt_public_key_extension(alt_public_key)]


class CaKey:
    """One key of a new CA: its ``ca.meta.json`` entry and its open signer."""

    def __init__(self, key_id: str, algorithm: str, signer: Any,
                 storage: dict[str, Any]) -> None:
        self.id = key_id
        self.algorithm = algorithm
        self.signer = signer
        self.storage = storage

    def meta(self) -> dict[str, Any]:
        return {"id": self.id, "algorithm": self.algorithm, "storage": self.storage}


def _software_key(staging: CaDir, algorithm: str, passphrase: bytes | None,
                  version: str | None = None) -> tuple[Any, dict[str, Any]]:
    relative = staging.key_relpath(algorithm, version)
    return new_software_key(algorithm, staging.key_path(algorithm, version), relative,
                            passphrase, {})


def new_ca_keys(staging: CaDir, profile: Profile, key: KeyRequest,
                version: str | None = None) -> list[CaKey]:
    """The keys of a new CA in ``staging`` (a CaDir): ``[default]``, or
    ``[classical, pqc]`` for a catalyst profile; key files of a later
    ``version`` of a rotated CA go under ``private/<version>/``."""
    algorithm = subject_algorithm(profile)
    alt = alt_algorithm(profile)
    keys: list[CaKey] = []
    try:
        if key.in_hsm:
            signer, storage = open_hsm_key(key, algorithm, profile.signature)
        else:
            signer, storage = _software_key(staging, algorithm, key.passphrase, version)
        keys.append(CaKey("classical" if alt else "default", algorithm, signer, storage))
        if alt:
            signer, storage = _software_key(staging, alt, key.passphrase, version)
            keys.append(CaKey("pqc", alt, signer, storage))
    except BaseException:
        for made in keys:
            made.signer.close()
        raise
    return keys


def csr_alt_public_key(csr: Any, where: str) -> Any:
    """The alternative public key of a catalyst CSR after checking its
    alternative proof of possession; None for an ordinary CSR."""
    from ...x509.catalyst_verify import verify_catalyst_csr

    try:
        return verify_catalyst_csr(csr)
    except VerificationError as exc:
        raise InputError("%s: CSR alternative signature does not verify (%s)"
                         % (where, exc)) from None


def check_alt_key(profile: Profile, alt_public_key: Any, where: str) -> Any:
    """The alternative key a catalyst profile needs, checked; None otherwise."""
    alt = alt_algorithm(profile)
    if alt is None:
        return None
    if alt_public_key is None:
        raise InputError("%s: profile %s is catalyst but the request has no alternative "
                         "public key (subjectAltPublicKeyInfo)" % (where, profile.name))
    expected = get_algorithm(alt)
    if not expected.matches_public_key(alt_public_key):
        raise InputError("%s: alternative key is a %s but profile %s expects %s"
                         % (where, expected.describe_public_key(alt_public_key),
                            profile.name, expected.name))
    return alt_public_key
