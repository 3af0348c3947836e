"""What qpki writes into its CRLs, read back by parsers qpki does not own
(issue 20, item 2): cryptography's CRL parser for every family, ``openssl
crl -text`` (and its signature check) for the classical and catalyst CAs,
dilithium-py for the ML-DSA signature.

Checked per CRL: issuer, CRL number (1 then 2), AuthorityKeyIdentifier (the
CA's SubjectKeyIdentifier), thisUpdate / nextUpdate, and per entry: serial,
revocation date, reason (absent for unspecified, RFC 5280 §5.3.1) and
invalidity date."""

from __future__ import annotations

import datetime
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from revocation_support import OPENSSL_LABELS, crl_text, openssl, reason_label


FAMILIES = ["ec", "rsa", "ml", "hybrid/catalyst", "hybrid/composite"]
INVALID = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
# (reason given to qpki, invalidity date)
REVOCATIONS = [("keyCompromise", INVALID), ("certificateHold", None), ("unspecified", None),
               ("cACompromise", INVALID), ("privilegeWithdrawn", None)]


@pytest.fixture(scope="module")
def revoked_ca(tmp_path_factory):
    """family -> (CA dir, [(serial, reason, revoked_at, invalidity)]): a
    ``<family>/issuing-ca`` CA whose leaves the qpki_crl module's operation
    revoked as REVOCATIONS says, with its second CRL; made once per family."""
    made = {}

    def get(family):
        if family not in made:
            made[family] = _make(family, tmp_path_factory.mktemp(family.replace("/", "-")))
        return made[family]

    return get


def _make(family, base):
    from qpki.ops.ca.commands import ca_init
    from qpki.ops.credential.enroll import credential_enroll
    from qpki.ops.crl.commands import crl_gen
    from qpki.ops.crl.state import crl_ensure

    ca = base / "ca"
    ca_init(str(ca), f"{family}/issuing-ca", {"cn": f"{family} CRL CA"})
    crl_gen(str(ca))
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    wanted, done = [], []
    for number, (reason, invalid) in enumerate(REVOCATIONS):
        serial = credential_enroll(str(ca), str(base / f"c{number}"), f"{family}/tls-server",
                                   {"cn": f"c{number}.example.com"}).to_dict()["serial"]
        wanted.append({"serial": serial, "reason": reason,
                       "invalidity_date": invalid.isoformat() if invalid else None})
        done.append((int(serial, 16), reason, now, invalid))
    crl_ensure(str(ca), days=3, revocations=wanted, now=now)  # revokes, then CRL number 2
    return ca, done


def _ca_cert(ca):
    return x509.load_pem_x509_certificate((ca / "ca.crt").read_bytes())


@pytest.mark.parametrize("family", FAMILIES)
def test_fields_read_by_cryptography(revoked_ca, family):
    ca, done = revoked_ca(family)
    crl = x509.load_der_x509_crl((ca / "crl" / "ca.crl.der").read_bytes())
    cert = _ca_cert(ca)
    assert crl.issuer == cert.subject
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski
    assert crl.next_update_utc - crl.last_update_utc == datetime.timedelta(days=3)
    assert len(crl) == len(done)
    for serial, reason, revoked_at, invalid in done:
        entry = crl.get_revoked_certificate_by_serial_number(serial)
        assert entry is not None, (family, serial)
        assert entry.revocation_date_utc == revoked_at
        extensions = {ext.oid: ext.value for ext in entry.extensions}
        if reason == "unspecified":
            assert x509.CRLReason.oid not in extensions
        else:
            assert extensions[x509.CRLReason.oid].reason.value == reason
        if invalid:
            assert extensions[x509.InvalidityDate.oid].invalidity_date_utc == invalid
        else:
            assert x509.InvalidityDate.oid not in extensions


@pytest.mark.parametrize("family", ["ec", "rsa", "hybrid/catalyst"])
def test_fields_read_by_openssl(revoked_ca, family):
    ca, done = revoked_ca(family)
    head, entries = crl_text(ca / "crl" / "ca.crl")
    ski = _ca_cert(ca).extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert re.search(r"X509v3 CRL Number: *\n\s*2\n", head), head
    assert ":".join(f"{b:02X}" for b in ski.digest) in head
    assert sorted(entries) == sorted(serial for serial, *dummy in done)
    for serial, reason, revoked_at, invalid in done:
        text = entries[serial]
        assert f"Revocation Date: {revoked_at:%b %e %H:%M:%S %Y} GMT" in text, text
        assert reason_label(text) == (None if reason == "unspecified" else OPENSSL_LABELS[reason])
        assert ("Jan  2 03:04:05 2026 GMT" in text) == (invalid is not None), text
    checked = openssl("crl", "-in", ca / "crl" / "ca.crl", "-noout", "-CAfile", ca / "ca.crt")
    assert "verify OK" in checked.stdout + checked.stderr, checked


def test_ml_dsa_signature_checked_by_dilithium_py(revoked_ca):
    ca, dummy = revoked_ca("ml")
    from dilithium_py.ml_dsa import ML_DSA_65

    crl = x509.load_der_x509_crl((ca / "crl" / "ca.crl.der").read_bytes())
    raw = _ca_cert(ca).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert ML_DSA_65.verify(raw, crl.tbs_certlist_bytes, crl.signature)
    tampered = bytearray(crl.tbs_certlist_bytes)
    tampered[-1] ^= 1
    assert not ML_DSA_65.verify(raw, bytes(tampered), crl.signature)
