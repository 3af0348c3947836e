"""Key objects in a token: find, read the public key, generate, list, delete.

Every function takes an open :class:`~.session.HsmSession`. Key ids are hex
text (``"0102"``) or bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ..errors import HsmError
from .keygen import generate_key  # noqa: F401 - API  # pylint: disable=unused-import
from .keyid import format_key_id, parse_key_id  # noqa: F401 - API  # pylint: disable=unused-import
from .library import describe_pkcs11_error
from .lookup import find_key, object_id, object_label, search
from .pubkey import ec_curve_of, key_type_name, public_key_of  # noqa: F401 - API  # pylint: disable=unused-import

if TYPE_CHECKING:
    import pkcs11

    from .session import HsmSession

# {label, id, type, size, curve, class} of one key object
KeyDescription = dict[str, Any]


def find_private_key(hsm: HsmSession, label: str | None = None,
                     key_id: str | bytes | None = None) -> pkcs11.SignMixin:
    """The one private key named by ``label`` and/or ``key_id``."""
    import pkcs11

    return cast("pkcs11.SignMixin", find_key(hsm, pkcs11.ObjectClass.PRIVATE_KEY, "private key", label, key_id))


def find_public_key(hsm: HsmSession, label: str | None = None,
                    key_id: str | bytes | None = None) -> pkcs11.Object:
    """The one public-key object named by ``label`` and/or ``key_id``."""
    import pkcs11

    return find_key(hsm, pkcs11.ObjectClass.PUBLIC_KEY, "public key", label, key_id)


def describe_key_object(obj: pkcs11.Object) -> KeyDescription:
    """``{label, id, type, size, curve, class}`` for one key object."""
    import pkcs11

    kind = key_type_name(obj)
    size = curve = None
    if kind == "EC":
        try:
            found = ec_curve_of(obj)
        except HsmError:
            found = None  # a curve QPKI does not know: still list the key
        if found is not None:
            size, curve = found.key_size, found.name
    elif kind == "RSA":
        size = _rsa_bits(obj)
    cls = obj[pkcs11.Attribute.CLASS]
    return {
        "label": object_label(obj),
        "id": format_key_id(object_id(obj)),
        "type": kind,
        "size": size,
        "curve": curve,
        "class": "private" if cls == pkcs11.ObjectClass.PRIVATE_KEY else "public",
    }


def list_keys(hsm: HsmSession) -> list[KeyDescription]:
    """Every private and public key object the session can see, sorted by
    label, id and class."""
    import pkcs11

    found: list[KeyDescription] = []
    for cls in (pkcs11.ObjectClass.PRIVATE_KEY, pkcs11.ObjectClass.PUBLIC_KEY):
        found.extend(describe_key_object(obj) for obj in search(hsm, cls))
    return sorted(found, key=lambda k: (k["label"], k["id"], k["class"]))


def delete_key(hsm: HsmSession, label: str | None = None,
               key_id: str | bytes | None = None) -> list[KeyDescription]:
    """Destroy the private key named by ``label`` and/or ``key_id`` together
    with its public-key object(s). Returns the descriptions of the destroyed
    objects (empty when nothing matched: deleting is idempotent)."""
    import pkcs11

    from ..errors import UsageError

    label = label or None
    raw_id = parse_key_id(key_id) if key_id not in (None, "") else None
    if label is None and raw_id is None:
        raise UsageError("a key label or key id is required to delete a key in token '%s'"
                         % hsm.label)
    privates = search(hsm, pkcs11.ObjectClass.PRIVATE_KEY, label=label, key_id=raw_id)
    if len(privates) > 1:
        raise HsmError("%d private keys match in token '%s'; give both label and id to "
                       "delete one" % (len(privates), hsm.label))
    publics = search(hsm, pkcs11.ObjectClass.PUBLIC_KEY, label=label, key_id=raw_id)
    doomed = privates + publics
    described = [describe_key_object(obj) for obj in doomed]
    for obj in doomed:
        try:
            obj.destroy()
        except pkcs11.PKCS11Error as exc:
            raise HsmError("deleting key %s from token '%s' failed: %s"
                           % (label or format_key_id(raw_id), hsm.label,
                              describe_pkcs11_error(exc))) from None
    return described


def _rsa_bits(obj: pkcs11.Object) -> int | None:
    import pkcs11

    try:
        bits = obj[pkcs11.Attribute.MODULUS_BITS]
        if bits:
            return int(bits)
    except pkcs11.PKCS11Error:
        pass
    try:
        return int.from_bytes(bytes(obj[pkcs11.Attribute.MODULUS]), "big").bit_length()
    except pkcs11.PKCS11Error:
        return None
