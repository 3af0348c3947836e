"""Random serials and the serial / crlnumber files."""

import pytest

from qpki.errors import StoreError
from qpki.store import serials
from qpki.store.ca_dir import CaDir
from qpki.store.index import IndexEntry, write_index
from qpki.store.serials import (
    last_crl_number,
    last_serial,
    new_serial,
    next_crl_number,
    record_serial,
    used_serials,
)


def der_integer_length(value):
    # Content octets of a DER INTEGER for a positive value.
    return value.bit_length() // 8 + 1


def test_100k_serials_unique_and_well_formed():
    drawn = set()
    for dummy in range(100_000):
        serial = new_serial(drawn)
        assert serial not in drawn
        drawn.add(serial)
    assert len(drawn) == 100_000
    assert all(serial.bit_length() == 159 for serial in drawn)
    assert all(0 < serial < 2**159 for serial in drawn)
    assert max(der_integer_length(serial) for serial in drawn) == 20
    # 158 free bits: every one of them varies across the draws.
    varying = 0
    for serial in list(drawn)[:2000]:
        varying |= serial ^ (1 << 158)
    assert varying.bit_length() >= 150


def test_used_serials_are_never_returned(monkeypatch):
    top = 1 << 158
    draws = iter([5, 5, 7])
    monkeypatch.setattr(serials.secrets, "randbits", lambda bits: next(draws))
    assert new_serial({top | 5}) == top | 7


def test_serial_file_holds_last_issued(tmp_path):
    assert last_serial(tmp_path) is None
    record_serial(tmp_path, 0xABC)
    assert (tmp_path / "serial").read_text() == "0ABC\n"
    assert last_serial(CaDir(tmp_path)) == 0xABC


def test_crl_numbers_start_at_one_and_increase(tmp_path):
    assert last_crl_number(tmp_path) is None
    assert [next_crl_number(tmp_path) for dummy in range(3)] == [1, 2, 3]
    assert (tmp_path / "crlnumber").read_text() == "04\n"
    assert last_crl_number(tmp_path) == 3


def test_crl_number_continues_from_openssl_file(tmp_path):
    (tmp_path / "crlnumber").write_text("0f\n")
    assert next_crl_number(tmp_path) == 15
    assert (tmp_path / "crlnumber").read_text() == "10\n"


def test_bad_counter_file_names_the_path(tmp_path):
    (tmp_path / "crlnumber").write_text("not hex\n")
    with pytest.raises(StoreError, match=f"invalid counter in {tmp_path}/crlnumber"):
        next_crl_number(tmp_path)


def test_used_serials_from_index_and_cert_files(tmp_path):
    ca = CaDir(tmp_path)
    ca.create_layout()
    from datetime import datetime, timezone

    write_index(
        ca.index,
        [
            IndexEntry(
                "V",
                datetime(2030, 1, 1, tzinfo=timezone.utc),
                None,
                None,
                0x11,
                "/CN=a",
            )
        ],
    )
    ca.cert_path(0x22).write_text("pem")
    (ca.certs_dir / "README").write_text("x")
    (ca.certs_dir / "zz.crt").write_text("x")
    assert used_serials(ca) == {0x11, 0x22}
