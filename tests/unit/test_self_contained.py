"""The suite reads nothing outside the repository (issue 20, item 4).

Test data is vendored under tests/vectors; a path into a home directory,
/work, /mnt... or a variable that points the tests elsewhere would make a
clone's run depend on one machine (and skip or fail there)."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("tests", "scripts", ".ci")
TEXT_SUFFIXES = {".py", ".sh", ".yml", ".yaml", ".cfg", ".ini", ".toml", ".md", ".txt", ".j2", ""}
# Built from pieces so that this file does not match itself.
_ROOTS = "|".join(["wo" + "rk", "ho" + "me", "ro" + "ot", "Us" + "ers", "mn" + "t", "med" + "ia"])
FORBIDDEN = re.compile(
    r"(?:^|[\s\"'=:(\[,])/(?:%s)/" % _ROOTS  # an absolute path into one machine's tree
    + r"|shared/" + r"interop"  # the shared vector folder beside a checkout
    + r"|QPKI_" + r"SHARED_DIR|QPKI_" + r"COMPOSITE_VECTORS")  # old redirections to it


def scanned_files():
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*")):
            rel = path.relative_to(REPO)
            if not path.is_file() or "__pycache__" in rel.parts:
                continue
            # Vendored data is not code: only the READMEs beside it are text we wrote.
            if rel.parts[:2] == ("tests", "vectors") and path.suffix != ".md":
                continue
            if path.suffix in TEXT_SUFFIXES:
                yield path


def offending_lines(text: str) -> list[tuple[int, str]]:
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)
            if FORBIDDEN.search(line)]


def test_no_test_reads_outside_the_repository():
    found = []
    for path in scanned_files():
        for number, line in offending_lines(path.read_text(errors="replace")):
            found.append(f"{path.relative_to(REPO)}:{number}: {line}")
    assert not found, "paths outside the repository:\n" + "\n".join(found)


def test_the_scan_covers_the_suite():
    names = {p.relative_to(REPO).as_posix() for p in scanned_files()}
    assert {"tests/conftest.py", "tests/interop_vectors.py", "scripts/test.sh", ".ci/run",
            "tests/unit/test_composite_vectors.py", "tests/vectors/README.md"} <= names
    assert not any(n.endswith(".json") and n.startswith("tests/vectors/") for n in names)


@pytest.mark.parametrize("line", [
    'VECTORS = "/' + 'work/shared/x/testvectors.json"',
    "open('/" + "home/alice/ca.crt')",
    "--ca-dir /" + "root/pki/ca",
    "path = os.environ.get('QPKI_" + "SHARED_DIR')",
    "see ../shared/" + "interop/qpki",
])
def test_the_scan_sees_a_planted_path(line):
    assert offending_lines(line) == [(1, line)]


@pytest.mark.parametrize("line", [
    'ca_init(base + "/root", "ec/root-ca")',
    "openssl verify -CAfile /srv/pki/root/ca.crt",
    'tmp_path / "home" / "x"',
    "lib: /usr/lib/softhsm/libsofthsm2.so",
])
def test_the_scan_leaves_ordinary_paths_alone(line):
    assert offending_lines(line) == []
