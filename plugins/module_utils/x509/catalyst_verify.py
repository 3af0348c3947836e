"""Checking catalyst alternative signatures (ITU-T X.509 (10/2019) §9.8).

The alternative signature of a certificate or CRL (altSignatureValue, made
with altSignatureAlgorithm) is checked over its PreTBS with the issuer's
alternative public key, the issuer certificate's subjectAltPublicKeyInfo.
A catalyst CSR's alternative signature is checked over its request info
without the altSignatureValue attribute (QPKI's convention: without any of
its three attributes), with the key of its own subjectAltPublicKeyInfo
attribute (proof of possession).

The classical signature is checked elsewhere (signature.py); these
functions only add the second check, and their messages say it is the
alternative one that failed.
"""

from dataclasses import dataclass

from ..errors import InputError, QpkiError, VerificationError
from . import catalyst
from .parse import public_key_from_spki
from .signature import SignatureInvalid, describe_name, signature_algorithm_name, verify_signature


def alt_public_key(cert):
    """The subject's alternative public key (extension 72) of a certificate,
    or None when it has none."""
    value = catalyst.extension_values(cert).get(catalyst.SUBJECT_ALT_PUBLIC_KEY_INFO)
    if value is None:
        return None
    _oid, spki = catalyst.decode_alt_public_key(value)
    return public_key_from_spki(spki)


def has_alt_signature(obj):
    values = catalyst.extension_values(obj)
    return catalyst.ALT_SIGNATURE_VALUE in values or catalyst.ALT_SIGNATURE_ALGORITHM in values


def _alt_signature(values, what):
    """(oid, DER params, signature) from the 73/74 values, or None."""
    algorithm = values.get(catalyst.ALT_SIGNATURE_ALGORITHM)
    value = values.get(catalyst.ALT_SIGNATURE_VALUE)
    if algorithm is None and value is None:
        return None
    if algorithm is None or value is None:
        missing = "altSignatureAlgorithm" if algorithm is None else "altSignatureValue"
        raise VerificationError("%s: catalyst alternative signature incomplete (no %s)"
                                % (what, missing))
    oid, params = catalyst.decode_alt_signature_algorithm(algorithm)
    return oid, params, catalyst.decode_alt_signature(value)


def _check(values, pre_image, public_key, what, key_owner):
    found = _alt_signature(values, what)
    if found is None:
        return None
    oid, params, signature = found
    label = signature_algorithm_name(oid)
    try:
        verify_signature(public_key, oid, params, signature, pre_image(),
                         key_role="%s alternative" % key_owner)
    except SignatureInvalid as exc:
        raise VerificationError(
            "%s: alternative signature (%s) does not verify with the %s alternative key"
            % (what, exc.detail, key_owner)) from None
    except VerificationError as exc:
        raise VerificationError("%s: alternative signature: %s" % (what, exc)) from None
    return label


def _issuer_alt_key(issuer_cert, what):
    name = describe_name(issuer_cert.subject)
    try:
        key = alt_public_key(issuer_cert)
    except QpkiError as exc:
        raise VerificationError("%s: issuer %s subjectAltPublicKeyInfo unusable (%s)"
                                % (what, name, exc)) from None
    if key is None:
        raise VerificationError("%s carries an alternative signature but issuer %s has no "
                                "subjectAltPublicKeyInfo" % (what, name))
    return key


def verify_alt_certificate_signature(cert, issuer_cert):
    """Check ``cert``'s alternative signature with ``issuer_cert``'s
    alternative key. Returns the algorithm name, or None when ``cert`` has
    no alternative signature; raises VerificationError when it does not
    verify."""
    what = "certificate %s" % describe_name(cert.subject)
    try:
        values = catalyst.extension_values(cert)
        if _alt_signature(values, what) is None:
            return None
        key = _issuer_alt_key(issuer_cert, what)
        owner = "issuer %s" % describe_name(issuer_cert.subject)
        return _check(values, lambda: catalyst.pre_tbs_certificate(cert.tbs_certificate_bytes),
                      key, what, owner)
    except InputError as exc:
        raise VerificationError("%s: %s" % (what, exc)) from None


def verify_alt_crl_signature(crl, issuer_cert):
    """As verify_alt_certificate_signature, for a CRL."""
    what = "CRL of %s" % describe_name(crl.issuer)
    try:
        values = catalyst.extension_values(crl)
        if _alt_signature(values, what) is None:
            return None
        key = _issuer_alt_key(issuer_cert, what)
        return _check(values, lambda: catalyst.pre_tbs_certlist(crl.tbs_certlist_bytes),
                      key, what, "issuer")
    except InputError as exc:
        raise VerificationError("%s: %s" % (what, exc)) from None


def verify_catalyst_csr(csr):
    """The alternative public key of a catalyst CSR after checking its
    alternative proof of possession, or None for an ordinary CSR. The
    classical self-signature is checked by signature.verify_csr_signature."""
    found = check_catalyst_csr(csr)
    return found.alt_public_key if found is not None else None


@dataclass(frozen=True)
class CatalystCsr:
    """A catalyst CSR whose alternative signature verified."""

    convention: "catalyst.CsrConvention"
    alt_public_key: object
    alt_signature_algorithm: str  # display name, e.g. "ML-DSA-65"


def check_catalyst_csr(csr):
    """A CatalystCsr after checking the alternative proof of possession of
    ``csr`` (either attribute convention), or None for an ordinary CSR;
    VerificationError when it does not verify."""
    info = csr.tbs_certrequest_bytes
    try:
        found = catalyst.csr_catalyst(info)
    except InputError as exc:
        raise VerificationError("certificate request %s: %s"
                                % (describe_name(csr.subject), exc)) from None
    if found is None:  # an ordinary CSR (the common case: no name to describe)
        return None
    values = found.values
    what = "certificate request %s" % describe_name(csr.subject)
    try:
        alt_value = values.get(catalyst.SUBJECT_ALT_PUBLIC_KEY_INFO)
        if alt_value is None:
            raise VerificationError("%s: catalyst attributes without subjectAltPublicKeyInfo"
                                    % what)
        if _alt_signature(values, what) is None:
            raise VerificationError("%s: subjectAltPublicKeyInfo without an alternative "
                                    "signature (no proof of possession)" % what)
        _oid, spki = catalyst.decode_alt_public_key(alt_value)
        key = public_key_from_spki(spki)
        label = _check(values, lambda: catalyst.csr_info_without_alt_signature(
            info, found.convention), key, what, "requested")
    except InputError as exc:
        raise VerificationError("%s: %s" % (what, exc)) from None
    return CatalystCsr(found.convention, key, label)


# --------------------------------------------------------------------------
# Hooks for path validation (verify.py): ``findings`` has fail(code, message)
# and a ``notes`` list.
# --------------------------------------------------------------------------

def add_path_findings(path, findings):
    """Check the alternative signatures along ``path`` (leaf first, anchor
    last). Like the classical one, the trust anchor's own self-signature is
    not checked."""
    for cert, issuer in zip(path, path[1:], strict=False):
        try:
            label = verify_alt_certificate_signature(cert, issuer)
        except VerificationError as exc:
            findings.fail("signature", "%s (the classical signature verified)" % exc)
            continue
        if label is not None:
            findings.notes.append("%s: alternative signature (%s) verified"
                                  % (describe_name(cert.subject), label))


def add_crl_findings(crl, issuer_cert, findings):
    """Check a CRL's alternative signature; False when it does not verify."""
    try:
        label = verify_alt_crl_signature(crl, issuer_cert)
    except VerificationError as exc:
        findings.fail("crl_signature", "%s (the classical signature verified)" % exc)
        return False
    if label is not None:
        findings.notes.append("CRL of %s: alternative signature (%s) verified"
                              % (describe_name(crl.issuer), label))
    return True
