"""What this token can do with each algorithm of the registry.

Read once per session from the token's mechanism list and the flags and
key sizes of each mechanism (``C_GetMechanismList``,
``C_GetMechanismInfo``), compared with what the registry says each
algorithm needs (``algorithms.hsm_mechanisms``). Commands ask before they
write anything, so a token that cannot do something is told in one line
instead of a PKCS#11 return code half-way through.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ..errors import HsmError
from .library import describe_pkcs11_error

if TYPE_CHECKING:
    from ..algorithms.base import Algorithm
    from .session import HsmSession

    MechanismTable = dict[str, "TokenMechanism"]


@dataclasses.dataclass(frozen=True)
class AlgorithmSupport:
    """Whether the token can generate and sign with one algorithm.

    ``sign_mechanism`` is the mechanism signing will use for the
    algorithm's default hash (raw over qpki's digest when the token offers
    it, else the token's hash-and-sign one); ``reason`` says what is
    missing, empty when both work.
    """

    algorithm: str
    generate: bool
    sign: bool
    sign_mechanism: str
    reason: str

    def as_dict(self) -> dict[str, str | bool]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class TokenMechanism:
    flags: int
    min_bits: int
    max_bits: int


def mechanism_table(hsm: HsmSession) -> MechanismTable:
    """{python-pkcs11 mechanism name: TokenMechanism} of the session's token,
    read once per session."""
    table = hsm._mechanism_table
    if table is None:
        table = _read_mechanisms(hsm)
        hsm._mechanism_table = table
    return table


def _read_mechanisms(hsm: HsmSession) -> MechanismTable:
    import pkcs11

    slot = hsm.token.slot
    table: MechanismTable = {}
    try:
        for mechanism in slot.get_mechanisms():
            name = getattr(mechanism, "name", None)
            if not name:
                continue  # vendor-defined: nothing of ours uses it
            info = slot.get_mechanism_info(mechanism)
            table[name] = TokenMechanism(int(info.flags), int(info.min_key_length or 0),
                                         int(info.max_key_length or 0))
    except pkcs11.PKCS11Error as exc:
        raise HsmError("cannot read the mechanisms of token '%s': %s"
                       % (hsm.label, describe_pkcs11_error(exc))) from None
    return table


def _fits(mechanism: TokenMechanism, bits: int) -> bool:
    """Whether the mechanism's advertised key sizes admit ``bits``. Some
    tokens give EC sizes in bytes, or nothing: only a plausible range in
    bits is held against the key."""
    if mechanism.max_bits < 128:
        return True
    return mechanism.min_bits <= bits <= mechanism.max_bits


def _usable(table: MechanismTable, name: str, flag: int, bits: int) -> bool:
    mechanism = table.get(name)
    return mechanism is not None and bool(mechanism.flags & flag) and _fits(mechanism, bits)


def _flag(name: str) -> int:
    import pkcs11

    return int(getattr(pkcs11.MechanismFlag, name))


def signing_mechanism(hsm: HsmSession, algorithm: Algorithm, hash_name: str, pss: bool = False) -> str | None:
    """The mechanism name that signs with ``algorithm`` on this token: the
    raw one (over qpki's digest) when offered, else the token's
    hash-and-sign one for ``hash_name``, else None."""
    needs = algorithm.hsm_mechanisms
    if needs is None:
        return None
    table = mechanism_table(hsm)
    sign = _flag("SIGN")
    raw = needs.pss_raw if pss else needs.sign_raw
    hashed = (needs.pss_hashed if pss else needs.sign_hashed).get(hash_name)
    if raw and _usable(table, raw, sign, needs.key_bits):
        return raw
    if hashed and _usable(table, hashed, sign, needs.key_bits):
        return hashed
    return None


def algorithm_support(hsm: HsmSession, algorithm: str | Algorithm) -> AlgorithmSupport:
    """The :class:`AlgorithmSupport` of one registry algorithm on this token."""
    from ..algorithms.registry import get_algorithm

    found = get_algorithm(algorithm)
    if not found.hsm_capable:
        return AlgorithmSupport(found.name, False, False, "", "not an HSM algorithm")
    needs = found.hsm_mechanisms
    table = mechanism_table(hsm)
    generate = _usable(table, needs.keygen, _flag("GENERATE_KEY_PAIR"), needs.key_bits)
    mechanism = signing_mechanism(hsm, found, found.default_hash)
    reasons: list[str] = []
    if not generate:
        reasons.append(_missing(table, needs.keygen, needs.key_bits, "generation"))
    if mechanism is None:
        reasons.append(_missing(table, needs.sign_raw, needs.key_bits, "signing"))
    return AlgorithmSupport(found.name, generate, mechanism is not None,
                            "CKM_" + mechanism if mechanism else "", "; ".join(reasons))


def _missing(table: MechanismTable, name: str, bits: int, what: str) -> str:
    mechanism = table.get(name)
    if mechanism is None:
        return "no CKM_%s for %s" % (name, what)
    if not _fits(mechanism, bits):
        return "CKM_%s takes %d to %d-bit keys, not %d" % (
            name, mechanism.min_bits, mechanism.max_bits, bits)
    return "CKM_%s is not offered for %s" % (name, what)


def token_support(hsm: HsmSession) -> list[AlgorithmSupport]:
    """:class:`AlgorithmSupport` of every HSM algorithm of the registry."""
    from ..algorithms.registry import hsm_algorithm_names

    return [algorithm_support(hsm, name) for name in hsm_algorithm_names()]


def require_generation(hsm: HsmSession, algorithm: str | Algorithm) -> None:
    """Refuse, before anything is written, an algorithm this token cannot
    generate or sign with."""
    support = algorithm_support(hsm, algorithm)
    if not (support.generate and support.sign):
        raise HsmError("token '%s' cannot generate and sign with %s keys (%s)"
                       % (hsm.label, support.algorithm, support.reason))


def require_signing(hsm: HsmSession, algorithm: Algorithm, hash_name: str, pss: bool = False) -> str:
    """The mechanism name to sign with; refuses when the token has none."""
    mechanism = signing_mechanism(hsm, algorithm, hash_name, pss)
    if mechanism is None:
        needs = algorithm.hsm_mechanisms
        if needs is None:
            raise HsmError("algorithm %s is not available in HSM mode" % algorithm.name)
        raw = needs.pss_raw if pss else needs.sign_raw
        raise HsmError("token '%s' cannot sign with %s%s (%s)"
                       % (hsm.label, algorithm.name, " (PSS)" if pss else "",
                          _missing(mechanism_table(hsm), raw, needs.key_bits, "signing")))
    return mechanism
