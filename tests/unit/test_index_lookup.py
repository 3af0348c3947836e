"""store.index.IndexLookup: lookups by serial that see every change of the file."""

import datetime
import os

from qpki.revocation import RevocationReason
from qpki.store.index import IndexEntry, IndexLookup, format_line

WHEN = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def line(serial, status="V", reason=None):
    revoked = WHEN if status == "R" else None
    return format_line(IndexEntry(status, WHEN + datetime.timedelta(days=365), revoked, reason,
                                  serial, f"/CN=h{serial}"))


def test_sees_appends_and_replacements(tmp_path):
    index = tmp_path / "index.txt"
    lookup = IndexLookup(index)
    assert lookup.find(0x10) is None  # no file yet
    index.write_text(line(0x10))
    assert lookup.find(0x10).status == "V" and lookup.find(0x11) is None
    with open(index, "a") as handle:
        handle.write(line(0x11))
    assert lookup.find(0x11).subject == "/CN=h17"
    replacement = tmp_path / "new.txt"
    replacement.write_text(line(0x10, "R", RevocationReason.key_compromise) + line(0x11))
    os.replace(replacement, index)
    found = lookup.find(0x10)
    assert found.status == "R" and found.reason is RevocationReason.key_compromise
