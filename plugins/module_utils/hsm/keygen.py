"""Generating CA and end-entity key pairs inside the token.

Only classical algorithms can be generated: ``ecdsa-p256/p384/p521`` and
``rsa-2048/3072/4096``. The private key is a token object that is private,
sensitive and never extractable, usable for signing only; the public key is
a token object usable for verification. Both carry the label and the id.
"""

import os

from ..errors import HsmError, UsageError
from .keyid import format_key_id, parse_key_id
from .library import describe_pkcs11_error
from .lookup import check_label, search
from .pubkey import named_curve_params

HSM_KEYGEN_ALGORITHMS = ("ecdsa-p256", "ecdsa-p384", "ecdsa-p521",
                         "rsa-2048", "rsa-3072", "rsa-4096")
PQC_FAMILIES = ("ml-dsa", "slh-dsa", "ml-kem")


def generate_key(hsm, algorithm, label, key_id=None):
    """Generate a key pair for ``algorithm`` in the token and return its id
    as hex text (a random 8-byte id is made when ``key_id`` is None).

    Refuses when a key with the same label or id already exists.
    """
    import pkcs11

    from ..algorithms.registry import get_algorithm

    algorithm = get_algorithm(algorithm)
    if algorithm.name not in HSM_KEYGEN_ALGORITHMS:
        if algorithm.family in PQC_FAMILIES:
            reason = "PQC keys are software-only"
        else:
            reason = "HSM keys are %s" % ", ".join(HSM_KEYGEN_ALGORITHMS)
        raise HsmError("algorithm %s cannot be generated in an HSM (%s)"
                       % (algorithm.name, reason))
    if not label:
        raise UsageError("a key label is required to generate a key in token '%s'" % hsm.label)
    check_label(label)
    raw_id = parse_key_id(key_id) if key_id not in (None, "") else os.urandom(8)
    if not hsm.logged_in:
        raise HsmError("generating a key in token '%s' needs a logged-in session" % hsm.label)
    if not hsm.session.rw:
        raise HsmError("token '%s' is write-protected: cannot generate key '%s'"
                       % (hsm.label, label))
    _refuse_existing(hsm, label, raw_id)

    private_template = {
        pkcs11.Attribute.TOKEN: True,
        pkcs11.Attribute.PRIVATE: True,
        pkcs11.Attribute.SENSITIVE: True,
        pkcs11.Attribute.EXTRACTABLE: False,
        pkcs11.Attribute.SIGN: True,
        pkcs11.Attribute.DECRYPT: False,
        pkcs11.Attribute.UNWRAP: False,
        pkcs11.Attribute.DERIVE: False,
    }
    public_template = {
        pkcs11.Attribute.TOKEN: True,
        pkcs11.Attribute.PRIVATE: False,
        pkcs11.Attribute.VERIFY: True,
        pkcs11.Attribute.ENCRYPT: False,
        pkcs11.Attribute.WRAP: False,
    }
    common = dict(label=label, id=raw_id, store=True,
                  capabilities=pkcs11.MechanismFlag.SIGN | pkcs11.MechanismFlag.VERIFY,
                  private_template=private_template)
    try:
        if algorithm.family == "ec":
            public_template[pkcs11.Attribute.EC_PARAMS] = named_curve_params(algorithm.curve)
            hsm.session.generate_keypair(pkcs11.KeyType.EC, public_template=public_template,
                                         **common)
        else:
            hsm.session.generate_keypair(pkcs11.KeyType.RSA, algorithm.key_size,
                                         public_template=public_template, **common)
    except pkcs11.PKCS11Error as exc:
        raise HsmError("generating %s key '%s' in token '%s' failed: %s"
                       % (algorithm.name, label, hsm.label, describe_pkcs11_error(exc))) from None
    return format_key_id(raw_id)


def _refuse_existing(hsm, label, raw_id):
    import pkcs11

    classes = (pkcs11.ObjectClass.PRIVATE_KEY, pkcs11.ObjectClass.PUBLIC_KEY)
    if any(search(hsm, cls, label=label) for cls in classes):
        raise HsmError("a key labelled '%s' already exists in token '%s'" % (label, hsm.label))
    if any(search(hsm, cls, key_id=raw_id) for cls in classes):
        raise HsmError("a key with id %s already exists in token '%s'"
                       % (format_key_id(raw_id), hsm.label))
