"""SubjectPublicKeyInfo encoding for every key type of the registry.

``cryptography`` handles classical keys, ML-DSA and ML-KEM; SLH-DSA and
composite keys are encoded here as AlgorithmIdentifier (OID, parameters
absent) plus the raw public key in the BIT STRING (RFC 9909 §4, composite
draft-13 §5).
"""

from ..dependencies import imported_later, missing

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
except ImportError:
    UnsupportedAlgorithm = serialization = missing()

from ..errors import InputError
from .registry import algorithm_for_public_key, get_algorithm

# pyasn1 only for the keys cryptography cannot encode or load: imported there.
imported_later("pyasn1", "pyasn1_modules")


def raw_spki(oid, raw_public_key):
    from pyasn1.codec.der import encoder
    from pyasn1.type import univ
    from pyasn1_modules import rfc5280

    spki = rfc5280.SubjectPublicKeyInfo()
    spki["algorithm"]["algorithm"] = univ.ObjectIdentifier(oid)
    spki["subjectPublicKey"] = univ.BitString.fromOctetString(raw_public_key)
    return encoder.encode(spki)


def spki_der(public_key):
    """DER SubjectPublicKeyInfo of any public key object we handle."""
    if hasattr(public_key, "spki_der"):
        return public_key.spki_der()
    if hasattr(public_key, "algorithm_name"):
        algorithm = get_algorithm(public_key.algorithm_name)
        return raw_spki(algorithm.key_oid, public_key.public_bytes_raw())
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def split_spki(der):
    """(algorithm OID, raw key bytes) of a DER SubjectPublicKeyInfo."""
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error
    from pyasn1_modules import rfc5280

    try:
        spki, rest = decoder.decode(der, asn1Spec=rfc5280.SubjectPublicKeyInfo())
    except (PyAsn1Error, OverflowError):  # pyasn1 overflows on >= 2**63 lengths
        raise InputError("malformed SubjectPublicKeyInfo") from None
    if rest:
        raise InputError("malformed SubjectPublicKeyInfo: trailing data")
    return str(spki["algorithm"]["algorithm"]), spki["subjectPublicKey"].asOctets()


def load_spki(der):
    """A public key object from DER SubjectPublicKeyInfo, whatever its type."""
    try:
        return serialization.load_der_public_key(der)
    except (UnsupportedAlgorithm, ValueError):
        pass
    oid, raw = split_spki(der)
    from .registry import algorithm_for_oid

    algorithm = algorithm_for_oid(oid)
    if algorithm is not None and hasattr(algorithm, "load_public_raw"):
        return algorithm.load_public_raw(raw)
    raise InputError("unsupported public key algorithm %s" % oid)


def algorithm_of(public_key):
    """Registry algorithm of a public key, or an InputError naming its type."""
    algorithm = algorithm_for_public_key(public_key)
    if algorithm is None:
        raise InputError("unsupported public key type %s" % type(public_key).__name__)
    return algorithm
