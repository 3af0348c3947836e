"""Which algorithm names a profile may use, and how they may be combined.

The names are those of the algorithm registry (DESIGN.md §3). They are kept
here as plain data so that loading a profile loads no crypto back end; a
unit test checks that both lists agree. A hybrid profile lists two names:
the classical one first, the post-quantum one second.
"""

from .messages import profile_error, quote, type_name

CLASSICAL = (
    "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519",
    "rsa-2048", "rsa-3072", "rsa-4096",
)
ML_DSA = ("ml-dsa-44", "ml-dsa-65", "ml-dsa-87")
SLH_DSA = tuple(
    "slh-dsa-%s-%s%s" % (hash_, bits, speed)
    for hash_ in ("sha2", "shake") for bits in ("128", "192", "256") for speed in ("s", "f")
)
ML_KEM = ("ml-kem-768", "ml-kem-1024")
KNOWN = CLASSICAL + ML_DSA + SLH_DSA + ML_KEM
MODES = ("catalyst", "composite")

SIGNATURE_SCHEMES = ("pkcs1v15", "pss")
SIGNATURE_HASHES = ("sha256", "sha384", "sha512")


def family(name):
    """``ecdsa``, ``rsa``, ``ed25519``, ``ml-dsa``, ``slh-dsa`` or ``ml-kem``."""
    for prefix in ("ecdsa", "rsa", "ml-dsa", "slh-dsa", "ml-kem"):
        if name.startswith(prefix + "-"):
            return prefix
    return name


def parse_algorithms(profile, raw):
    """Return ``(algorithms tuple, mode)`` from the profile's raw mapping."""
    has_one, has_two = "algorithm" in raw, "algorithms" in raw
    if has_one == has_two:
        raise profile_error(profile, "algorithm", "give exactly one of algorithm or algorithms")
    mode = raw.get("mode")
    if has_one:
        names = [raw["algorithm"]]
        if mode is not None:
            raise profile_error(profile, "mode", "%s needs two algorithms" % quote(mode))
    elif isinstance(raw["algorithms"], list) and len(raw["algorithms"]) == 1 and mode is None:
        names = list(raw["algorithms"])  # a list of one: how `qpki profile show` prints one
    else:
        names = raw["algorithms"]
        if not isinstance(names, list) or len(names) != 2:
            raise profile_error(profile, "algorithms", "expected one name, or two with a mode, "
                                "got %s" % quote(names if isinstance(names, str)
                                                 else type_name(names)))
        if mode not in MODES:
            raise profile_error(profile, "mode", "%s is not one of: %s"
                                % (quote(mode) if mode is not None else "missing", ", ".join(MODES)))
    field = "algorithm" if has_one else "algorithms"
    for name in names:
        if name not in KNOWN:
            raise profile_error(profile, field, "unknown algorithm %s" % quote(name))
    if len(names) == 2:
        classical, pqc = names
        if classical not in CLASSICAL:
            raise profile_error(profile, field, "the first algorithm must be classical, got %s" % quote(classical))
        allowed = ML_DSA if mode == "composite" else ML_DSA + SLH_DSA
        if pqc not in allowed:
            raise profile_error(profile, field, "the second algorithm must be a post-quantum signature "
                                "algorithm usable in %s mode, got %s" % (mode, quote(pqc)))
    return tuple(names), mode


def parse_signature(profile, raw):
    """Validate the optional ``signature`` options: ``scheme`` and ``hash``."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise profile_error(profile, "signature", "expected a mapping, got %s" % type_name(raw))
    out = {}
    for key, value in raw.items():
        if key == "scheme":
            choices = SIGNATURE_SCHEMES
        elif key == "hash":
            choices = SIGNATURE_HASHES
        else:
            raise profile_error(profile, "signature", "unknown key %s (allowed: scheme, hash)" % quote(key))
        if value not in choices:
            raise profile_error(profile, "signature.%s" % key, "%s is not one of: %s"
                                % (quote(value), ", ".join(choices)))
        out[key] = value
    return out


# Key usages that a key of each family can actually perform.
_USAGE_BY_FAMILY = {
    "rsa": None,  # everything except keyAgreement (checked below)
    "ecdsa": ("digitalSignature", "nonRepudiation", "keyCertSign", "cRLSign",
              "keyAgreement", "encipherOnly", "decipherOnly"),
    "ed25519": ("digitalSignature", "nonRepudiation", "keyCertSign", "cRLSign"),
    "ml-dsa": ("digitalSignature", "nonRepudiation", "keyCertSign", "cRLSign"),
    "slh-dsa": ("digitalSignature", "nonRepudiation", "keyCertSign", "cRLSign"),
    "ml-kem": ("keyEncipherment",),
}


def check_key_usage(profile, algorithms, usages):
    """Reject key usages the subject key cannot perform (e.g. ML-KEM signing)."""
    for name in algorithms:
        fam = family(name)
        allowed = _USAGE_BY_FAMILY.get(fam)
        for usage in usages:
            bad = (usage in ("keyAgreement", "encipherOnly", "decipherOnly")) if fam == "rsa" \
                else (allowed is not None and usage not in allowed)
            if bad:
                raise profile_error(profile, "extensions.keyUsage",
                                    "%s is not possible with a %s key" % (quote(usage), name))
