"""The one table from algorithm names to their implementations and OIDs."""

from ..errors import InputError

# name -> Algorithm: the classical, ML-DSA, SLH-DSA and ML-KEM algorithms, then
# (once a lookup is not answered by those) the composites. Building the 18
# composite entries loads composite_params and its dataclasses, a few ms that
# a command using no composite algorithm does not pay. Lookups see the same
# table, in the same order, as if it had been built at once.
_BY_NAME = None
_COMPLETE = False


def _load(complete=True):
    global _BY_NAME, _COMPLETE
    if _BY_NAME is None:
        from .classical import classical_algorithms
        from .mldsa import mldsa_algorithms
        from .mlkem import mlkem_algorithms
        from .slhdsa import slhdsa_algorithms

        table = {}
        for group in (classical_algorithms(), mldsa_algorithms(),
                      slhdsa_algorithms(), mlkem_algorithms()):
            for algorithm in group:
                table[algorithm.name] = algorithm
        _BY_NAME = table
    if complete and not _COMPLETE:
        from .composite_algorithm import composite_algorithms

        for algorithm in composite_algorithms():
            _BY_NAME[algorithm.name] = algorithm
        _COMPLETE = True
    return _BY_NAME


def _first(test):
    """The first algorithm, in table order, for which ``test`` is true, or None."""
    for complete in (False, True):
        if complete and _COMPLETE:
            break
        for algorithm in _load(complete).values():
            if test(algorithm):
                return algorithm
    return None


def get_algorithm(name):
    """The Algorithm registered as ``name`` (an Algorithm passes through)."""
    if not isinstance(name, str):
        return name
    key = name.lower()
    try:
        return _load(complete=False)[key]
    except KeyError:
        pass
    try:
        return _load()[key]
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
    return _first(lambda algorithm: algorithm.family in (
        "ml-dsa", "slh-dsa", "ml-kem", "ed25519", "composite") and algorithm.key_oid == oid)


def algorithm_for_public_key(public_key):
    """The registry algorithm matching a public key object, or None."""
    return _first(lambda algorithm: algorithm.matches_public_key(public_key))


def hsm_algorithm_names():
    """The algorithms a PKCS#11 token may hold, in table order."""
    return [name for name, algorithm in _load(complete=False).items() if algorithm.hsm_capable]


def algorithms_by_family(signing_only=False):
    """{family: [names, sorted]} of every algorithm (or of those that sign),
    families in table order."""
    groups = {}
    for name, algorithm in _load().items():
        if signing_only and not algorithm.can_sign:
            continue
        groups.setdefault(algorithm.family, []).append(name)
    return {family: sorted(names) for family, names in groups.items()}
