"""The ``extensions`` field: known kinds, parsing and rendering order.

subjectKeyIdentifier and authorityKeyIdentifier are not produced here: the
x509 layer adds them from the actual keys.
"""

from .ext_common import ParseContext
from .ext_names import NameConstraints, SubjectAltName
from .ext_pointers import AuthorityInfoAccess, CertificatePolicies, CrlDistributionPoints
from .ext_usage import BasicConstraints, ExtendedKeyUsage, KeyUsage, OcspNoCheck
from .messages import profile_error, quote, type_name

# Rendering order: fixed, whatever the order in the profile.
KINDS = (
    BasicConstraints,
    KeyUsage,
    ExtendedKeyUsage,
    SubjectAltName,
    NameConstraints,
    CertificatePolicies,
    CrlDistributionPoints,
    AuthorityInfoAccess,
    OcspNoCheck,
)
BY_NAME = {kind.name: kind for kind in KINDS}
_ADDED_ELSEWHERE = ("subjectKeyIdentifier", "authorityKeyIdentifier")


def parse_extensions(profile, raw, specs):
    """Return ``{name: ExtensionDef}`` in rendering order."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise profile_error(profile, "extensions", "expected a mapping, got %s" % type_name(raw))
    for name in raw:
        if name in _ADDED_ELSEWHERE:
            raise profile_error(profile, "extensions", "%s is added automatically and cannot be set in a profile"
                                % quote(name))
        if name not in BY_NAME:
            raise profile_error(profile, "extensions", "unknown extension %s (known: %s)"
                                % (quote(name), ", ".join(BY_NAME)))
    ctx = ParseContext(profile, specs)
    return {kind.name: kind(ctx, raw[kind.name]) for kind in KINDS if kind.name in raw}


def build_extensions(definitions, ctx):
    """Render every definition into ``x509.Extension`` objects (empty ones dropped)."""
    out = []
    for definition in definitions.values():
        extension = definition.rendered(ctx)
        if extension is not None:
            out.append(extension)
    return out
