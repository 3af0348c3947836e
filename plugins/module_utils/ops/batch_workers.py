"""Batch signing spread over worker processes.

Checking a CSR's signature and signing a certificate are CPU work, and one
Python process does them one at a time. A large batch is therefore cut into
contiguous slices, one per forked worker. A worker starts with everything
the parent had opened: the CA certificate, software keys, loaded profiles
and the serials the parent drew. Each worker

1. validates its slice and reports "ready", or reports its first bad item;
2. waits: it signs only after every worker has validated its slice, so a
   bad CSR anywhere in the batch means nothing was signed at all;
3. signs its slice and sends the results back.

The parent collects the results in input order and does all the writing
itself, as a single-process batch would. Workers never write a file.

A key in an HSM stays with the parent, because a PKCS#11 session belongs
to the process that opened it: the caller's ``setup`` swaps it for a
``DeferredSigner`` in each worker, and the parent makes the signatures in
its one logged-in session once the results are back (see ``ops.batch``).

Messages are pickled and length-prefixed on a pair of pipes per worker.
Only the parent's own forks are at the other end.
"""

import os
import pickle
import signal
import struct
import threading

from .. import errors
from ..errors import QpkiError

MIN_PER_WORKER = 64  # below this many CSRs per worker a fork costs more than it saves

_LENGTH = struct.Struct("!Q")


def worker_count(requested, items):
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


def run_in_workers(items, workers, validate, sign, setup=None, before_signing=None,
                   abandon=None):
    """``sign(validated, start)`` for each slice of ``items`` in ``workers``
    forked processes, once ``validate(item)`` has passed for every item.

    ``validate`` returns what ``sign`` needs for one item or raises
    QpkiError. ``sign`` gets a slice's validated items and the position of
    its first item, and returns something picklable. ``setup()`` runs first
    in each worker; ``before_signing()`` runs here once every item is valid,
    before any worker signs; ``abandon(result)`` is called here for each
    slice's result when another slice's signing failed.

    Returns the results of the slices in input order. Raises the error of
    the first bad item in input order, or of the first slice whose signing
    failed. Every worker has exited when this returns or raises.
    """
    bounds = _slices(len(items), workers)
    children = []
    try:
        for start, end in bounds:
            children.append(_Child.start(items[start:end], start, validate, sign, setup,
                                         children))
        _collect(children)
        if before_signing is not None:
            before_signing()
        for child in children:
            child.channel.send("go")
        return _collect(children, abandon)
    finally:
        for child in children:
            child.stop()


def _slices(count, workers):
    size, extra = divmod(count, workers)
    bounds, start = [], 0
    for number in range(workers):
        end = start + size + (1 if number < extra else 0)
        bounds.append((start, end))
        start = end
    return bounds


def _collect(children, abandon=None):
    """One message from each child, in child order: their payloads, or the
    error of the first bad item in input order among those reported (after
    ``abandon(payload)`` for each payload received)."""
    messages = []
    try:
        for child in children:
            messages.append(child.receive())
    finally:
        failed = len(messages) < len(children) or any(m[0] == "error" for m in messages)
        if failed and abandon is not None:
            for message in messages:
                if message[0] != "error":
                    abandon(message[1])
    failures = [message[1:] for message in messages if message[0] == "error"]
    if failures:
        _position, name, text = min(failures)
        cls = getattr(errors, name, QpkiError)
        raise (cls if isinstance(cls, type) and issubclass(cls, QpkiError) else QpkiError)(text)
    return [message[1] for message in messages]


class _Channel:
    """Length-prefixed pickled messages over two pipe ends."""

    def __init__(self, read_fd, write_fd):
        self.read_fd = read_fd
        self.write_fd = write_fd

    def send(self, message):
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        view = memoryview(_LENGTH.pack(len(data)) + data)
        while view:
            view = view[os.write(self.write_fd, view):]

    def receive(self):
        (size,) = _LENGTH.unpack(self._read(_LENGTH.size))
        return pickle.loads(self._read(size))

    def _read(self, size):
        chunks = []
        while size:
            chunk = os.read(self.read_fd, min(size, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def close(self):
        for fd in (self.read_fd, self.write_fd):
            try:
                os.close(fd)
            except OSError:
                pass


class _Child:
    """A forked worker as the parent sees it."""

    def __init__(self, pid, channel, start):
        self.pid = pid
        self.channel = channel
        self.start_position = start

    @classmethod
    def start(cls, items, start, validate, sign, setup, siblings):
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

    def receive(self):
        try:
            return self.channel.receive()
        except EOFError:
            raise QpkiError("batch worker for the CSRs from position %d stopped unexpectedly"
                            % (self.start_position + 1)) from None

    def stop(self):
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


def _work(channel, items, start, validate, sign, setup):
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
            results = sign(validated, start)
        except QpkiError as exc:
            channel.send(("error", start, type(exc).__name__, str(exc)))
            return
        channel.send(("done", results))
    except BaseException as exc:  # noqa: BLE001 - the worker reports, then exits
        code = 1
        try:
            channel.send(("error", start, "QpkiError",
                          "internal error in a batch worker (%s)" % type(exc).__name__))
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)
