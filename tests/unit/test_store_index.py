"""index.txt: line format, round trip, revocation, serial and time encoding."""

from datetime import datetime, timezone

import pytest

from qpki.errors import InputError, StoreError
from qpki.revocation import RevocationReason
from qpki.store.index import (
    IndexEntry,
    append_entry,
    format_line,
    format_time,
    parse_time,
    read_index,
    serial_hex,
    write_index,
)
from qpki.store.index_update import mark_revoked

UTC = timezone.utc
EXP = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)


def entry(serial, subject="/CN=host", **kw):
    return IndexEntry("V", kw.pop("expires", EXP), None, None, serial, subject, **kw)


def test_valid_line_format():
    assert format_line(entry(0x1A2B, "/C=FR/O=Ex/CN=a")) == (
        "V\t300506070809Z\t\t1A2B\tunknown\t/C=FR/O=Ex/CN=a\n"
    )


def test_revoked_line_format():
    line = format_line(
        IndexEntry(
            "R",
            EXP,
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            RevocationReason.key_compromise,
            10,
            "/CN=x",
        )
    )
    assert line == "R\t300506070809Z\t260102030405Z,keyCompromise\t0A\tunknown\t/CN=x\n"


@pytest.mark.parametrize(
    "serial,text",
    [(0, "00"), (1, "01"), (0xABC, "0ABC"), (0x80, "80"), (2**158, "4" + "0" * 39)],
)
def test_serial_hex_is_upper_and_even(serial, text):
    assert serial_hex(serial) == text


def test_times_utc_before_2050_generalized_after():
    assert (
        format_time(datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)) == "491231235959Z"
    )
    assert format_time(datetime(2050, 1, 1, tzinfo=UTC)) == "20500101000000Z"
    assert format_time(datetime(1950, 1, 1)) == "500101000000Z"  # naive = UTC
    assert parse_time("500101000000Z").year == 1950
    assert parse_time("491231235959Z").year == 2049
    assert parse_time("20500101000000Z") == datetime(2050, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_time("2050-01-01")


def test_aware_times_are_converted_to_utc():
    from datetime import timedelta

    paris = timezone(timedelta(hours=2))
    assert format_time(datetime(2030, 1, 1, 12, 0, tzinfo=paris)) == "300101100000Z"


def test_control_characters_in_subject_are_escaped(tmp_path):
    line = format_line(entry(1, "/CN=tab\there\nnew\x7fé"))
    assert (
        line
        == "V\t300506070809Z\t\t01\tunknown\t/CN=tab\\x09here\\x0Anew\\x7F\\xC3\\xA9\n"
    )
    assert line.count("\t") == 5 and line.count("\n") == 1


def test_round_trip(tmp_path):
    path = tmp_path / "index.txt"
    entries = [
        entry(1, "/CN=one"),
        IndexEntry(
            "R",
            EXP,
            datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC),
            RevocationReason.superseded,
            2,
            "/CN=two",
        ),
        IndexEntry(
            "R",
            datetime(2051, 1, 1, tzinfo=UTC),
            datetime(2026, 2, 3, tzinfo=UTC),
            None,
            3,
            "/CN=t",
        ),
        IndexEntry(
            "R",
            EXP,
            datetime(2026, 2, 3, tzinfo=UTC),
            RevocationReason.key_compromise,
            4,
            "/CN=k",
            invalidity_date=datetime(2026, 1, 1, tzinfo=UTC),
        ),
        IndexEntry(
            "R",
            EXP,
            datetime(2026, 2, 3, tzinfo=UTC),
            RevocationReason.certificate_hold,
            6,
            "/CN=h",
            hold_instruction="holdInstructionReject",
        ),
        IndexEntry(
            "E",
            datetime(2020, 1, 1, tzinfo=UTC),
            None,
            None,
            2**158 + 5,
            "/O=a\\/b/CN=e",
        ),
    ]
    write_index(path, entries)
    assert read_index(path) == entries
    text = path.read_text()
    write_index(path, read_index(path))
    assert path.read_text() == text
    assert (tmp_path / "index.txt.attr").read_text() == "unique_subject = no\n"


def test_append_and_duplicate_serial(tmp_path):
    path = tmp_path / "index.txt"
    append_entry(path, entry(5))
    append_entry(path, entry(6))
    assert [e.serial for e in read_index(path)] == [5, 6]
    with pytest.raises(StoreError, match=r"serial 05 is already in .*index.txt"):
        append_entry(path, entry(5))
    assert [e.serial for e in read_index(path)] == [5, 6]


def test_write_index_refuses_duplicates(tmp_path):
    with pytest.raises(StoreError, match="appears twice"):
        write_index(tmp_path / "index.txt", [entry(1), entry(1)])
    assert not (tmp_path / "index.txt").exists()


def test_mark_revoked(tmp_path):
    path = tmp_path / "index.txt"
    write_index(path, [entry(1), entry(2)])
    when = datetime(2026, 3, 4, 5, 6, 7, 890000)  # naive: UTC, fraction dropped
    revoked = mark_revoked(path, 2, when, "key_compromise")
    assert revoked.status == "R" and revoked.reason is RevocationReason.key_compromise
    assert revoked.revoked_at == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert read_index(path) == [entry(1), revoked]
    assert "260304050607Z,keyCompromise\t02\t" in path.read_text()


def test_mark_revoked_without_reason(tmp_path):
    path = tmp_path / "index.txt"
    write_index(path, [entry(1)])
    mark_revoked(path, 1, datetime(2026, 1, 1, tzinfo=UTC), None)
    assert path.read_text().startswith("R\t300506070809Z\t260101000000Z\t01\t")


def test_mark_revoked_errors_say_which(tmp_path):
    path = tmp_path / "index.txt"
    write_index(path, [entry(1)])
    with pytest.raises(
        StoreError, match=r"serial 0ABC is not in the certificate index .*index.txt"
    ):
        mark_revoked(path, 0xABC, datetime.now(UTC), None)
    mark_revoked(path, 1, datetime(2026, 1, 1, tzinfo=UTC), None)
    with pytest.raises(
        StoreError, match=r"serial 01 is already revoked \(since 2026-01-01"
    ):
        mark_revoked(path, 1, datetime.now(UTC), "superseded")
    with pytest.raises(InputError, match="unknown revocation reason 'bogus'"):
        mark_revoked(path, 1, datetime.now(UTC), "bogus")


@pytest.mark.parametrize(
    "given,expected",
    [
        ("keyCompromise", "keyCompromise"),
        ("KEY_COMPROMISE", "keyCompromise"),
        ("ca-compromise", "CACompromise"),
        ("cACompromise", "CACompromise"),
        ("CACompromise", "CACompromise"),
        ("aACompromise", "AACompromise"),
        ("cessation_of_operation", "cessationOfOperation"),
        ("privilegeWithdrawn", "privilegeWithdrawn"),
    ],
)
def test_reason_spelling(given, expected):
    assert RevocationReason.parse(given).index_name == expected


@pytest.mark.parametrize(
    "line,why",
    [
        ("V\t300506070809Z\t\t01\tunknown", "expected 6"),
        ("X\t300506070809Z\t\t01\tunknown\t/CN=a", "unknown status"),
        ("V\t3005060708Z\t\t01\tunknown\t/CN=a", "bad time"),
        ("V\t300506070809Z\t\tZZ\tunknown\t/CN=a", "bad serial"),
        ("R\t300506070809Z\t\t01\tunknown\t/CN=a", "without a revocation date"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, why):
    path = tmp_path / "index.txt"
    path.write_text("V\t300506070809Z\t\t0F\tunknown\t/CN=ok\n" + line + "\n")
    with pytest.raises(StoreError) as info:
        read_index(path)
    assert f"invalid line 2 in {path}" in str(info.value) and why in str(info.value)


def test_missing_index(tmp_path):
    with pytest.raises(StoreError, match="missing certificate index"):
        read_index(tmp_path / "index.txt")


def test_blank_lines_and_crlf_tolerated(tmp_path):
    path = tmp_path / "index.txt"
    path.write_bytes(b"V\t300506070809Z\t\t01\tunknown\t/CN=a\r\n\n")
    assert read_index(path) == [entry(1, "/CN=a")]
