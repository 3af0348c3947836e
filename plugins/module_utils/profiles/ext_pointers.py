"""certificatePolicies, crlDistributionPoints and authorityInfoAccess."""

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.x509.oid import AuthorityInformationAccessOID, CertificatePoliciesOID
except ImportError:
    x509 = AuthorityInformationAccessOID = CertificatePoliciesOID = missing()

from . import validators
from .ext_common import ExtensionDef, Templates
from .messages import quote, type_name

_POLICY_ALIASES = {"anyPolicy": CertificatePoliciesOID.ANY_POLICY.dotted_string}


def _policy_oid(text):
    return validators.oid(_POLICY_ALIASES.get(text, text))


class CertificatePolicies(ExtensionDef):
    """A list of ``{oid, cps}`` (``cps`` optional); a bare string is an OID."""

    name = "certificatePolicies"
    list_key = "policies"

    def __init__(self, ctx, raw):
        super().__init__(ctx, raw)
        self.check_keys(("policies",))
        policies = self.body.get("policies")
        if not isinstance(policies, list) or not policies:
            raise self.error("expected a non-empty list of policies, got %s" % type_name(policies), "policies")
        self.policies = []
        for index, policy in enumerate(policies):
            sub = "policies[%d]" % index
            if isinstance(policy, str):
                policy = {"oid": policy}
            if not isinstance(policy, dict):
                raise self.error("expected a mapping with oid and cps, got %s" % type_name(policy), sub)
            for key in policy:
                if key not in ("oid", "cps"):
                    raise self.error("unknown key %s (allowed: oid, cps)" % quote(key), sub)
            if "oid" not in policy:
                raise self.error("oid is required", sub)
            oid = Templates(self, ctx, sub + ".oid", policy["oid"], required=True, literal_check=_policy_oid)
            cps = Templates(self, ctx, sub + ".cps", policy.get("cps"), literal_check=validators.uri)
            if len(oid.items) != 1:
                raise self.error("oid must be one string", sub)
            self.policies.append((oid, cps))

    def is_static(self):
        return not any(oid.has_variables or cps.has_variables for oid, cps in self.policies)

    def variables_read(self):
        return tuple(dict.fromkeys(name for oid, cps in self.policies
                                   for name in oid.variables + cps.variables))

    def build(self, ctx):
        infos = []
        for oid, cps in self.policies:
            for text in oid.render(ctx.values, _policy_oid):
                qualifiers = cps.render(ctx.values, validators.uri) or None
                infos.append(x509.PolicyInformation(x509.ObjectIdentifier(text), qualifiers))
        if not infos:
            return None
        return x509.Extension(x509.CertificatePolicies.oid, self.critical, x509.CertificatePolicies(infos))

    def to_dict(self):
        out = []
        for oid, cps in self.policies:
            entry = {"oid": oid.items[0]}
            if cps.items:
                entry["cps"] = cps.items[0] if len(cps.items) == 1 else cps.to_list()
            out.append(entry)
        return {"policies": out, "critical": self.critical}


class CrlDistributionPoints(ExtensionDef):
    """A list of URIs, written as one distribution point (alternate locations)."""

    name = "crlDistributionPoints"
    list_key = "uris"

    def __init__(self, ctx, raw):
        super().__init__(ctx, raw)
        self.check_keys(("uris",))
        self.uris = Templates(self, ctx, "uris", self.body.get("uris"), required=True,
                              literal_check=validators.uri)

    def is_static(self):
        return not self.uris.has_variables

    def variables_read(self):
        return self.uris.variables

    def build(self, ctx):
        uris = list(dict.fromkeys(self.uris.render(ctx.values, validators.uri)))
        if not uris:
            return None
        point = x509.DistributionPoint(full_name=[x509.UniformResourceIdentifier(u) for u in uris],
                                       relative_name=None, reasons=None, crl_issuer=None)
        return x509.Extension(x509.CRLDistributionPoints.oid, self.critical, x509.CRLDistributionPoints([point]))

    def to_dict(self):
        return {"uris": self.uris.to_list(), "critical": self.critical}


class AuthorityInfoAccess(ExtensionDef):
    """``ocsp`` and ``ca_issuers`` URI lists; never critical (RFC 5280)."""

    name = "authorityInfoAccess"

    def __init__(self, ctx, raw):
        super().__init__(ctx, raw)
        self.check_keys(("ocsp", "ca_issuers"))
        if self.critical:
            raise self.error("must not be critical (RFC 5280)", "critical")
        self.fields = {key: Templates(self, ctx, key, self.body.get(key), literal_check=validators.uri)
                       for key in ("ocsp", "ca_issuers")}
        if not any(f.items for f in self.fields.values()):
            raise self.error("needs ocsp or ca_issuers URIs")

    def is_static(self):
        return not any(field.has_variables for field in self.fields.values())

    def variables_read(self):
        return tuple(dict.fromkeys(name for field in self.fields.values()
                                   for name in field.variables))

    def build(self, ctx):
        methods = (("ocsp", AuthorityInformationAccessOID.OCSP),
                   ("ca_issuers", AuthorityInformationAccessOID.CA_ISSUERS))
        descriptions = []
        for key, method in methods:
            for uri in dict.fromkeys(self.fields[key].render(ctx.values, validators.uri)):
                descriptions.append(x509.AccessDescription(method, x509.UniformResourceIdentifier(uri)))
        if not descriptions:
            return None
        return x509.Extension(x509.AuthorityInformationAccess.oid, False,
                              x509.AuthorityInformationAccess(descriptions))

    def to_dict(self):
        out = {key: f.to_list() for key, f in self.fields.items() if f.items}
        out["critical"] = False
        return out
