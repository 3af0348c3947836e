"""Results of key gen, key list, csr gen, hsm list / test / info and the token key state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..result import Result, optional, SPREAD


@dataclass
class KeyFiles(Result):
    """Files written by key gen or csr gen (the keys made, then the CSR)."""

    changed: bool
    algorithm: str
    paths: list[str]
    note: str | None = optional()
    alt_algorithm: str | None = optional()


@dataclass
class TokenKeyMade(Result):
    """A key pair generated in a token by key gen --hsm-config."""

    changed: bool
    algorithm: str
    label: str
    key_id: str | None
    token: Any


@dataclass
class TokenKeys(Result):
    changed: bool
    keys: list[dict[str, Any]]


@dataclass
class AlgorithmList(Result):
    """The registry by family: each algorithm's name, whether it signs and
    whether a token may hold it."""

    families: dict[str, list[dict[str, Any]]]
    count: int


@dataclass
class HsmInfo(Result):
    """Slots and tokens of a PKCS#11 library; with a configuration, its
    token and, when asked, the mechanisms, a login test and the keys."""

    changed: bool
    lib: str
    slots: list[dict[str, Any]]
    token: Any = optional()
    mechanisms: list[str] | None = optional()
    login: dict[str, Any] | None = optional()
    keys: list[dict[str, Any]] | None = optional()


@dataclass
class HsmTest(Result):
    """A login test: the token's report, how many mechanisms it has and
    those asked for."""

    report: dict[str, Any] = field(metadata=SPREAD)
    mechanism_count: int = 0
    mechanisms: list[str] | None = optional()
    changed: bool = False


@dataclass
class TokenKeyPresent(Result):
    """A token key that is (or, in check mode or before the token exists,
    would be) present, with its facts; ``deleted`` and ``note`` only when
    the configuration is still to be written."""

    changed: bool
    state: str
    label: str | None
    key_id: str | None
    algorithm: str | None
    public_key: str | None
    token: str | None
    type: str | None
    size: int | None
    curve: str | None
    deleted: list[dict[str, Any]] | None = optional()
    note: str | None = optional()


@dataclass
class TokenKeyAbsent(Result):
    changed: bool
    state: str
    label: str | None
    key_id: str | None
    token: str
    deleted: list[dict[str, Any]]
