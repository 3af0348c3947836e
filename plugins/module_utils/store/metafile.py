"""Reading and writing the JSON metadata files of the store.

Metadata files are written with 4-space indentation, UTF-8, a trailing
newline and a fixed key order (see ``ordered``), through an atomic write.
Datetimes anywhere in the data are written as RFC 3339 UTC strings
(``2025-01-02T10:30:00Z``), the form the seed's examples use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from ..errors import StoreError
from .atomic import StrPath, write_text


def utc_text(value):  # type: ignore[no-untyped-def]  # ops passes Optional datetimes it knows are set
    """``2025-01-02T10:30:00Z`` for a datetime (naive means UTC)."""
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(timezone.utc)
    return value.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def parse_utc_text(text: str) -> datetime:
    """The aware UTC datetime for an RFC 3339 string such as ``utc_text`` writes."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def ordered(mapping: Mapping[str, Any], first: Iterable[str]) -> dict[str, Any]:
    """A copy of ``mapping`` with the keys in ``first`` leading, in that
    order, followed by the other keys in their original order."""
    result = {key: mapping[key] for key in first if key in mapping}
    for key, value in mapping.items():
        if key not in result:
            result[key] = value
    return result


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return utc_text(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(path: StrPath, data: object, mode: int = 0o644) -> None:
    """Atomically write ``data`` as indented JSON to ``path``."""
    try:
        text = json.dumps(data, indent=4, ensure_ascii=False, default=_default)
    except (TypeError, ValueError) as err:
        raise StoreError(f"cannot write {path}: {err}") from err
    write_text(path, text + "\n", mode)


def load_json_object(path: StrPath) -> dict[str, Any]:
    """The JSON object stored in ``path``; StoreError naming it otherwise."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise StoreError(f"missing metadata file {path}") from None
    except OSError as err:
        raise StoreError(f"cannot read {path}: {err.strerror or err}") from err
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise StoreError(f"invalid metadata file {path}: not UTF-8 text") from err
    except json.JSONDecodeError as err:
        raise StoreError(
            f"invalid JSON in {path}: {err.msg} at line {err.lineno} column {err.colno}"
        ) from err
    if not isinstance(data, dict):
        raise StoreError(f"invalid metadata file {path}: expected a JSON object")
    return data
