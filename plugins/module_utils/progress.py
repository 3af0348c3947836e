"""Progress of long work (a batch of 100,000 CSRs, a CRL of 1,000,000
entries), reported to a callback the caller gives. The core never prints:
the CLI draws the callback's reports as a bar on a terminal, the modules
give none."""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, Optional, TypeVar

# progress(stage, done, total): ``done`` of ``total`` items (None: not known)
# in the stage named (e.g. "signing certificates").
ProgressCallback = Callable[[str, int, Optional[int]], None]

T = TypeVar("T")
EVERY = 1000  # items between two reports of a long loop


def counted(items: Iterable[T], progress: ProgressCallback | None, stage: str,
            total: int | None, every: int = EVERY) -> Iterator[T]:
    """``items``, reporting to ``progress`` every ``every`` items and at the
    end (``items`` itself when there is no callback)."""
    if progress is None:
        yield from items
        return
    done = 0
    progress(stage, 0, total)
    for item in items:
        yield item
        done += 1
        if done % every == 0:
            progress(stage, done, total)
    progress(stage, done, total)
