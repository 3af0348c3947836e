"""Results of ocsp sign and ocsp serve."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..result import Result, SPREAD


@dataclass
class OcspSigned(Result):
    """A response written to ``path``, described (status, serial, times)."""

    changed: bool
    path: str
    response: dict[str, Any] = field(metadata=SPREAD)


@dataclass
class OcspStopped(Result):
    """The server ran until it was stopped."""

    changed: bool
    stopped: bool
