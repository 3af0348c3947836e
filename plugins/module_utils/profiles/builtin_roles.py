"""Role templates for the builtin profiles (Python data, no YAML).

``role_definition(role, family)`` returns the variables, subject and
extensions of one role; builtin.py adds name, algorithms and validity.
"""

import copy

_NAME_VARIABLES = {
    "cn": {"type": "string", "required": True, "min_length": 1,
           "description": "Common name"},
    "o": {"type": "string", "description": "Organization"},
    "ou": {"type": "string", "description": "Organizational unit"},
    "c": {"type": "string", "pattern": "[A-Z]{2}", "description": "Two-letter country code"},
}
_SUBJECT = {"cn": "{{ cn }}", "o": "{{ o }}", "ou": "{{ ou }}", "c": "{{ c }}"}

# Optional publication points for certificates issued below a CA.
_PUBLICATION_VARIABLES = {
    "crl_url": {"type": "uri", "description": "CRL distribution point of the issuing CA"},
    "ocsp_url": {"type": "uri", "description": "OCSP responder of the issuing CA"},
    "ca_issuers_url": {"type": "uri", "description": "Where the issuing CA certificate is published"},
}
_PUBLICATION_EXTENSIONS = {
    "crlDistributionPoints": {"uris": ["{{ crl_url }}"]},
    "authorityInfoAccess": {"ocsp": ["{{ ocsp_url }}"], "ca_issuers": ["{{ ca_issuers_url }}"]},
}

_LEAF = {"basicConstraints": {"ca": False}}


def _ca(path_len, published):
    variables = dict(_NAME_VARIABLES)
    extensions = {
        "basicConstraints": {"ca": True, "path_len": path_len},
        "keyUsage": ["keyCertSign", "cRLSign", "digitalSignature"],
    }
    if published:
        variables.update(_PUBLICATION_VARIABLES)
        extensions.update(_PUBLICATION_EXTENSIONS)
    return variables, extensions


def _leaf(extra_variables, extensions):
    variables = dict(_NAME_VARIABLES)
    variables.update(extra_variables)
    variables.update(_PUBLICATION_VARIABLES)
    merged = dict(_LEAF)
    merged.update(extensions)
    merged.update(_PUBLICATION_EXTENSIONS)
    return variables, merged


def _signing_usage(family, encipher=False):
    usages = ["digitalSignature"]
    if encipher and family == "rsa":
        usages.append("keyEncipherment")
    return usages


def role_definition(role, family):
    """Variables, subject and extensions for ``role`` with a ``family`` key.

    ``family`` is one of ec, rsa, ml, slh, hybrid; only RSA changes the key
    usages (keyEncipherment for TLS servers and email).
    """
    if role == "root-ca":
        variables, extensions = _ca(1, published=False)
    elif role == "issuing-ca":
        variables, extensions = _ca(0, published=True)
    elif role == "tls-server":
        variables, extensions = _leaf(
            {"dns_names": {"type": "dns_names", "allow_wildcard": True,
                           "description": "DNS names (comma-separated); the CN is added too"},
             "ip_addresses": {"type": "ip_list", "description": "IP addresses (comma-separated)"}},
            {"keyUsage": _signing_usage(family, encipher=True),
             "extKeyUsage": ["serverAuth"],
             "subjectAltName": {"dns": ["{{ dns_names }}"], "ip": ["{{ ip_addresses }}"],
                                "dns_include_cn": True}})
    elif role == "tls-client":
        variables, extensions = _leaf(
            {"email": {"type": "email", "description": "Email address (SAN)"}},
            {"keyUsage": _signing_usage(family),
             "extKeyUsage": ["clientAuth"],
             "subjectAltName": {"email": ["{{ email }}"]}})
    elif role == "code-signing":
        variables, extensions = _leaf({}, {"keyUsage": _signing_usage(family),
                                           "extKeyUsage": ["codeSigning"]})
    elif role == "email":
        variables, extensions = _leaf(
            {"email": {"type": "email", "required": True, "description": "Email address (SAN)"}},
            {"keyUsage": _signing_usage(family, encipher=True),
             "extKeyUsage": ["emailProtection"],
             "subjectAltName": {"email": ["{{ email }}"]}})
    elif role == "signing":
        variables, extensions = _leaf({}, {"keyUsage": ["digitalSignature", "nonRepudiation"]})
    elif role == "timestamping":
        variables, extensions = _leaf({}, {"keyUsage": ["digitalSignature"],
                                           "extKeyUsage": {"usages": ["timeStamping"], "critical": True}})
    elif role == "ocsp-responder":
        variables, extensions = _leaf({}, {"keyUsage": ["digitalSignature"],
                                           "extKeyUsage": ["OCSPSigning"],
                                           "ocspNoCheck": True})
    elif role == "encryption":
        variables, extensions = _leaf(
            {"email": {"type": "email", "description": "Email address (SAN)"}},
            {"keyUsage": ["keyEncipherment"],
             "subjectAltName": {"email": ["{{ email }}"]}})
    else:
        raise KeyError(role)
    return copy.deepcopy({"variables": variables, "subject": _SUBJECT, "extensions": extensions})
