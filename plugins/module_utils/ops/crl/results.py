"""Results of crl gen (full and delta), crl info, crl verify and the CRL state.

A CRL's description (``describe_crl``: issuer, number, times, extensions)
is spread at the top level of each, as the commands have always printed it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Union

from ..result import Result, Verdict, optional, SPREAD

PathLike = Union[str, os.PathLike]


@dataclass
class CrlInfo(Result):
    description: dict[str, Any] = field(metadata=SPREAD)


@dataclass
class CrlSigned(Result):
    """A full CRL signed and written: ``path`` is the file in the asked
    format (the copy at --out when given), ``paths`` every file written."""

    description: dict[str, Any] = field(metadata=SPREAD)
    changed: bool
    paths: list[PathLike]
    format: str
    path: PathLike


@dataclass
class DeltaCrlSigned(Result):
    description: dict[str, Any] = field(metadata=SPREAD)
    changed: bool
    base_crl_number: int
    paths: list[str]


@dataclass
class CrlVerdict(Verdict):
    changed: bool
    valid: bool
    reason: str
    details: Any
    legacy_composite: list[str]
    strict: bool


@dataclass
class CrlState(Result):
    """What crl_ensure did or, in check mode, would do: the CRL's
    description (of the CRL signed, else of the current one), the serials
    revoked and released, why a CRL was (or would be) signed, and the
    revoked serials before and after (``diff``)."""

    description: dict[str, Any] = field(metadata=SPREAD)
    changed: bool
    revoked: list[str]
    released: list[str]
    reasons: list[str]
    warnings: list[str] | None = optional()
    path: PathLike | None = None
    format: str | None = None
    diff: dict[str, list[str]] | None = optional()
    paths: list[PathLike] | None = optional()
