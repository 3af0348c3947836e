"""Making catalyst certificates, CRLs and CSRs (ITU-T X.509 (10/2019) §9.8).

Certificates and CRLs: the builder gets altSignatureAlgorithm (73); a draft
of its to-be-signed part gives the PreTBS, which the alternative signer
signs; altSignatureValue (74) is appended last and the classical signer
signs the final structure. Because the builder's content is fixed, the
final TBS minus its signature field and extension 74 is byte for byte the
PreTBS that was signed; this is checked before the object is returned.

CSRs (BouncyCastle's convention): attributes 72 and 73 go into the
CertificationRequestInfo, the alternative signer signs that info, the 74
attribute is added, then the classical signer signs the whole info.
"""

from ..dependencies import missing

try:
    from cryptography import x509
    from pyasn1.codec.der import encoder
except ImportError:
    x509 = encoder = missing()

from ..errors import QpkiError
from . import catalyst
from .assemble import CERTIFICATE, CRL, CSR, draft_tbs, sign_builder, subject_key_for_builder


def _alt_oid(alt_signer):
    return alt_signer.algorithm.signature_oid(alt_signer.options)


def _check_pre_image(signed, rebuilt, what):
    if signed != rebuilt:  # pragma: no cover - would be a bug in the flow above
        raise QpkiError("internal error: the %s changed after its alternative signature" % what)


def sign_catalyst_certificate(builder, signer, alt_signer, subject_public_key):
    """A cryptography Certificate signed by ``signer`` (the certificate's
    signature) and by ``alt_signer`` (altSignatureValue)."""
    ext = catalyst.alt_signature_algorithm_extension(_alt_oid(alt_signer))
    builder = builder.add_extension(ext.value, ext.critical)
    builder_key, replace_spki = subject_key_for_builder(subject_public_key)
    builder = builder.public_key(builder_key)
    pre_tbs = catalyst.pre_tbs_certificate(draft_tbs(builder, CERTIFICATE, replace_spki))
    ext = catalyst.alt_signature_extension(alt_signer.sign(pre_tbs))
    builder = builder.add_extension(ext.value, ext.critical)
    cert = x509.load_der_x509_certificate(
        sign_builder(builder, CERTIFICATE, signer, replace_spki))
    _check_pre_image(pre_tbs, catalyst.pre_tbs_certificate(cert.tbs_certificate_bytes),
                     "certificate")
    return cert


def sign_catalyst_crl(builder, signer, alt_signer):
    """A cryptography CertificateRevocationList with both signatures."""
    ext = catalyst.alt_signature_algorithm_extension(_alt_oid(alt_signer))
    builder = builder.add_extension(ext.value, ext.critical)
    pre_tbs = catalyst.pre_tbs_certlist(draft_tbs(builder, CRL))
    ext = catalyst.alt_signature_extension(alt_signer.sign(pre_tbs))
    builder = builder.add_extension(ext.value, ext.critical)
    crl = x509.load_der_x509_crl(sign_builder(builder, CRL, signer))
    _check_pre_image(pre_tbs, catalyst.pre_tbs_certlist(crl.tbs_certlist_bytes), "CRL")
    return crl


def sign_catalyst_csr(builder, signer, alt_signer, replace_spki=None):
    """DER of a catalyst CSR: classical self-signature plus the alternative
    proof of possession in attributes 72 / 73 / 74."""
    alt_public_value = catalyst.alt_public_key_value(alt_signer.public_key())
    alt_algorithm_value = catalyst.alt_signature_algorithm_value(_alt_oid(alt_signer))

    def add_alt_attributes(info):
        attributes = info["attributes"]
        attributes.append(catalyst.csr_attribute(catalyst.SUBJECT_ALT_PUBLIC_KEY_INFO,
                                                 alt_public_value))
        attributes.append(catalyst.csr_attribute(catalyst.ALT_SIGNATURE_ALGORITHM,
                                                 alt_algorithm_value))
        # The alternative signature covers the info with 72 and 73, not 74.
        signature = alt_signer.sign(encoder.encode(info))
        attributes.append(catalyst.csr_attribute(catalyst.ALT_SIGNATURE_VALUE,
                                                 catalyst.alt_signature_value(signature)))

    return sign_builder(builder, CSR, signer, replace_spki, edit=add_alt_attributes)
