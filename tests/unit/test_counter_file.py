"""store.counter_file: the one writer of the serial and crlnumber files."""

from __future__ import annotations

import os
import stat

from qpki.store.ca_dir import CaDir
from qpki.store.counter_file import counter_file_text, write_counter_file
from qpki.store.serials import last_crl_number, last_serial, next_crl_number, record_serial


def test_a_counter_file_holds_upper_case_hex_of_even_length_and_a_newline(tmp_path):
    path = tmp_path / "crlnumber"
    for value, text in ((0, b"00\n"), (10, b"0A\n"), (0x1A2B, b"1A2B\n"), (1 << 158, b"4" + b"0" * 39 + b"\n")):
        write_counter_file(path, value)
        assert path.read_bytes() == text == counter_file_text(value)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_the_same_value_is_not_written_again_and_a_new_one_replaces_the_file(tmp_path):
    path = tmp_path / "serial"
    write_counter_file(path, 0x42)
    before = os.stat(path).st_ino
    write_counter_file(path, 0x42)
    assert os.stat(path).st_ino == before  # not replaced
    write_counter_file(path, 0x43)
    assert os.stat(path).st_ino != before and path.read_bytes() == b"43\n"  # replaced atomically (rename)


def test_serials_write_through_it(tmp_path):
    ca = CaDir(tmp_path)
    record_serial(ca, 0xABCDEF)
    assert ca.serial.read_bytes() == counter_file_text(0xABCDEF) and last_serial(ca) == 0xABCDEF
    assert next_crl_number(ca) == 1 and ca.crlnumber.read_bytes() == counter_file_text(2)
    assert next_crl_number(ca) == 2 and last_crl_number(ca) == 2
