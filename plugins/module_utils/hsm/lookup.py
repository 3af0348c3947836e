"""Finding key objects in a token by label, id, or both.

When both are given they must designate the same object (double
verification, as in ``--key-label x --key-id 01``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import HsmError, UsageError
from .keyid import format_key_id, parse_key_id

if TYPE_CHECKING:
    import pkcs11

    from .session import HsmSession


def object_label(obj: pkcs11.Object) -> str:
    import pkcs11

    try:
        return obj[pkcs11.Attribute.LABEL] or ""
    except pkcs11.AttributeTypeInvalid:
        return ""


def object_id(obj: pkcs11.Object) -> bytes:
    import pkcs11

    try:
        return obj[pkcs11.Attribute.ID] or b""
    except pkcs11.AttributeTypeInvalid:
        return b""


def key_name(obj: pkcs11.Object) -> str:
    """How messages name a token key: ``'label'`` or ``with id 0102``."""
    label = object_label(obj)
    if label:
        return "'%s'" % label
    return "with id %s" % format_key_id(object_id(obj))


def search(hsm: HsmSession, object_class: pkcs11.ObjectClass, label: str | None = None,
           key_id: bytes | None = None) -> list[pkcs11.Object]:
    """Objects of ``object_class`` whose label and/or id equal the given
    ones (either may be None)."""
    import pkcs11

    template: dict[pkcs11.Attribute, object] = {pkcs11.Attribute.CLASS: object_class}
    if label is not None:
        template[pkcs11.Attribute.LABEL] = label
    if key_id is not None:
        template[pkcs11.Attribute.ID] = key_id
    try:
        return list(hsm.session.get_objects(template))
    except pkcs11.PKCS11Error as exc:
        from .library import describe_pkcs11_error

        raise HsmError("searching token '%s' failed: %s"
                       % (hsm.label, describe_pkcs11_error(exc))) from None


MAX_LABEL = 255


def check_label(label: str | None) -> str | None:
    """UsageError for a key label qpki does not accept: control characters
    (they garble one-line messages and terminals) or more than 255
    characters. Labels are names in the token only, never file paths, so
    '/' and '..' are ordinary characters here."""
    if label is None:
        return label
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in str(label)):
        raise UsageError("invalid key label %r: control characters are not allowed" % label[:64])
    if len(label) > MAX_LABEL:
        raise UsageError("invalid key label %r...: longer than %d characters"
                         % (label[:32], MAX_LABEL))
    return label


def find_key(hsm: HsmSession, object_class: pkcs11.ObjectClass, kind: str, label: str | None = None,
             key_id: str | bytes | None = None) -> pkcs11.Object:
    """The one object of ``object_class`` named by ``label`` and/or
    ``key_id``; ``kind`` (``private key``...) is for messages."""
    label = check_label(label or None)
    raw_id = parse_key_id(key_id) if key_id not in (None, "") else None
    if label is None and raw_id is None:
        raise UsageError("a key label or key id is required to select a %s in token '%s'"
                         % (kind, hsm.label))
    where = "in token '%s'" % hsm.label
    id_text = format_key_id(raw_id) if raw_id is not None else None

    by_label = search(hsm, object_class, label=label) if label is not None else None
    by_id = search(hsm, object_class, key_id=raw_id) if raw_id is not None else None
    if by_label is not None and not by_label:
        raise HsmError("no %s with label '%s' %s" % (kind, label, where))
    if by_id is not None and not by_id:
        raise HsmError("no %s with id %s %s" % (kind, id_text, where))

    if by_label is None:
        return _single(by_id or [], kind, "id %s" % id_text, where, "label")
    if by_id is None:
        return _single(by_label, kind, "label '%s'" % label, where, "id")
    id_handles = {obj.handle for obj in by_id}
    both = [obj for obj in by_label if obj.handle in id_handles]
    if not both:
        raise HsmError("key label '%s' and key id %s name different objects %s "
                       "(no %s has both)" % (label, id_text, where, kind))
    return _single(both, kind, "label '%s' and id %s" % (label, id_text), where, None)


def _single(matches: list[pkcs11.Object], kind: str, what: str, where: str,
            other: str | None) -> pkcs11.Object:
    if len(matches) == 1:
        return matches[0]
    hint = "; give the key %s as well to pick one" % other if other else ""
    raise HsmError("%d %ss have %s %s%s" % (len(matches), kind, what, where, hint))
