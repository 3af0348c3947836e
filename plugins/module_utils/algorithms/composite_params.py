"""Parameter table for composite ML-DSA (draft-ietf-lamps-pq-composite-sigs-13).

Every entry below transcribes one bullet of draft-13 section 7 ("Algorithm
Identifiers and Parameters"): the IANA-assigned OID under 1.3.6.1.5.5.7.6,
the signature Label, the pre-hash PH, the ML-DSA parameter set and the
traditional component.  RSASSA-PSS parameters come from section 7.1
(tables 2 and 3: SHA-256/MGF1-SHA-256/salt 32 for 2048 and 3072 bits,
SHA-384/MGF1-SHA-384/salt 48 for 4096 bits).

Nothing here performs cryptography; composite.py does.
"""

from dataclasses import dataclass

from ..dependencies import missing

try:
    from cryptography.hazmat.primitives import hashes
except ImportError:
    hashes = missing()

from ..errors import InputError

# ML-DSA sizes in bytes (FIPS 204 table 2; draft-13 section 5, table 1):
# public key, signature.  The private key is always the 32-byte seed.
MLDSA_SIZES = {
    "ml-dsa-44": (1312, 2420),
    "ml-dsa-65": (1952, 3309),
    "ml-dsa-87": (2592, 4627),
}
MLDSA_SEED_SIZE = 32

# Named curves used by the ECDSA components (draft-13 appendix B, table 6).
CURVE_OIDS = {
    "secp256r1": "1.2.840.10045.3.1.7",
    "secp384r1": "1.3.132.0.34",
    "secp521r1": "1.3.132.0.35",
    "brainpoolP256r1": "1.3.36.3.3.2.8.1.1.7",
    "brainpoolP384r1": "1.3.36.3.3.2.8.1.1.11",
}


@dataclass(frozen=True)
class TradParams:
    """The traditional half of a composite.

    kind       "ecdsa", "rsa", "ed25519" or "ed448"
    curve      curve name for ECDSA ("secp256r1", "brainpoolP256r1", ...)
    key_size   RSA modulus size in bits
    padding    "pss" or "pkcs1v15" for RSA
    hash       hash class the component signs M' with (None for EdDSA)
    salt_length  RSASSA-PSS salt length in bytes
    """

    kind: str
    curve: "str | None" = None
    key_size: "int | None" = None
    padding: "str | None" = None
    hash: "type[hashes.HashAlgorithm] | None" = None
    salt_length: "int | None" = None

    @property
    def component(self) -> str:
        """Name used in error messages: "ECDSA", "RSASSA-PSS", ..."""
        if self.kind == "ecdsa":
            return "ECDSA"
        if self.kind == "rsa":
            return "RSASSA-PSS" if self.padding == "pss" else "RSASSA-PKCS1-v1_5"
        return {"ed25519": "Ed25519", "ed448": "Ed448"}[self.kind]

    @property
    def curve_oid(self) -> "str | None":
        return CURVE_OIDS.get(self.curve) if self.curve else None


@dataclass(frozen=True)
class CompositeParams:
    """One composite ML-DSA algorithm of draft-13 section 7."""

    name: str  # our registry name, e.g. "composite-mldsa65-ecdsa-p256"
    draft_name: str  # the draft's identifier, e.g. "id-MLDSA65-ECDSA-P256-SHA512"
    oid: str
    label: bytes
    mldsa: str  # "ml-dsa-44" / "ml-dsa-65" / "ml-dsa-87"
    trad: TradParams
    prehash: "type[hashes.HashAlgorithm]"
    prehash_size: "int | None" = None  # output length, only for SHAKE256

    def prehash_algorithm(self) -> hashes.HashAlgorithm:
        """An instance of PH, e.g. SHA512() or SHAKE256(64)."""
        if self.prehash_size is not None:
            return self.prehash(digest_size=self.prehash_size)
        return self.prehash()

    @property
    def mldsa_public_key_size(self) -> int:
        return MLDSA_SIZES[self.mldsa][0]

    @property
    def mldsa_signature_size(self) -> int:
        return MLDSA_SIZES[self.mldsa][1]


_PSS_2048_3072 = dict(padding="pss", hash=hashes.SHA256, salt_length=32)
_PSS_4096 = dict(padding="pss", hash=hashes.SHA384, salt_length=48)


def _rsa(bits, padding, hash_cls=None):
    if padding == "pss":
        extra = _PSS_4096 if bits == 4096 else _PSS_2048_3072
        return TradParams(kind="rsa", key_size=bits, **extra)
    return TradParams(kind="rsa", key_size=bits, padding="pkcs1v15", hash=hash_cls)


def _ec(curve, hash_cls):
    return TradParams(kind="ecdsa", curve=curve, hash=hash_cls)


_ARC = "1.3.6.1.5.5.7.6."

# (registry name, draft identifier, OID arc, Label, ML-DSA, traditional, PH)
_TABLE = [
    ("composite-mldsa44-rsa2048-pss", "id-MLDSA44-RSA2048-PSS-SHA256", 37,
     "COMPSIG-MLDSA44-RSA2048-PSS-SHA256", "ml-dsa-44",
     _rsa(2048, "pss"), hashes.SHA256),
    ("composite-mldsa44-rsa2048-pkcs15", "id-MLDSA44-RSA2048-PKCS15-SHA256", 38,
     "COMPSIG-MLDSA44-RSA2048-PKCS15-SHA256", "ml-dsa-44",
     _rsa(2048, "pkcs1v15", hashes.SHA256), hashes.SHA256),
    ("composite-mldsa44-ed25519", "id-MLDSA44-Ed25519-SHA512", 39,
     "COMPSIG-MLDSA44-Ed25519-SHA512", "ml-dsa-44",
     TradParams(kind="ed25519"), hashes.SHA512),
    ("composite-mldsa44-ecdsa-p256", "id-MLDSA44-ECDSA-P256-SHA256", 40,
     "COMPSIG-MLDSA44-ECDSA-P256-SHA256", "ml-dsa-44",
     _ec("secp256r1", hashes.SHA256), hashes.SHA256),
    ("composite-mldsa65-rsa3072-pss", "id-MLDSA65-RSA3072-PSS-SHA512", 41,
     "COMPSIG-MLDSA65-RSA3072-PSS-SHA512", "ml-dsa-65",
     _rsa(3072, "pss"), hashes.SHA512),
    ("composite-mldsa65-rsa3072-pkcs15", "id-MLDSA65-RSA3072-PKCS15-SHA512", 42,
     "COMPSIG-MLDSA65-RSA3072-PKCS15-SHA512", "ml-dsa-65",
     _rsa(3072, "pkcs1v15", hashes.SHA256), hashes.SHA512),
    ("composite-mldsa65-rsa4096-pss", "id-MLDSA65-RSA4096-PSS-SHA512", 43,
     "COMPSIG-MLDSA65-RSA4096-PSS-SHA512", "ml-dsa-65",
     _rsa(4096, "pss"), hashes.SHA512),
    ("composite-mldsa65-rsa4096-pkcs15", "id-MLDSA65-RSA4096-PKCS15-SHA512", 44,
     "COMPSIG-MLDSA65-RSA4096-PKCS15-SHA512", "ml-dsa-65",
     _rsa(4096, "pkcs1v15", hashes.SHA384), hashes.SHA512),
    # Note: from here on the draft-13 labels drop the "ECDSA-" part and use
    # "BP256"/"BP384" for the brainpool curves; the official vectors agree.
    ("composite-mldsa65-ecdsa-p256", "id-MLDSA65-ECDSA-P256-SHA512", 45,
     "COMPSIG-MLDSA65-P256-SHA512", "ml-dsa-65",
     _ec("secp256r1", hashes.SHA256), hashes.SHA512),
    ("composite-mldsa65-ecdsa-p384", "id-MLDSA65-ECDSA-P384-SHA512", 46,
     "COMPSIG-MLDSA65-P384-SHA512", "ml-dsa-65",
     _ec("secp384r1", hashes.SHA384), hashes.SHA512),
    ("composite-mldsa65-ecdsa-brainpoolp256r1", "id-MLDSA65-ECDSA-brainpoolP256r1-SHA512", 47,
     "COMPSIG-MLDSA65-BP256-SHA512", "ml-dsa-65",
     _ec("brainpoolP256r1", hashes.SHA256), hashes.SHA512),
    ("composite-mldsa65-ed25519", "id-MLDSA65-Ed25519-SHA512", 48,
     "COMPSIG-MLDSA65-Ed25519-SHA512", "ml-dsa-65",
     TradParams(kind="ed25519"), hashes.SHA512),
    ("composite-mldsa87-ecdsa-p384", "id-MLDSA87-ECDSA-P384-SHA512", 49,
     "COMPSIG-MLDSA87-P384-SHA512", "ml-dsa-87",
     _ec("secp384r1", hashes.SHA384), hashes.SHA512),
    ("composite-mldsa87-ecdsa-brainpoolp384r1", "id-MLDSA87-ECDSA-brainpoolP384r1-SHA512", 50,
     "COMPSIG-MLDSA87-BP384-SHA512", "ml-dsa-87",
     _ec("brainpoolP384r1", hashes.SHA384), hashes.SHA512),
    ("composite-mldsa87-ed448", "id-MLDSA87-Ed448-SHAKE256", 51,
     "COMPSIG-MLDSA87-Ed448-SHAKE256", "ml-dsa-87",
     TradParams(kind="ed448"), hashes.SHAKE256),
    ("composite-mldsa87-rsa3072-pss", "id-MLDSA87-RSA3072-PSS-SHA512", 52,
     "COMPSIG-MLDSA87-RSA3072-PSS-SHA512", "ml-dsa-87",
     _rsa(3072, "pss"), hashes.SHA512),
    ("composite-mldsa87-rsa4096-pss", "id-MLDSA87-RSA4096-PSS-SHA512", 53,
     "COMPSIG-MLDSA87-RSA4096-PSS-SHA512", "ml-dsa-87",
     _rsa(4096, "pss"), hashes.SHA512),
    ("composite-mldsa87-ecdsa-p521", "id-MLDSA87-ECDSA-P521-SHA512", 54,
     "COMPSIG-MLDSA87-P521-SHA512", "ml-dsa-87",
     _ec("secp521r1", hashes.SHA512), hashes.SHA512),
]

COMPOSITE_ALGORITHMS: "dict[str, CompositeParams]" = {
    name: CompositeParams(
        name=name,
        draft_name=draft_name,
        oid=_ARC + str(arc),
        label=label.encode("ascii"),
        mldsa=mldsa,
        trad=trad,
        prehash=ph,
        # SHAKE256 with 64 bytes of output (draft-13 section 7, note **).
        prehash_size=64 if ph is hashes.SHAKE256 else None,
    )
    for (name, draft_name, arc, label, mldsa, trad, ph) in _TABLE
}

_BY_OID = {p.oid: p for p in COMPOSITE_ALGORITHMS.values()}
_BY_DRAFT_NAME = {p.draft_name: p for p in COMPOSITE_ALGORITHMS.values()}

# Our classical registry names -> matcher on TradParams.
_CLASSICAL = {
    "ecdsa-p256": lambda t: t.kind == "ecdsa" and t.curve == "secp256r1",
    "ecdsa-p384": lambda t: t.kind == "ecdsa" and t.curve == "secp384r1",
    "ecdsa-p521": lambda t: t.kind == "ecdsa" and t.curve == "secp521r1",
    "ecdsa-brainpoolp256r1": lambda t: t.kind == "ecdsa" and t.curve == "brainpoolP256r1",
    "ecdsa-brainpoolp384r1": lambda t: t.kind == "ecdsa" and t.curve == "brainpoolP384r1",
    "rsa-2048": lambda t: t.kind == "rsa" and t.key_size == 2048,
    "rsa-3072": lambda t: t.kind == "rsa" and t.key_size == 3072,
    "rsa-4096": lambda t: t.kind == "rsa" and t.key_size == 4096,
    "ed25519": lambda t: t.kind == "ed25519",
    "ed448": lambda t: t.kind == "ed448",
}


def params_by_oid(oid: str) -> "CompositeParams | None":
    """The composite with this dotted OID, or None if it is not one."""
    return _BY_OID.get(str(oid))


def params_by_name(name: str) -> CompositeParams:
    """The composite with this registry name; InputError if unknown."""
    try:
        return COMPOSITE_ALGORITHMS[name]
    except KeyError:
        raise InputError(f"unknown composite algorithm {name!r}") from None


def params_by_draft_name(draft_name: str) -> "CompositeParams | None":
    """The composite with this draft identifier (e.g. "id-MLDSA65-Ed25519-SHA512")."""
    return _BY_DRAFT_NAME.get(draft_name)


def composite_for_pair(classical_name: str, pqc_name: str, *, pss: "bool | None" = None) -> CompositeParams:
    """The draft-13 composite pairing ``classical_name`` with ``pqc_name``.

    For RSA, ``pss=True`` asks for RSASSA-PSS and ``pss=False`` for
    PKCS#1 v1.5; with the default ``None`` PKCS#1 v1.5 is chosen where the
    draft defines both paddings and the only defined one otherwise (the
    ML-DSA-87 + RSA pairs exist with PSS only).  Raises InputError when the
    draft defines no such combination.
    """
    match = _CLASSICAL.get(classical_name)
    if match is None:
        raise InputError(f"no composite algorithm uses classical algorithm {classical_name!r}")
    if pqc_name not in MLDSA_SIZES:
        raise InputError(f"no composite algorithm uses post-quantum algorithm {pqc_name!r}")
    found = [p for p in COMPOSITE_ALGORITHMS.values() if p.mldsa == pqc_name and match(p.trad)]
    if pss is not None and classical_name.startswith("rsa-"):
        wanted = "pss" if pss else "pkcs1v15"
        found = [p for p in found if p.trad.padding == wanted]
    elif len(found) > 1:
        found = [p for p in found if p.trad.padding == "pkcs1v15"]
    if not found:
        padding = "" if pss is None or not classical_name.startswith("rsa-") else (
            " with RSASSA-PSS" if pss else " with PKCS#1 v1.5")
        raise InputError(
            f"draft-13 defines no composite of {pqc_name} and {classical_name}{padding}")
    return found[0]
