"""Atomic writes: exact modes from creation, no temp left, old file kept on failure."""

import os
import stat
import time

import pytest

from qpki.errors import StoreError
from qpki.store import atomic
from qpki.store.atomic import ensure_dir, remove_stale_temps, write_file, write_text


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_file_content_and_default_mode(tmp_path):
    target = tmp_path / "a.txt"
    write_file(target, b"hello")
    assert target.read_bytes() == b"hello"
    assert mode_of(target) == 0o644
    assert os.listdir(tmp_path) == ["a.txt"]


def test_mode_is_exact_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        write_file(tmp_path / "wide", b"x", 0o644)
    finally:
        os.umask(old)
    old = os.umask(0)
    try:
        write_file(tmp_path / "key", b"secret", 0o600)
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "wide") == 0o644
    assert mode_of(tmp_path / "key") == 0o600


def test_private_file_is_0600_from_creation(tmp_path, monkeypatch):
    """The temporary file already has mode 0600 before any byte is written."""
    seen = []
    real_write = os.write

    def spying_write(fd, data):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(atomic.os, "write", spying_write)
    old = os.umask(0)
    try:
        write_file(tmp_path / "ca.key", b"-----BEGIN PRIVATE KEY-----\n", 0o600)
    finally:
        os.umask(old)
    assert seen and all(mode == 0o600 for mode in seen)
    assert mode_of(tmp_path / "ca.key") == 0o600


def test_temp_is_created_exclusively_with_the_mode(tmp_path, monkeypatch):
    calls = []
    real_open = os.open

    def spying_open(path, flags, mode=0o777, **kw):
        calls.append((os.path.basename(path), flags, mode))
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(atomic.os, "open", spying_open)
    write_file(tmp_path / "k", b"x", 0o600)
    name, flags, mode = calls[0]
    assert atomic.is_temp_name(name) and name.startswith(".k.tmp-")
    assert flags & os.O_CREAT and flags & os.O_EXCL
    assert mode == 0o600


def test_overwrite_changes_mode_and_content(tmp_path):
    target = tmp_path / "f"
    write_file(target, b"old", 0o644)
    write_file(target, b"new", 0o600)
    assert target.read_bytes() == b"new"
    assert mode_of(target) == 0o600


def test_failed_replace_keeps_old_file_and_removes_temp(tmp_path, monkeypatch):
    target = tmp_path / "index.txt"
    write_file(target, b"old content\n")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(StoreError) as info:
        write_file(target, b"new content\n")
    assert str(target) in str(info.value)
    assert "No space left" in str(info.value)
    assert target.read_bytes() == b"old content\n"
    assert os.listdir(tmp_path) == ["index.txt"]


def test_failure_with_a_non_os_error_also_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "f"
    write_file(target, b"old")

    def boom(fd):
        raise RuntimeError("power cut")

    monkeypatch.setattr(atomic.os, "fsync", boom)
    with pytest.raises(RuntimeError):
        write_file(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f"]


def test_write_into_missing_directory_names_the_path(tmp_path):
    target = tmp_path / "nope" / "f"
    with pytest.raises(StoreError, match="nope/f"):
        write_file(target, b"x")


def test_write_rejects_text(tmp_path):
    with pytest.raises(TypeError):
        write_file(tmp_path / "f", "text")


def test_write_text_is_utf8(tmp_path):
    write_text(tmp_path / "t", "héllo\n", 0o640)
    assert (tmp_path / "t").read_bytes() == "héllo\n".encode()
    assert mode_of(tmp_path / "t") == 0o640


def test_ensure_dir_creates_with_exact_mode(tmp_path):
    old = os.umask(0o077)
    try:
        ensure_dir(tmp_path / "a" / "b", 0o755)
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "a" / "b") == 0o755
    ensure_dir(tmp_path / "p", 0o700)
    assert mode_of(tmp_path / "p") == 0o700
    ensure_dir(tmp_path / "p", 0o755)  # existing: left alone
    assert mode_of(tmp_path / "p") == 0o700


def test_ensure_dir_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(StoreError, match="a file is in the way"):
        ensure_dir(tmp_path / "f")


def test_remove_stale_temps(tmp_path):
    orphan = tmp_path / ".ca.crt.tmp-0123456789ab"
    orphan.write_bytes(b"half")
    fresh = tmp_path / ".index.txt.tmp-ba9876543210"
    fresh.write_bytes(b"in progress")
    keep = [tmp_path / "ca.crt", tmp_path / ".lock", tmp_path / ".x.tmp-nothex"]
    for path in keep:
        path.write_bytes(b"")
    old = time.time() - 3600
    os.utime(orphan, (old, old))

    assert remove_stale_temps(tmp_path) == [str(orphan)]
    assert fresh.exists()
    assert remove_stale_temps(tmp_path, min_age=0) == [str(fresh)]
    assert all(path.exists() for path in keep)
    assert remove_stale_temps(tmp_path / "missing") == []
