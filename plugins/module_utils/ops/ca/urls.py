"""The CA-level URLs relying parties use to check what a CA issued: where
its CRL is (crlDistributionPoints), its OCSP responder and its own
certificate (authorityInfoAccess).

They are recorded once per CA, in ``ca.meta.json`` (``urls``, a CA-wide
member kept across rotations), and every certificate the CA issues carries
them unless the profile or the call already gives that extension.

The CRL URL may name the signing version, ``{version}``
(``http://pki.example/crl/{version}/ca.crl``): each version's certificates
then point at the CRL that version signs, which ``crl gen`` also writes at
``crl/<version>/ca.crl``, so the URL keeps working after a rotation (a
relying party checks a CRL with the key of the certificate's issuer). An
OCSP-responder certificate (one with id-pkix-ocsp-nocheck) gets none of
them (CA/Browser Forum BR 7.1.2.8): a client must not have to check the
responder's own status.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ...dependencies import missing

try:
    from cryptography import x509
    from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID
except ImportError:
    x509 = AuthorityInformationAccessOID = ExtensionOID = missing()  # type: ignore[misc]

from ...errors import InputError
from ...profiles.validators import Invalid, uri

SCHEMES = ("http", "https", "ldap")
VERSION = "{version}"
FIELDS = ("crl", "ocsp", "ca_issuers", "delta_crl")


@dataclass(frozen=True)
class CaUrls:
    crl: str | None = None
    ocsp: str | None = None
    ca_issuers: str | None = None
    delta_crl: str | None = None  # freshestCRL of the full CRLs, once delta CRLs are made

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> CaUrls:
        urls = meta.get("urls") or {}
        return cls(**{name: urls.get(name) for name in FIELDS if isinstance(urls, dict)})

    def to_meta(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FIELDS if getattr(self, name)}

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in FIELDS)

    @property
    def per_version_crl(self) -> bool:
        """The CRL URL names the signing version."""
        return bool(self.crl and VERSION in self.crl)

    def for_version(self, version: str) -> CaUrls:
        """The URLs a certificate signed by ``version`` carries."""
        if not self.per_version_crl:
            return self
        return replace(self, crl=self.crl.replace(VERSION, version) if self.crl else None)


def checked_url(value: str | None, what: str, version_placeholder: bool = False) -> str | None:
    """``value`` if it is an http, https or ldap URL (naming ``{version}``
    where ``version_placeholder`` allows it); InputError naming ``what``."""
    if value is None or value == "":
        return None
    plain = value.replace(VERSION, "v1") if version_placeholder else value
    if "{" in plain or "}" in plain:
        rule = (f"the only placeholder is {VERSION}" if version_placeholder
                else f"{VERSION} may be named only in the CRL URL")
        raise InputError(f"{what}: {value[:80]!r}: {rule}")
    try:
        uri(plain)
    except Invalid as exc:
        raise InputError(f"{what}: {exc}") from None
    if value.split(":", 1)[0].lower() not in SCHEMES:
        raise InputError(f"{what}: {value[:80]!r} is not an http, https or ldap URL")
    return value


def requested_urls(crl: str | None = None, ocsp: str | None = None,
                   ca_issuers: str | None = None, delta_crl: str | None = None) -> CaUrls:
    return CaUrls(checked_url(crl, "CRL URL", version_placeholder=True), checked_url(ocsp, "OCSP URL"),
                  checked_url(ca_issuers, "CA issuers URL"),
                  checked_url(delta_crl, "delta CRL URL"))


def with_ca_urls(extensions: list, urls: CaUrls) -> list:
    """``extensions`` plus the CA's CDP and AIA where the certificate has
    none of its own (and is not an OCSP responder's)."""
    if not urls:
        return extensions
    present = {ext.oid for ext in extensions}
    if ExtensionOID.OCSP_NO_CHECK in present:
        return extensions
    added: list[Any] = []
    if urls.crl and ExtensionOID.CRL_DISTRIBUTION_POINTS not in present:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(urls.crl)], None, None,
                                       None)
        added.append(x509.Extension(ExtensionOID.CRL_DISTRIBUTION_POINTS, False,
                                    x509.CRLDistributionPoints([point])))
    access = []
    if urls.ocsp:
        access.append(x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                             x509.UniformResourceIdentifier(urls.ocsp)))
    if urls.ca_issuers:
        access.append(x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                             x509.UniformResourceIdentifier(urls.ca_issuers)))
    if access and ExtensionOID.AUTHORITY_INFORMATION_ACCESS not in present:
        added.append(x509.Extension(ExtensionOID.AUTHORITY_INFORMATION_ACCESS, False,
                                    x509.AuthorityInformationAccess(access)))
    return list(extensions) + added
