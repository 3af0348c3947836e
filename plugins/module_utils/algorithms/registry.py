"""The one table from algorithm names to their implementations and OIDs."""

from ..errors import InputError

_BY_NAME = None


def _load():
    global _BY_NAME
    if _BY_NAME is None:
        from .classical import classical_algorithms
        from .composite_algorithm import composite_algorithms
        from .mldsa import mldsa_algorithms
        from .mlkem import mlkem_algorithms
        from .slhdsa import slhdsa_algorithms

        table = {}
        for group in (classical_algorithms(), mldsa_algorithms(),
                      slhdsa_algorithms(), mlkem_algorithms(), composite_algorithms()):
            for algorithm in group:
                table[algorithm.name] = algorithm
        _BY_NAME = table
    return _BY_NAME


def get_algorithm(name):
    """The Algorithm registered as ``name`` (an Algorithm passes through)."""
    if not isinstance(name, str):
        return name
    try:
        return _load()[name.lower()]
    except KeyError:
        raise InputError(
            "unknown algorithm %r (known: %s)" % (name, ", ".join(sorted(_load())))
        ) from None


def algorithm_names():
    return sorted(_load())


def algorithm_for_oid(oid):
    """The algorithm whose key or signature OID is ``oid`` (PQC: they are one
    OID), or None. Classical key OIDs are shared by several algorithms, so
    this is only meaningful for OIDs that name one algorithm."""
    for algorithm in _load().values():
        if algorithm.family in ("ml-dsa", "slh-dsa", "ml-kem", "ed25519", "composite") \
                and algorithm.key_oid == oid:
            return algorithm
    return None


def algorithm_for_public_key(public_key):
    """The registry algorithm matching a public key object, or None."""
    for algorithm in _load().values():
        if algorithm.matches_public_key(public_key):
            return algorithm
    return None
