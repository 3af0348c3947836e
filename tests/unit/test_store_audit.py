"""Appending to and reading the audit log (store/audit.py) without a CA:
the chain across appends, logs and lines longer than the block the tail is
read in, the refusals that keep qpki from appending to a log it cannot
read the end of, and the completion of an append a crash interrupted."""

import hashlib
import json
import os
import stat

import pytest

from qpki.errors import StoreError
from qpki.store import audit as store_audit

GENESIS = "0" * 64
BLOCK = 65536  # a log this long is read from its end, not whole


def _lines(ca_dir):
    return [json.loads(line) for line in (ca_dir / "audit.log").read_bytes().split(b"\n")[:-1]]


def _hash(record):
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


def _assert_chained(records):
    prev = GENESIS
    for number, record in enumerate(records, 1):
        assert (record["seq"], record["prev"]) == (number, prev), record
        assert record["hash"] == _hash(record)
        prev = record["hash"]


def _fields(number, size=0):
    return {"time": "2026-12-04T00:00:00Z", "op": "test.op", "n": number, "pad": "x" * size}


def test_appends_in_several_writes_make_one_chain(tmp_path):
    path = str(tmp_path / "audit.log")
    assert store_audit.last_record(path) == (0, GENESIS)
    first = store_audit.append_records(tmp_path, [_fields(1), _fields(2), _fields(3)])
    one = store_audit.append_record(tmp_path, _fields(4))
    records = _lines(tmp_path)
    assert records == first + [one]
    assert [r["n"] for r in records] == [1, 2, 3, 4]
    _assert_chained(records)
    assert store_audit.last_record(path) == (4, one["hash"])
    assert store_audit.first_record(path) == first[0]
    lines, tail = store_audit.read_lines(path)
    assert [json.loads(line) for line in lines] == records and tail == b""
    # Field order is kept, seq first, prev and hash last.
    assert list(records[0]) == ["seq", "time", "op", "n", "pad", "prev", "hash"]


@pytest.mark.parametrize("sizes", [
    [300] * 400,             # many lines: the last two are in the final block
    [10, 3 * BLOCK],         # the last line alone is longer than three blocks
    [3 * BLOCK, 10],         # line 1 longer than a block, the last one short
], ids=["many", "long-last", "long-first"])
def test_long_logs_and_lines_are_read_from_the_end(tmp_path, sizes):
    path = str(tmp_path / "audit.log")
    store_audit.append_records(tmp_path, [_fields(n, size) for n, size in enumerate(sizes)])
    after = store_audit.append_records(tmp_path, [_fields(len(sizes), 5)])
    records = _lines(tmp_path)
    assert len(records) == len(sizes) + 1 and records[-1] == after[0]
    _assert_chained(records)
    assert store_audit.last_record(path) == (len(records), records[-1]["hash"])
    assert store_audit.first_record(path) == records[0]
    last, tail = store_audit.last_line(path)
    assert last == records[-1] and tail == b""


def test_a_torn_or_foreign_last_line_stops_appending(tmp_path):
    path = tmp_path / "audit.log"
    store_audit.append_records(tmp_path, [_fields(1), _fields(2)])
    good = path.read_bytes()
    for ending, problem in ((b'{"seq":3,"ti', "ends with an incomplete line"),
                            (b'{"seq":3}\n', "the last line is not a valid record"),
                            (b'{"seq":"3","hash":"' + b"a" * 64 + b'"}\n', "not a valid record"),
                            (b'{"seq":3,"hash":"abc"}\n', "not a valid record"),
                            (b"[3]\n", "not a valid record"),
                            (b"\xff\xfe\n", "not a valid record")):
        path.write_bytes(good + ending)
        with pytest.raises(StoreError, match=problem) as caught:
            store_audit.append_record(tmp_path, _fields(3))
        assert str(path) in str(caught.value)
        assert path.read_bytes() == good + ending


def test_missing_and_empty_logs(tmp_path):
    path = tmp_path / "audit.log"
    with pytest.raises(StoreError, match=f"no audit log {path}"):
        store_audit.first_record(str(path))
    with pytest.raises(StoreError, match=f"no audit log: {path}"):
        store_audit.read_lines(str(path))
    path.write_bytes(b"")
    assert store_audit.first_record(str(path)) is None
    assert store_audit.last_record(str(path)) == (0, GENESIS)
    assert store_audit.read_lines(str(path)) == ([], b"")
    assert store_audit.append_record(tmp_path, _fields(1))["seq"] == 1
    # Line 1 whole but its newline not written yet: read as it is.
    record = store_audit.seal(_fields(1), 1, GENESIS)
    path.write_bytes(json.dumps(record).encode())
    assert store_audit.first_record(str(path)) == record
    path.write_bytes(b"not json\n")
    with pytest.raises(StoreError, match="line 1 is not a valid record"):
        store_audit.first_record(str(path))


def test_read_lines_keeps_empty_lines_and_the_torn_tail(tmp_path):
    path = tmp_path / "audit.log"
    path.write_bytes(b"\n\na\nb\ntorn")
    assert store_audit.read_lines(str(path)) == ([b"", b"", b"a", b"b"], b"torn")
    path.write_bytes(b"only torn")
    assert store_audit.read_lines(str(path)) == ([], b"only torn")
    path.write_bytes(b"\n")  # one empty line (which walk_chain reports as line 1)
    assert store_audit.read_lines(str(path)) == ([b""], b"")


def test_a_symlinked_log_is_neither_read_nor_written(tmp_path):
    outside = tmp_path / "elsewhere.log"
    outside.write_bytes(b"")
    (tmp_path / "audit.log").symlink_to(outside)
    for call in (lambda: store_audit.append_record(tmp_path, _fields(1)),
                 lambda: store_audit.first_record(str(tmp_path / "audit.log")),
                 lambda: store_audit.append_lines(str(tmp_path / "audit.log"), b"{}\n")):
        with pytest.raises(StoreError, match="audit log"):
            call()
    assert outside.read_bytes() == b""


def test_a_new_log_is_writable_by_its_owner_only_whatever_the_umask(tmp_path):
    """Readable, not executable, and only its owner may write it."""
    old = os.umask(0)
    try:
        store_audit.append_record(tmp_path, _fields(1))
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.lstat(tmp_path / "audit.log").st_mode)
    assert mode & 0o600 == 0o600 and not mode & 0o133, oct(mode)


@pytest.mark.parametrize("logged", [0, 1, 2, 3])
def test_an_interrupted_append_is_completed_once(tmp_path, logged):
    """A crash recovery knows the records an operation was appending; the
    log holds none, some or all of them (its last line is the last one
    written). append_unlogged appends exactly the rest, chained."""
    store_audit.append_record(tmp_path, _fields(0))
    batch = [_fields(1), _fields(2), _fields(3)]
    if logged:
        store_audit.append_records(tmp_path, batch[:logged])
    appended = store_audit.append_unlogged(tmp_path, [dict(r) for r in batch])
    records = _lines(tmp_path)
    assert [r["n"] for r in records] == [0, 1, 2, 3]
    assert [r["n"] for r in appended] == [1, 2, 3][logged:]
    _assert_chained(records)


def test_a_last_line_outside_the_batch_means_none_was_logged(tmp_path):
    store_audit.append_records(tmp_path, [_fields(1), _fields(9)])
    appended = store_audit.append_unlogged(tmp_path, [_fields(1), _fields(2)])
    assert [r["n"] for r in _lines(tmp_path)] == [1, 9, 1, 2]
    assert len(appended) == 2
    # An empty log: nothing of the batch is there.
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "audit.log").write_bytes(b"")
    assert [r["n"] for r in store_audit.append_unlogged(empty, [_fields(5)])] == [5]


def test_last_line_reports_the_torn_tail(tmp_path):
    store_audit.append_records(tmp_path, [_fields(1), _fields(2)])
    path = tmp_path / "audit.log"
    with open(path, "ab") as handle:
        handle.write(b'{"seq":3')
    last, tail = store_audit.last_line(str(path))
    assert last["n"] == 2 and tail == b'{"seq":3'
    for torn in (b'{"seq":1', b"{"):  # the first line cut short, down to its first byte
        path.write_bytes(torn)
        assert store_audit.last_line(str(path)) == (None, torn)
    path.write_bytes(b"")
    assert store_audit.last_line(str(path)) == (None, b"")
    path.write_bytes(b"garbage\n")
    with pytest.raises(StoreError, match="last line is not a valid record"):
        store_audit.last_line(str(path))


def test_a_log_that_is_a_directory_is_refused_in_one_line(tmp_path):
    """Every reader and the appender: a StoreError naming the log, not an
    OSError (crl gen and cert issue said "internal error: IsADirectoryError")."""
    path = tmp_path / "audit.log"
    path.mkdir()
    for call in (lambda: store_audit.last_record(str(path)),
                 lambda: store_audit.first_record(str(path)),
                 lambda: store_audit.last_line(str(path)),
                 lambda: store_audit.read_lines(str(path)),
                 lambda: store_audit.holds_op(str(path), "ca.init"),
                 lambda: store_audit.append_lines(str(path), b"{}\n")):
        with pytest.raises(StoreError, match=f"audit log {path}: Is a directory"):
            call()


def test_a_record_json_cannot_hold_is_refused_before_anything_is_written(tmp_path):
    store_audit.append_record(tmp_path, _fields(1))
    before = (tmp_path / "audit.log").read_bytes()
    for value in (float("nan"), {1, 2}, b"bytes"):
        with pytest.raises(StoreError, match="cannot write audit record to .*audit.log"):
            store_audit.append_records(tmp_path, [_fields(2), dict(_fields(3), bad=value)])
    assert (tmp_path / "audit.log").read_bytes() == before
