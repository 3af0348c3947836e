"""Progress bars for long work, on a terminal only.

The core reports progress to a callback (``progress.ProgressCallback``);
this draws it on stderr with tqdm, one bar per stage, erased when the stage
ends. Nothing is drawn with ``--json`` or when stderr is not a terminal
(a pipe, a file, a CI log), and tqdm is then not even imported.
"""

from __future__ import annotations

import contextlib
import sys
from typing import IO, Any, Iterator

from ..progress import ProgressCallback


class TerminalProgress:
    """A ProgressCallback drawing one tqdm bar per stage on ``stream``."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.stage: str | None = None
        self.meter: Any = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage != self.stage:
            self.close()
            from tqdm import tqdm

            self.meter = tqdm(total=total, desc=stage, file=self.stream, leave=False,
                              dynamic_ncols=True, unit="")
            self.stage = stage
        self.meter.update(done - self.meter.n)

    def close(self) -> None:
        if self.meter is not None:
            self.meter.close()
        self.meter, self.stage = None, None


@contextlib.contextmanager
def terminal_progress(args: object) -> Iterator[ProgressCallback | None]:
    """A progress callback when stderr is a terminal and ``--json`` is not
    given, else None; its bar is closed when the block ends."""
    stream = sys.stderr
    if getattr(args, "json", False) or not stream.isatty():
        yield None
        return
    reporter = TerminalProgress(stream)
    try:
        yield reporter
    finally:
        reporter.close()
