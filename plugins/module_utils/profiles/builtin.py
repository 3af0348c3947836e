"""The builtin profile catalogue (DESIGN.md §5), as plain Python data.

Each row: profile name, role, algorithms (classical first for hybrids),
mode, validity. ``definition(name)`` expands one row into a profile mapping.
"""

from .builtin_roles import role_definition

ROOT, ISSUING, LEAF = "7300d", "3650d", "365d"

_ROLE_TEXT = {
    "root-ca": "Root CA",
    "issuing-ca": "Issuing (subordinate) CA",
    "tls-server": "TLS server certificate",
    "tls-client": "TLS client certificate",
    "code-signing": "Code-signing certificate",
    "email": "S/MIME email certificate",
    "signing": "Document-signing certificate",
    "timestamping": "RFC 3161 time-stamping authority certificate",
    "ocsp-responder": "OCSP responder certificate",
    "encryption": "Key-encapsulation (encryption) certificate",
}


def _classical(prefix, ca_root, ca_issuing, leaf, leaf_p384=None):
    return [
        (prefix + "/root-ca", "root-ca", (ca_root,), None, ROOT),
        (prefix + "/issuing-ca", "issuing-ca", (ca_issuing,), None, ISSUING),
        (prefix + "/tls-server", "tls-server", (leaf,), None, LEAF),
        (prefix + "/tls-client", "tls-client", (leaf,), None, LEAF),
        (prefix + "/code-signing", "code-signing", (leaf,), None, LEAF),
        (prefix + "/email", "email", (leaf,), None, LEAF),
        (prefix + "/signing", "signing", (leaf,), None, LEAF),
        (prefix + "/timestamping", "timestamping", (leaf,), None, "1095d"),
        (prefix + "/ocsp-responder", "ocsp-responder", (leaf_p384 or leaf,), None, LEAF),
    ]


def _hybrid(mode, root, issuing, leaf):
    prefix = "hybrid/" + mode
    return [
        (prefix + "/root-ca", "root-ca", root, mode, ROOT),
        (prefix + "/issuing-ca", "issuing-ca", issuing, mode, ISSUING),
        (prefix + "/tls-server", "tls-server", leaf, mode, LEAF),
        (prefix + "/tls-client", "tls-client", leaf, mode, LEAF),
    ]


CATALOGUE = (
    _classical("ec", "ecdsa-p384", "ecdsa-p256", "ecdsa-p256", leaf_p384="ecdsa-p384")
    + _classical("rsa", "rsa-4096", "rsa-4096", "rsa-2048")
    + [("rsa-pss/tls-server", "tls-server", ("rsa-4096",), None, LEAF)]
    + [
        ("ml/root-ca", "root-ca", ("ml-dsa-87",), None, ROOT),
        ("ml/issuing-ca", "issuing-ca", ("ml-dsa-65",), None, ISSUING),
        ("ml/tls-server", "tls-server", ("ml-dsa-65",), None, LEAF),
        ("ml/tls-client", "tls-client", ("ml-dsa-65",), None, LEAF),
        ("ml/code-signing", "code-signing", ("ml-dsa-65",), None, LEAF),
        ("ml/signing", "signing", ("ml-dsa-65",), None, LEAF),
        ("ml/email", "email", ("ml-dsa-65",), None, LEAF),
        ("ml/encryption", "encryption", ("ml-kem-768",), None, LEAF),
        ("ml/ocsp-responder", "ocsp-responder", ("ml-dsa-65",), None, LEAF),
        ("slh/root-ca", "root-ca", ("slh-dsa-sha2-256f",), None, ROOT),
        ("slh/issuing-ca", "issuing-ca", ("slh-dsa-sha2-192f",), None, ISSUING),
        ("slh/tls-server", "tls-server", ("slh-dsa-sha2-128f",), None, LEAF),
        ("slh/tls-client", "tls-client", ("slh-dsa-sha2-128f",), None, LEAF),
        ("slh/signing", "signing", ("slh-dsa-sha2-256s",), None, LEAF),
        ("slh/ocsp-responder", "ocsp-responder", ("slh-dsa-sha2-128f",), None, LEAF),
        ("hybrid/composite/ocsp-responder", "ocsp-responder", ("ecdsa-p256", "ml-dsa-65"), "composite", LEAF),
    ]
    + _hybrid("catalyst", ("ecdsa-p384", "ml-dsa-87"), ("ecdsa-p256", "ml-dsa-65"), ("ecdsa-p256", "ml-dsa-65"))
    + _hybrid("composite", ("ecdsa-p521", "ml-dsa-87"), ("ecdsa-p256", "ml-dsa-65"), ("ecdsa-p256", "ml-dsa-65"))
)

# Extra top-level settings for particular profiles.
_OVERRIDES = {
    "rsa-pss/tls-server": {"signature": {"scheme": "pss"}},
}


def _family(name):
    return name.split("/")[0] if not name.startswith("hybrid/") else "hybrid"


def names():
    """The builtin profile names, in catalogue order."""
    return [row[0] for row in CATALOGUE]


def definition(name):
    """The profile mapping of builtin ``name``, or None if there is none."""
    row = _rows().get(name)
    if row is None:
        return None
    name, role, algorithms, mode, validity = row
    data = role_definition(role, "rsa" if _family(name).startswith("rsa") else _family(name))
    what = " + ".join(algorithms) + (" (%s)" % mode if mode else "")
    data.update({
        "name": name,
        "description": "%s, %s, valid %s" % (_ROLE_TEXT[role], what, validity),
        "validity": validity,
    })
    if len(algorithms) == 1:
        data["algorithm"] = algorithms[0]
    else:
        data["algorithms"] = list(algorithms)
        data["mode"] = mode
    data.update(_OVERRIDES.get(name, {}))
    return data


def definitions():
    """``{name: profile mapping}`` for every builtin profile."""
    return {name: definition(name) for name in names()}


_ROWS = {}


def _rows():
    if not _ROWS:
        _ROWS.update((row[0], row) for row in CATALOGUE)
    return _ROWS
