"""Batch signing spread over worker processes.

Checking a CSR's signature and signing a certificate are CPU work, and one
Python process does them one at a time. A large batch is therefore cut into
contiguous slices, one per forked worker. A worker starts with everything
the parent had opened: the CA certificate, software keys, loaded profiles
and the serials the parent drew. Each worker

1. validates its slice and reports "ready", or reports its first bad item;
2. waits: it signs only after every worker has validated its slice, so a
   bad CSR anywhere in the batch means nothing was signed at all;
3. signs its slice and sends the results back in parts, which the parent
   handles as they come (it writes the files while the workers sign).

The parent does all the writing itself, as a single-process batch would:
workers never write a file (creating files in one directory from several
processes is slower than from one).

A key in an HSM stays with the parent, because a PKCS#11 session belongs
to the process that opened it: the caller's ``setup`` swaps it for a
``DeferredSigner`` in each worker, and the parent makes the signatures in
its one logged-in session as the results come in (``ops.cert.batch_parallel``).

Messages are pickled and length-prefixed on a pair of pipes per worker.
Only the parent's own forks are at the other end.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ... import errors
from ...errors import QpkiError

MIN_PER_WORKER = 64  # below this many CSRs per worker a fork costs more than it saves

_LENGTH = struct.Struct("!Q")

# What the callers give: validate(item), sign(validated, start) yielding parts,
# receive(slice number, part), setup() and before_signing().
Validate = Callable[[Any], Any]
Sign = Callable[[list, int], Iterable[Any]]
Receive = Callable[[int, Any], None]
Hook = Callable[[], Any]


def worker_count(requested: int | None, items: int) -> int:
    """How many processes to use for ``items`` CSRs.

    ``requested`` is the caller's number (1 means this process only). None
    means automatic: one per CPU this process may use, with at least
    MIN_PER_WORKER CSRs each. The answer is always 1 without ``os.fork``
    or while other threads run (a fork copies only the calling thread)."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return 1
    if requested is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:
            cpus = os.cpu_count() or 1
        requested = min(cpus, items // MIN_PER_WORKER)
    return max(1, min(requested, items))


def run_in_workers(items: Sequence[Any], workers: int, validate: Validate, sign: Sign,
                   receive: Receive, setup: Hook | None = None,
                   before_signing: Hook | None = None) -> None:
    """Validate every item, then sign them all, in ``workers`` forked
    processes, each with a contiguous slice of ``items``.

    ``validate(item)`` returns what ``sign`` needs for one item or raises
    QpkiError. ``sign(validated, start)`` gets a slice's validated items and
    the position of its first item, and yields picklable parts of its
    results, which are handed here to ``receive(slice_number, part)`` as
    they arrive (so this process works on them while the workers go on).
    ``setup()`` runs first in each worker; ``before_signing()`` runs here
    once every item is valid, before any worker signs.

    Raises the error of the first bad item in input order, or of the first
    slice whose signing failed. Every worker has exited when this returns
    or raises.
    """
    bounds = _slices(len(items), workers)
    children: list[_Child] = []
    try:
        for start, end in bounds:
            children.append(_Child.start(items[start:end], start, validate, sign, setup,
                                         children))
        _collect(children)
        if before_signing is not None:
            before_signing()
        for child in children:
            child.channel.send("go")
        _collect(children, receive)
    finally:
        for child in children:
            child.stop()


def _slices(count: int, workers: int) -> list[tuple[int, int]]:
    size, extra = divmod(count, workers)
    bounds: list[tuple[int, int]] = []
    start = 0
    for number in range(workers):
        end = start + size + (1 if number < extra else 0)
        bounds.append((start, end))
        start = end
    return bounds


def _collect(children: list[_Child], receive: Receive | None = None) -> None:
    """Read every child until it reports the end of its phase ("ready" or
    "done") or an error, handing each "part" it sends to ``receive``. Then
    raise the error of the first bad item in input order, if any."""
    failures = []
    waiting = {child.channel.read_fd: number for number, child in enumerate(children)}
    while waiting:
        readable, _w, _x = select.select(list(waiting), [], [])
        for fd in readable:
            number = waiting[fd]
            message = children[number].receive()
            if message[0] == "part":
                if receive is None:  # a worker sends parts only after "go"
                    raise QpkiError("internal error: a batch worker sent certificates "
                                    "before it was told to sign")
                receive(number, message[1])
                continue
            del waiting[fd]
            if message[0] == "error":
                failures.append(message[1:])
    if failures:
        _position, name, text = min(failures)
        cls = getattr(errors, name, QpkiError)
        raise (cls if isinstance(cls, type) and issubclass(cls, QpkiError) else QpkiError)(text)


class _Channel:
    """Length-prefixed pickled messages over two pipe ends."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd

    def send(self, message: Any) -> None:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        view = memoryview(_LENGTH.pack(len(data)) + data)
        while view:
            view = view[os.write(self.write_fd, view):]

    def receive(self) -> Any:
        (size,) = _LENGTH.unpack(self._read(_LENGTH.size))
        return pickle.loads(self._read(size))

    def _read(self, size: int) -> bytes:
        chunks = []
        while size:
            chunk = os.read(self.read_fd, min(size, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            try:
                os.close(fd)
            except OSError:
                pass


class _Child:
    """A forked worker as the parent sees it."""

    def __init__(self, pid: int, channel: _Channel, start: int) -> None:
        self.pid = pid
        self.channel = channel
        self.start_position = start

    @classmethod
    def start(cls, items: Sequence[Any], start: int, validate: Validate, sign: Sign,
              setup: Hook | None, siblings: list[_Child]) -> _Child:
        from_parent, to_child = os.pipe()
        from_child, to_parent = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            os.close(to_child)
            os.close(from_child)
            for sibling in siblings:
                sibling.channel.close()
            _work(_Channel(from_parent, to_parent), items, start, validate, sign, setup)
        os.close(from_parent)
        os.close(to_parent)
        return cls(pid, _Channel(from_child, to_child), start)

    def receive(self) -> Any:
        try:
            return self.channel.receive()
        except EOFError:
            raise QpkiError("batch worker for the CSRs from position %d stopped unexpectedly"
                            % (self.start_position + 1)) from None

    def stop(self) -> None:
        """Kill the worker if it still runs, reap it, close the pipes."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self.channel.close()


def _work(channel: _Channel, items: Sequence[Any], start: int, validate: Validate, sign: Sign,
          setup: Hook | None) -> None:
    """The worker's whole life; it leaves through ``os._exit`` only (no
    finalizer, atexit handler or inherited buffer of the parent runs)."""
    code = 0
    try:
        if setup is not None:
            setup()
        validated = []
        for offset, item in enumerate(items):
            try:
                validated.append(validate(item))
            except QpkiError as exc:
                channel.send(("error", start + offset, type(exc).__name__, str(exc)))
                return
        channel.send(("ready", None))
        if channel.receive() != "go":
            return
        try:
            for part in sign(validated, start):
                channel.send(("part", part))
        except QpkiError as exc:
            channel.send(("error", start, type(exc).__name__, str(exc)))
            return
        channel.send(("done", None))
    except BaseException as exc:  # noqa: BLE001 - the worker reports, then exits
        code = 1
        try:
            channel.send(("error", start, "QpkiError",
                          "internal error in a batch worker (%s)" % type(exc).__name__))
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)
