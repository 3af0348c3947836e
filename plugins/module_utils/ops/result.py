"""What ops functions return to the front ends: dataclasses, one per kind of result.

The CLI chooses how to print a result by its type; ``--json`` and the
Ansible modules use :meth:`Result.to_dict`, whose keys (and their order) are
the field names. Two kinds of field shape that dict:

- :func:`optional` fields are left out while they are None (the key is
  absent, rather than null, when the thing does not apply);
- ``SPREAD`` fields hold an open-ended description (a token's report, a
  profile, an OCSP response) or a result whose keys go to the top level,
  where the field stands; a SPREAD field that is None adds no key.
"""

from __future__ import annotations

import dataclasses
from typing import Any

_OMIT_NONE = "omit_none"
_SPREAD = "spread"

# ``field(metadata=SPREAD)``: a mapping (or result) field whose items
# ``to_dict`` puts at the top level, where the field stands.
SPREAD = {_SPREAD: True}


def optional_spread() -> Any:
    """A SPREAD field (None by default) that adds no key while it is None:
    keys that come and go together."""
    # pylint: disable-next=invalid-field-call  # returned to a dataclass body, where it is used
    return dataclasses.field(default=None, metadata=SPREAD)


def optional() -> Any:
    """A field (None by default) that ``to_dict`` leaves out while it is None."""
    # pylint: disable-next=invalid-field-call  # returned to a dataclass body, where it is used
    return dataclasses.field(default=None, metadata={_OMIT_NONE: True})


# Values ``plain`` returns as they are, told by their exact type without a
# call: most of a large description (a CRL's 100,000 entries) is these.
_SCALARS = frozenset((str, int, float, bool, type(None)))


def plain(value: Any) -> Any:
    """``value`` with every nested result turned into its dict."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, list):
        return [item if type(item) in _SCALARS else plain(item) for item in value]
    if isinstance(value, dict):
        return {key: item if type(item) in _SCALARS else plain(item)
                for key, item in value.items()}
    return value


def fields_of(result: Result) -> dict[str, Any]:
    """The fields of ``result`` by name (not converted): to build a result
    of a subclass from it."""
    return {field.name: getattr(result, field.name) for field in dataclasses.fields(result)}


@dataclasses.dataclass
class Result:
    """Base of every ops result."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.metadata.get(_SPREAD):
                out.update(plain(value) if value is not None else {})
            elif value is not None or not field.metadata.get(_OMIT_NONE):
                out[field.name] = plain(value)
        return out


class Verdict(Result):
    """A result that judges something (verify, check): the CLI prints OK or
    FAILED and exits 1 when ``valid`` is false. Subclasses declare both
    fields where their dict has them."""

    valid: bool
    reason: str


class Listing(Result):
    """A result the CLI prints one line per item (``cert list``)."""


class Pem(Result):
    """PEM text, printed as it is unless it was written to ``paths``."""

    pem: str
    paths: list[str] | None
