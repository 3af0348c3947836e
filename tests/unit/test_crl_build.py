"""What x509/crl.py puts in a CRL, read back by openssl and by cryptography's
parser (survivors of the CRL mutation group, docs/DEVELOPMENT.md)."""

from __future__ import annotations

import datetime
import re
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from qpki.errors import InputError
from qpki.ops.crl.commands import check_crl_days, crl_verify
from qpki.ops.crl.entries import PreviousCrl, expired_to_drop
from qpki.revocation import RevocationReason, RevokedEntry
from qpki.signer.software import SoftwareSigner
from qpki.x509.crl import build_crl_der

ISSUER = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CRL build test CA")])
KEY_ID = bytes(range(20))
NOW = datetime.datetime(2026, 1, 2, 3, 4, 5)
UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def signer():
    return SoftwareSigner(ec.generate_private_key(ec.SECP256R1()), "ecdsa-p256")


def _build(signer, revoked, **kwargs):
    return build_crl_der(signer=signer, issuer=ISSUER, issuer_key_id=KEY_ID, crl_number=7,
                         this_update=NOW, next_update=NOW + datetime.timedelta(days=3),
                         revoked=revoked, **kwargs)


def _openssl_text(der: bytes) -> str:
    return subprocess.run(["openssl", "crl", "-inform", "DER", "-noout", "-text"], input=der,
                          capture_output=True, check=True).stdout.decode()


def _parsed(der: bytes) -> dict:
    crl = x509.load_der_x509_crl(der)
    return {entry.serial_number: entry for entry in crl}


def test_serial_limits(signer):
    largest = 2 ** 159 - 1
    dummy, der = _build(signer, [RevokedEntry(1, NOW), RevokedEntry(largest, NOW)])
    assert set(_parsed(der)) == {1, largest}
    assert f"Serial Number: {largest:X}" in _openssl_text(der)
    refusal = r"cannot be listed in a CRL \(it must be positive and fit in 20 octets\)$"
    for serial in (0, -1, 2 ** 159, 2 ** 160, "1"):
        with pytest.raises(InputError, match=refusal):
            _build(signer, [RevokedEntry(serial, NOW)])


def test_dates_from_1950_in_utc(signer, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")  # aware times must not go through the local zone
    time.tzset()
    try:
        _dates_from_1950_in_utc(signer)
    finally:
        monkeypatch.undo()
        time.tzset()


def _dates_from_1950_in_utc(signer):
    earliest = datetime.datetime(1950, 1, 1)
    aware = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    dummy, der = _build(signer, [RevokedEntry(1, earliest),
                                 RevokedEntry(2, aware, invalidity_date=aware)])
    entries = _parsed(der)
    assert entries[1].revocation_date_utc == earliest.replace(tzinfo=UTC)
    assert entries[2].revocation_date_utc == datetime.datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    invalid = entries[2].extensions.get_extension_for_class(x509.InvalidityDate)
    assert not invalid.critical
    assert invalid.value.invalidity_date_utc == datetime.datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    text = _openssl_text(der)
    assert "Revocation Date: Jan  1 10:00:00 2026 GMT" in text
    assert "Invalidity Date: " in text
    early = datetime.datetime(1949, 12, 31, 23, 59, 59)
    with pytest.raises(InputError, match="^revocation date 1949-12-31T23:59:59 of serial 3 is before 1950$"):
        _build(signer, [RevokedEntry(3, early)])
    with pytest.raises(InputError, match="^invalidity date 1949-12-31T23:59:59 of serial 4 is before 1950$"):
        _build(signer, [RevokedEntry(4, NOW, invalidity_date=early)])


def test_reasons_listed_and_unspecified_left_out(signer):
    entries = [RevokedEntry(1, NOW), RevokedEntry(2, NOW, RevocationReason.unspecified),
               RevokedEntry(3, NOW, RevocationReason("keyCompromise")),
               RevokedEntry(4, NOW, RevocationReason("superseded")),
               RevokedEntry(5, NOW, RevocationReason("keyCompromise"))]
    dummy, der = _build(signer, entries)
    parsed = _parsed(der)
    for serial in (1, 2):
        assert not any(ext.oid == x509.CRLReason.oid for ext in parsed[serial].extensions)
    for serial, flag in ((3, x509.ReasonFlags.key_compromise), (4, x509.ReasonFlags.superseded),
                         (5, x509.ReasonFlags.key_compromise)):
        reason = parsed[serial].extensions.get_extension_for_class(x509.CRLReason)
        assert (reason.value.reason, reason.critical) == (flag, False)
    text = _openssl_text(der)
    assert text.count("Key Compromise") == 2 and text.count("Superseded") == 1
    assert "Unspecified" not in text


def test_remove_from_crl_only_in_a_delta(signer):
    entry = RevokedEntry(9, NOW, RevocationReason.remove_from_crl)
    message = (r"^serial 9 has reason removeFromCRL, which cannot appear in a full CRL \(RFC 5280 "
               r"§5.3.1: delta CRLs only\); release it from hold$")
    with pytest.raises(InputError, match=message):
        _build(signer, [entry])
    crl, der = _build(signer, [entry], delta_of=5)
    indicator = crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    assert (indicator.critical, indicator.value.crl_number) == (True, 5)
    reason = _parsed(der)[9].extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.remove_from_crl
    text = _openssl_text(der)
    assert "Delta CRL Indicator: critical" in text and "Remove From CRL" in text


def test_full_crl_header(signer):
    crl, der = _build(signer, [], freshest_url="http://example.test/delta.crl")
    assert crl.last_update_utc == NOW.replace(tzinfo=UTC)
    assert crl.next_update_utc == (NOW + datetime.timedelta(days=3)).replace(tzinfo=UTC)
    number = crl.extensions.get_extension_for_class(x509.CRLNumber)
    assert (number.critical, number.value.crl_number) == (False, 7)
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert (aki.critical, aki.value.key_identifier) == (False, KEY_ID)
    freshest = crl.extensions.get_extension_for_class(x509.FreshestCRL)
    assert not freshest.critical
    assert freshest.value[0].full_name[0].value == "http://example.test/delta.crl"
    with pytest.raises(x509.ExtensionNotFound):
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    assert crl.is_signature_valid(signer.public_key())
    text = _openssl_text(der)
    assert "X509v3 CRL Number: \n                7" in text
    assert "http://example.test/delta.crl" in text and "No Revoked Certificates" in text
    plain, dummy = _build(signer, [])
    with pytest.raises(x509.ExtensionNotFound):
        plain.extensions.get_extension_for_class(x509.FreshestCRL)


def _ca_certificate(signer) -> bytes:
    key = signer.crypto_key()
    cert = (x509.CertificateBuilder().subject_name(ISSUER).issuer_name(ISSUER)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW - datetime.timedelta(days=30))
            .not_valid_after(NOW + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           True)
            .add_extension(x509.SubjectKeyIdentifier(KEY_ID), False)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(Encoding.PEM)


def test_crl_verify_checks_the_time_only_when_given(signer):
    dummy, der = _build(signer, [RevokedEntry(1, NOW)])
    ca_pem = _ca_certificate(signer)
    now = crl_verify(der, ca_pem).to_dict()
    # Past its nextUpdate today, but no time asked for: not checked.
    assert {key: now[key] for key in ("changed", "valid", "strict")} == {
        "changed": False, "valid": True, "strict": False}
    assert "reason" in now and "details" in now
    assert crl_verify(der, ca_pem, at=NOW + datetime.timedelta(days=1)).to_dict()["valid"]
    late = crl_verify(der, ca_pem, at=NOW + datetime.timedelta(days=4)).to_dict()
    assert (late["valid"], late["changed"]) == (False, False)
    assert "nextUpdate" in late["reason"] or "expired" in late["reason"].lower()
    other = SoftwareSigner(ec.generate_private_key(ec.SECP256R1()), "ecdsa-p256")
    wrong = crl_verify(der, _ca_certificate(other)).to_dict()
    assert not wrong["valid"] and wrong["reason"]
    with pytest.raises(InputError, match="^CRL"):
        crl_verify(b"not a CRL", ca_pem)
    with pytest.raises(InputError, match="^--ca"):
        crl_verify(der, b"not a certificate")


def test_expired_entries_dropped_only_when_expired_before_the_previous_crl(monkeypatch):
    previous = PreviousCrl(frozenset({1, 2, 3}), 4, NOW, "crl/ca.crl.der")
    second = datetime.timedelta(seconds=1)
    entries = [RevokedEntry(1, NOW, expires=NOW - second), RevokedEntry(2, NOW, expires=NOW),
               RevokedEntry(3, NOW, expires=None), RevokedEntry(4, NOW, expires=NOW - second)]
    later = NOW + datetime.timedelta(days=1)
    # Expired at the very moment the previous CRL was issued: not yet listed after its expiry.
    assert expired_to_drop(entries, previous, later) == {1}
    assert expired_to_drop(entries, None, later) == set()
    # An aware ``now`` is taken in UTC, whatever the machine's zone.
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        entry = RevokedEntry(1, NOW, expires=NOW.replace(tzinfo=UTC))
        assert expired_to_drop([entry], PreviousCrl(frozenset({1}), 4, NOW + second, "p"),
                               later.replace(tzinfo=UTC)) == {1}
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("days", [1, 2, 3650])
def test_crl_days_accepts_whole_positive_days(days):
    check_crl_days(days)


@pytest.mark.parametrize("days", [0, -1, True, False, 1.0, 7.5, "7", None])
def test_crl_days_refuses_anything_else(days):
    expected = f"the CRL validity must be a positive number of days (got {days!r})"
    with pytest.raises(InputError, match=f"^{re.escape(expected)}$"):
        check_crl_days(days)
