"""Reading a token key's public half as a ``cryptography`` public key.

EC keys: CKA_EC_PARAMS (DER namedCurve OID) and CKA_EC_POINT (the
uncompressed point, normally wrapped in a DER OCTET STRING; some tokens give
it raw). RSA keys: CKA_MODULUS and CKA_PUBLIC_EXPONENT. A private key that
does not carry these attributes is completed from the public-key object with
the same id (or, failing that, the same label).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from ..errors import HsmError
from .lookup import key_name, object_id, object_label, search

if TYPE_CHECKING:
    import pkcs11

    from .session import HsmSession
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    TokenPublicKey = Union[ec.EllipticCurvePublicKey, rsa.RSAPublicKey]


def public_key_of(hsm: HsmSession, private_key: pkcs11.Object) -> TokenPublicKey:
    """The ``cryptography`` public key of a token private key."""
    found = _from_object(private_key)
    if found is None:
        partner = _partner_public_key(hsm, private_key)
        if partner is not None:
            found = _from_object(partner)
    if found is None:
        raise HsmError(
            "cannot read the public key of private key %s in token '%s' (the key has "
            "no public attributes and no public-key object shares its id or label)"
            % (key_name(private_key), hsm.label))
    return found


def public_key_from_object(hsm: HsmSession, obj: pkcs11.Object) -> TokenPublicKey:
    """The ``cryptography`` public key of a token public-key object."""
    found = _from_object(obj)
    if found is None:
        raise HsmError("cannot read public key %s in token '%s'" % (key_name(obj), hsm.label))
    return found


def key_type_name(obj: pkcs11.Object) -> str:
    """``EC``, ``RSA`` or the PKCS#11 key type name."""
    import pkcs11

    try:
        key_type = obj[pkcs11.Attribute.KEY_TYPE]
    except pkcs11.PKCS11Error:
        return "unknown"
    return getattr(key_type, "name", str(key_type))


def ec_curve_of(obj: pkcs11.Object) -> ec.EllipticCurve | None:
    """The ``cryptography`` curve of an EC key object, from CKA_EC_PARAMS."""
    import pkcs11

    params = _attribute(obj, pkcs11.Attribute.EC_PARAMS)
    if params is None:
        return None
    return curve_from_params(params)


def curve_from_params(params: bytes) -> ec.EllipticCurve:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error
    from pyasn1.type import univ

    try:
        oid, rest = decoder.decode(bytes(params), asn1Spec=univ.ObjectIdentifier())
    except PyAsn1Error:
        raise HsmError("EC key parameters are not a named curve (explicit curve "
                       "parameters are not supported)") from None
    if rest:
        raise HsmError("EC key parameters have trailing bytes")
    try:
        return ec.get_curve_for_oid(x509.ObjectIdentifier(str(oid)))()
    except LookupError:
        raise HsmError("EC curve %s is not supported" % oid) from None


def named_curve_params(curve: ec.EllipticCurve) -> bytes:
    """CKA_EC_PARAMS (DER namedCurve OID) for a ``cryptography`` curve."""
    from pyasn1.codec.der import encoder
    from pyasn1.type import univ

    return encoder.encode(univ.ObjectIdentifier(_CURVE_OIDS[curve.name]))


_CURVE_OIDS = {
    "secp256r1": "1.2.840.10045.3.1.7",
    "secp384r1": "1.3.132.0.34",
    "secp521r1": "1.3.132.0.35",
}


def unwrap_ec_point(data: bytes, curve: ec.EllipticCurve) -> bytes:
    """The encoded point inside CKA_EC_POINT, whether the token wrapped it
    in a DER OCTET STRING (the standard) or returned it raw."""
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error
    from pyasn1.type import univ

    data = bytes(data)
    coordinate = (curve.key_size + 7) // 8
    if data[:1] == b"\x04" and len(data) == 1 + 2 * coordinate:
        return data  # raw uncompressed point: a DER wrapping cannot have this length
    try:
        point, rest = decoder.decode(data, asn1Spec=univ.OctetString())
    except PyAsn1Error:
        raise HsmError("EC public point is neither a DER OCTET STRING nor a raw point") from None
    if rest:
        raise HsmError("EC public point has trailing bytes")
    return bytes(point)


def _attribute(obj: pkcs11.Object, attribute: pkcs11.Attribute) -> bytes | None:
    """The value of a byte-string attribute, None when the object has none."""
    import pkcs11

    try:
        value = obj[attribute]
    except (pkcs11.AttributeTypeInvalid, pkcs11.AttributeSensitive):
        return None
    if value is None or (isinstance(value, (bytes, bytearray)) and not value):
        return None
    return value


def _from_object(obj: pkcs11.Object) -> TokenPublicKey | None:
    """A public key from the attributes of ``obj``, or None when missing."""
    import pkcs11

    key_type = obj[pkcs11.Attribute.KEY_TYPE]
    if key_type == pkcs11.KeyType.EC:
        return _ec_public(obj)
    if key_type == pkcs11.KeyType.RSA:
        return _rsa_public(obj)
    raise HsmError("token key %s has key type %s, which QPKI cannot use (EC or RSA expected)"
                   % (key_name(obj), getattr(key_type, "name", key_type)))


def _ec_public(obj: pkcs11.Object) -> ec.EllipticCurvePublicKey | None:
    import pkcs11
    from cryptography.hazmat.primitives.asymmetric import ec

    curve = ec_curve_of(obj)
    point = _attribute(obj, pkcs11.Attribute.EC_POINT)
    if curve is None or point is None:
        return None
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, unwrap_ec_point(point, curve))
    except ValueError:
        raise HsmError("token key %s has an invalid EC public point" % key_name(obj)) from None


def _rsa_public(obj: pkcs11.Object) -> rsa.RSAPublicKey | None:
    import pkcs11
    from cryptography.hazmat.primitives.asymmetric import rsa

    modulus = _attribute(obj, pkcs11.Attribute.MODULUS)
    exponent = _attribute(obj, pkcs11.Attribute.PUBLIC_EXPONENT)
    if modulus is None or exponent is None:
        return None
    numbers = rsa.RSAPublicNumbers(_int(exponent), _int(modulus))
    return numbers.public_key()


def _int(value: bytes | int) -> int:
    if isinstance(value, int):
        return value
    return int.from_bytes(bytes(value), "big")


def _partner_public_key(hsm: HsmSession, private_key: pkcs11.Object) -> pkcs11.Object | None:
    """The public-key object paired with ``private_key`` (same id, else same
    label), or None when there is not exactly one."""
    import pkcs11

    raw_id = object_id(private_key)
    if raw_id:
        matches = search(hsm, pkcs11.ObjectClass.PUBLIC_KEY, key_id=raw_id)
        if len(matches) == 1:
            return matches[0]
    label = object_label(private_key)
    if label:
        matches = search(hsm, pkcs11.ObjectClass.PUBLIC_KEY, label=label)
        if len(matches) == 1:
            return matches[0]
    return None
