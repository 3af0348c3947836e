"""Generating CA and end-entity key pairs inside the token.

Only the registry's HSM algorithms (``hsm_capable``: ECDSA P-256/384/521,
RSA 2048/3072/4096) can be generated, and only those the token can both
generate and sign with (``capabilities.require_generation``), checked
before the token is asked. The private key is a token object that is
private, sensitive and never extractable; the public key is a token object.
Both carry the label and the id, which is read back before success is
reported.

Usage attributes: the template asks for a signing-only pair (decrypt,
unwrap, derive, encrypt and wrap off). tpm2-pkcs11 makes every TPM key a
sign-and-decrypt object and refuses a template that turns decryption off
(CKR_GENERAL_ERROR, "User specified and TPM specified attr mismatch"); when
the signing-only template is refused, the pair is generated again with
encrypt/decrypt left to the token (still private, sensitive, never
extractable).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import HsmError, UsageError
from .capabilities import require_generation
from .keyid import format_key_id, parse_key_id
from .library import describe_pkcs11_error
from .lookup import check_label, search
from .pubkey import named_curve_params

if TYPE_CHECKING:
    from ..algorithms.base import Algorithm
    from .session import HsmSession

PQC_FAMILIES = ("ml-dsa", "slh-dsa", "ml-kem")
# What a token says when it will not honour the usage attributes we ask for.
_TEMPLATE_REFUSALS = ("GeneralError", "TemplateInconsistent", "AttributeValueInvalid")


def generate_key(hsm: HsmSession, algorithm: str | Algorithm, label: str | None,
                 key_id: str | bytes | None = None) -> str:
    """Generate a key pair for ``algorithm`` in the token and return its id
    as hex text (a random 8-byte id is made when ``key_id`` is None).

    Refuses when a key with the same label or id already exists.
    """
    import pkcs11

    from ..algorithms.registry import get_algorithm, hsm_algorithm_names

    found = get_algorithm(algorithm)
    if not found.hsm_capable:
        if found.family in PQC_FAMILIES:
            reason = "PQC keys are software-only"
        else:
            reason = "HSM keys are %s" % ", ".join(hsm_algorithm_names())
        raise HsmError("algorithm %s cannot be generated in an HSM (%s)"
                       % (found.name, reason))
    if not label:
        raise UsageError("a key label is required to generate a key in token '%s'" % hsm.label)
    check_label(label)
    raw_id = (parse_key_id(key_id) if key_id not in (None, "") else None) or os.urandom(8)
    if not hsm.logged_in:
        raise HsmError("generating a key in token '%s' needs a logged-in session" % hsm.label)
    if not hsm.session.rw:
        raise HsmError("token '%s' is write-protected: cannot generate key '%s'"
                       % (hsm.label, label))
    require_generation(hsm, found)
    _refuse_existing(hsm, label, raw_id)
    try:
        try:
            _generate(hsm, found, label, raw_id, signing_only=True)
        except pkcs11.PKCS11Error as exc:
            if type(exc).__name__ not in _TEMPLATE_REFUSALS:
                raise
            _generate(hsm, found, label, raw_id, signing_only=False)
    except pkcs11.PKCS11Error as exc:
        raise HsmError("token '%s' refused to generate %s key '%s': %s"
                       % (hsm.label, found.name, label, describe_pkcs11_error(exc))) from None
    _check_stored(hsm, found, label, raw_id)
    return format_key_id(raw_id)


def _check_stored(hsm: HsmSession, algorithm: Algorithm, label: str, raw_id: bytes) -> None:
    """Success only when the pair is there as token objects under its label
    and id, the private key sensitive and never extractable: "generated"
    must not mean a session object that vanishes with the session."""
    import pkcs11

    attr = pkcs11.Attribute
    private = search(hsm, pkcs11.ObjectClass.PRIVATE_KEY, label=label, key_id=raw_id)
    public = search(hsm, pkcs11.ObjectClass.PUBLIC_KEY, label=label, key_id=raw_id)
    try:
        stored = (len(private) == 1 and len(public) == 1 and private[0][attr.TOKEN]
                  and public[0][attr.TOKEN] and private[0][attr.SENSITIVE]
                  and not private[0][attr.EXTRACTABLE])
    except pkcs11.PKCS11Error as exc:
        raise HsmError("cannot read back %s key '%s' in token '%s': %s"
                       % (algorithm.name, label, hsm.label, describe_pkcs11_error(exc))) from None
    if not stored:
        raise HsmError("token '%s' reported %s key '%s' generated, but it is not stored as a "
                       "private, sensitive, non-extractable token key pair with that label and id"
                       % (hsm.label, algorithm.name, label))


def _generate(hsm: HsmSession, algorithm: Algorithm, label: str, raw_id: bytes, signing_only: bool) -> None:
    import pkcs11

    from ..algorithms.classical import EcdsaAlgorithm, RsaAlgorithm

    attr = pkcs11.Attribute
    key_type = pkcs11.KeyType.EC if algorithm.family == "ec" else pkcs11.KeyType.RSA
    # DEFAULT leaves an attribute out of the template (the token decides).
    off = False if signing_only else pkcs11.DEFAULT
    private_template: dict[pkcs11.Attribute, object] = {
        attr.KEY_TYPE: key_type, attr.TOKEN: True, attr.PRIVATE: True, attr.SENSITIVE: True,
        attr.EXTRACTABLE: False, attr.SIGN: True, attr.DECRYPT: off, attr.UNWRAP: False,
        attr.DERIVE: False,
    }
    public_template: dict[pkcs11.Attribute, object] = {
        attr.KEY_TYPE: key_type, attr.TOKEN: True, attr.PRIVATE: False, attr.VERIFY: True,
        attr.ENCRYPT: off, attr.WRAP: False,
    }
    key_length = None
    if isinstance(algorithm, EcdsaAlgorithm):
        public_template[attr.EC_PARAMS] = named_curve_params(algorithm.curve)
    elif isinstance(algorithm, RsaAlgorithm):
        key_length = algorithm.key_size
    hsm.session.generate_keypair(key_type, key_length, label=label, id=raw_id, store=True,
                                 capabilities=pkcs11.MechanismFlag.SIGN | pkcs11.MechanismFlag.VERIFY,
                                 private_template=private_template, public_template=public_template)


def _refuse_existing(hsm: HsmSession, label: str, raw_id: bytes) -> None:
    import pkcs11

    classes = (pkcs11.ObjectClass.PRIVATE_KEY, pkcs11.ObjectClass.PUBLIC_KEY)
    if any(search(hsm, cls, label=label) for cls in classes):
        raise HsmError("a key labelled '%s' already exists in token '%s'" % (label, hsm.label))
    if any(search(hsm, cls, key_id=raw_id) for cls in classes):
        raise HsmError("a key with id %s already exists in token '%s'"
                       % (format_key_id(raw_id), hsm.label))
