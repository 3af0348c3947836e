"""Who may change a CA or credential directory: the rule OpenSSH applies to
``~/.ssh`` (StrictModes).

A directory qpki keeps keys, the index or the audit log in must be owned by
the user running qpki (or by root) and must not be writable by group or
others; otherwise someone else could swap a key, rewrite the index, plant
a symbolic link, or hold the CA lock. Inside it, the sub-directories and
files qpki writes must not be symbolic links: a ``certs`` link to a
directory elsewhere would send issued certificates (and a ``private`` link
the keys) outside the CA. The directory itself may be reached through a
symbolic link: where the CA lives is the operator's choice.

The checks are ``stat``/``lstat`` calls, a dozen per command. They do not
defend against the directory's owner or root (see docs/SECURITY.md).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

from ..errors import StoreError


def _refuse(path: str, why: str, fix: str) -> StoreError:
    return StoreError(f"refusing to use {path}: {why} ({fix})")


def check_owner_and_mode(path: str, info: os.stat_result) -> None:
    """StoreError unless ``info`` (of ``path``) belongs to this user or root
    and is not writable by group or others."""
    euid = os.geteuid()
    if info.st_uid not in (euid, 0):
        raise _refuse(path, f"it belongs to uid {info.st_uid}, not to you (uid {euid}) or root",
                      "chown it, or run qpki as its owner")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise _refuse(path, f"mode {mode:04o} lets group or others write to it", "chmod go-w")


def check_secure_tree(root: str | os.PathLike[str], subdirs: Iterable[str] = (),
                      files: Iterable[str] = ()) -> None:
    """Check ``root`` (a directory, possibly reached through a link), the
    ``subdirs`` inside it that exist (real directories, same rule) and the
    ``files`` inside it that exist (not symbolic links)."""
    root = os.fspath(root)
    try:
        info = os.stat(root)
    except OSError as err:
        raise StoreError(f"cannot check {root}: {err.strerror or err}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise StoreError(f"{root} is not a directory")
    check_owner_and_mode(root, info)
    for name in subdirs:
        path = os.path.join(root, name)
        found = _not_a_link(path, "qpki writes there: make it a directory")
        if found is None:
            continue
        if not stat.S_ISDIR(found.st_mode):
            raise StoreError(f"{path} is not a directory")
        check_owner_and_mode(path, found)
    for name in files:
        _not_a_link(os.path.join(root, name),
                    "qpki writes this file: replace the link with the file itself")


def _not_a_link(path: str, fix: str) -> os.stat_result | None:
    """``lstat`` of ``path`` (None if missing); StoreError if it is a link."""
    found = _lstat(path)
    if found is not None and stat.S_ISLNK(found.st_mode):
        raise _refuse(path, "it is a symbolic link", fix)
    return found


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise StoreError(f"cannot check {path}: {err.strerror or err}") from None
