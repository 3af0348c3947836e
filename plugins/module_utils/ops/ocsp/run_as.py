"""Giving up root for a user account, once a server holds what only root
could open (its listening socket, its key file, the CA database)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ...errors import InputError


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int


def account_to_run_as(user: str) -> Account:
    """The account ``user``, checked before anything is opened: it exists and
    this process is root (only root can become another user)."""
    import pwd

    try:
        found = pwd.getpwnam(user)
    except KeyError:
        raise InputError(f"no user account named {user!r}") from None
    if os.geteuid() != 0:
        raise InputError(f"running as user {user!r} needs the responder to be started by root")
    return Account(found.pw_name, found.pw_uid, found.pw_gid)


def become(account: Account) -> None:
    """Run as ``account`` (its uid, primary and supplementary groups) from now on."""
    os.initgroups(account.name, account.gid)
    os.setgid(account.gid)
    os.setuid(account.uid)
    if os.geteuid() != account.uid or os.getuid() != account.uid:
        raise InputError(f"could not give up root for user {account.name!r}")
