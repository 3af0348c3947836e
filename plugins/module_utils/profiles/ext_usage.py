"""basicConstraints, keyUsage, extKeyUsage and ocspNoCheck definitions."""

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID
except ImportError:
    x509 = ExtendedKeyUsageOID = missing()

from . import validators
from .ext_common import ExtensionDef
from .messages import Invalid, quote, type_name

# profile name -> cryptography KeyUsage argument
KEY_USAGES = {
    "digitalSignature": "digital_signature",
    "nonRepudiation": "content_commitment",
    "contentCommitment": "content_commitment",
    "keyEncipherment": "key_encipherment",
    "dataEncipherment": "data_encipherment",
    "keyAgreement": "key_agreement",
    "keyCertSign": "key_cert_sign",
    "cRLSign": "crl_sign",
    "encipherOnly": "encipher_only",
    "decipherOnly": "decipher_only",
}

EXTENDED_KEY_USAGES = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
    "anyExtendedKeyUsage": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
}


class BasicConstraints(ExtensionDef):
    name = "basicConstraints"
    default_critical = True

    def __init__(self, ctx, raw):
        super().__init__(ctx, raw)
        self.check_keys(("ca", "path_len"))
        self.ca = self.body.get("ca", False)
        if not isinstance(self.ca, bool):
            raise self.error("must be true or false, got %s" % quote(self.ca), "ca")
        self.path_len = self.body.get("path_len")
        if self.path_len is not None:
            if isinstance(self.path_len, bool) or not isinstance(self.path_len, int) or self.path_len < 0:
                raise self.error("must be a non-negative integer, got %s" % quote(self.path_len), "path_len")
            if not self.ca:
                raise self.error("only allowed when ca is true", "path_len")

    def is_static(self):
        return True  # no template

    def build(self, ctx):
        return x509.Extension(x509.BasicConstraints.oid, self.critical,
                              x509.BasicConstraints(ca=self.ca, path_length=self.path_len))

    def to_dict(self):
        return {"ca": self.ca, "path_len": self.path_len, "critical": self.critical}


class KeyUsage(ExtensionDef):
    name = "keyUsage"
    default_critical = True
    list_key = "usages"

    def __init__(self, ctx, raw):
        super().__init__(ctx, raw)
        self.check_keys(("usages",))
        usages = self.body.get("usages")
        if not isinstance(usages, list) or not usages:
            raise self.error("expected a non-empty list of key usages, got %s" % type_name(usages), "usages")
        self.usages = []
        for usage in usages:
            if not isinstance(usage, str) or usage not in KEY_USAGES:  # a list is unhashable
                raise self.error("unknown key usage %s (known: %s)" % (quote(usage), ", ".join(KEY_USAGES)))
            usage = "nonRepudiation" if usage == "contentCommitment" else usage
            if usage not in self.usages:
                self.usages.append(usage)
        if ("encipherOnly" in self.usages or "decipherOnly" in self.usages) and "keyAgreement" not in self.usages:
            raise self.error("encipherOnly and decipherOnly need keyAgreement")

    def is_static(self):
        return True  # no template

    def build(self, ctx):
        flags = {arg: False for arg in set(KEY_USAGES.values())}
        for usage in self.usages:
            flags[KEY_USAGES[usage]] = True
        return x509.Extension(x509.KeyUsage.oid, self.critical, x509.KeyUsage(**flags))

    def to_dict(self):
        return {"usages": list(self.usages), "critical": self.critical}


class ExtendedKeyUsage(ExtensionDef):
    name = "extKeyUsage"
    list_key = "usages"

    def __init__(self, ctx, raw):
        super().__init__(ctx, raw)
        self.check_keys(("usages",))
        usages = self.body.get("usages")
        if not isinstance(usages, list) or not usages:
            raise self.error("expected a non-empty list of extended key usages, got %s" % type_name(usages), "usages")
        self.usages = []
        for usage in usages:
            if not isinstance(usage, str) or usage not in EXTENDED_KEY_USAGES:
                try:
                    if not isinstance(usage, str):  # a list is unhashable
                        raise Invalid("not a string")
                    validators.oid(usage)
                except Invalid:
                    raise self.error("unknown extended key usage %s (known: %s, or a dotted OID)"
                                     % (quote(usage), ", ".join(EXTENDED_KEY_USAGES))) from None
            if usage not in self.usages:
                self.usages.append(usage)

    def is_static(self):
        return True  # no template

    def build(self, ctx):
        oids = [EXTENDED_KEY_USAGES.get(u) or x509.ObjectIdentifier(u) for u in self.usages]
        return x509.Extension(x509.ExtendedKeyUsage.oid, self.critical, x509.ExtendedKeyUsage(oids))

    def to_dict(self):
        return {"usages": list(self.usages), "critical": self.critical}


class OcspNoCheck(ExtensionDef):
    name = "ocspNoCheck"

    def __init__(self, ctx, raw):
        self.enabled = True
        if isinstance(raw, bool):
            self.enabled, raw = raw, {}
        super().__init__(ctx, raw)
        self.check_keys(())

    def is_static(self):
        return True  # no template

    def build(self, ctx):
        if not self.enabled:
            return None
        return x509.Extension(x509.OCSPNoCheck.oid, self.critical, x509.OCSPNoCheck())

    def to_dict(self):
        """What a YAML profile writes for it: false, or its settings."""
        return {"critical": self.critical} if self.enabled else False
