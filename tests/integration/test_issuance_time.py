"""The time an operation is given is the time its certificates start at.

The ops functions that issue take ``now`` (the Ansible modules and the
credential batch pass one time for a whole run). Every certificate signed
in that run must begin at that time and last its profile's validity from
it (RFC 5280 inclusive: ``now + validity - 1 s``), and the CA's database
row must say the same: a ``now`` dropped on its way to the validity window
would sign certificates starting at the moment of signing instead.
"""

import datetime
from pathlib import Path

from cryptography import x509

from qpki.ops.cert.batch import cert_issue_batch
from qpki.ops.credential.state import CredentialRequest, credential_ensure_many
from qpki.ops.credential.versions import credential_renew
from qpki.store.ca_dir import CaDir
from qpki.store.cert_store import write_store

from batch_support import csr, make_issuing

# A time in the past (whole seconds: certificates hold no fractions), long
# enough ago that a certificate dated from the clock could not match it.
GIVEN = datetime.datetime(2026, 3, 1, 8, 30, 15, tzinfo=datetime.timezone.utc)
ONE_SECOND = datetime.timedelta(seconds=1)


def ca_copy(ca_dir: Path, serial: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(
        (ca_dir / "certs" / ("%040X.crt" % int(serial, 16))).read_bytes())


def assert_starts_at(ca_dir: Path, serial: str, days: int, start: datetime.datetime) -> None:
    cert = ca_copy(ca_dir, serial)
    assert cert.not_valid_before_utc == start
    assert cert.not_valid_after_utc == start + datetime.timedelta(days=days) - ONE_SECOND
    with write_store(CaDir(ca_dir)) as store:
        row = store.row(cert.serial_number)
    assert row is not None
    assert row.not_before == start
    assert row.entry.expires == cert.not_valid_after_utc


def test_a_batch_signs_at_the_time_it_is_given(tmp_path):
    issuing = make_issuing(tmp_path)
    items = [("%d.csr" % n, csr("t%d.example.com" % n, ["t%d.example.com" % n]))
             for n in range(3)]
    result = cert_issue_batch(str(issuing), "ec/tls-server", items, now=GIVEN, jobs=1)
    assert result.count == 3
    for entry in result.certificates:
        assert_starts_at(issuing, entry.serial, 365, GIVEN)


def test_credentials_enrolled_and_renewed_at_the_time_given(tmp_path):
    """``credential_ensure_many`` (a batch through ``issue_many``) and
    ``credential_renew`` (a single issue) with a time each."""
    issuing = make_issuing(tmp_path)
    creds = tmp_path / "creds"
    state = credential_ensure_many(
        str(issuing), str(creds),
        [CredentialRequest("ec/tls-client", {"cn": "user%d" % n}) for n in range(2)],
        now=GIVEN)
    assert [r.changed for r in state.results] == [True, True]
    for enrolled in state.results:
        assert_starts_at(issuing, enrolled.serial, 365, GIVEN)

    later = GIVEN + datetime.timedelta(days=200, seconds=7)
    renewed = credential_renew(str(issuing), str(creds), state.results[0].id, now=later)
    assert renewed.serial != state.results[0].serial
    assert_starts_at(issuing, renewed.serial, 365, later)
