"""Duration strings such as ``7300d``, ``1y``, ``8h``, ``30m`` or ``1d12h``.

Units: ``y`` (365 days), ``w`` (7 days), ``d``, ``h``, ``m`` (minutes), ``s``.
Several number+unit pairs may follow each other, largest unit first or not.
"""

import datetime
import re

from .messages import Invalid, quote

_UNIT_SECONDS = {
    "y": 365 * 86400,
    "w": 7 * 86400,
    "d": 86400,
    "h": 3600,
    "m": 60,
    "s": 1,
}
_PART = re.compile(r"(\d+)([ywdhms])")
_WHOLE = re.compile(r"(?:\d+[ywdhms])+")


def parse_duration(text):
    """Return a positive ``timedelta`` for ``text``; raise Invalid otherwise."""
    if isinstance(text, datetime.timedelta):
        if text.total_seconds() <= 0:
            raise Invalid("duration must be positive")
        return text
    if not isinstance(text, str):
        raise Invalid("%s is not a duration (use a string like 365d, 8h or 1y)" % quote(text))
    compact = text.strip().lower()
    if not _WHOLE.fullmatch(compact):
        raise Invalid("%s is not a duration (use a string like 365d, 8h or 1y)" % quote(text))
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(compact))
    if seconds <= 0:
        raise Invalid("%s is not a positive duration" % quote(text))
    return datetime.timedelta(seconds=seconds)


def format_duration(delta):
    """Shortest exact string for ``delta`` in d/h/m/s (``7300d``, ``1d12h``)."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size:
            parts.append("%d%s" % (seconds // size, unit))
            seconds %= size
    return "".join(parts) or "0s"
