"""CA directory lock: mutual exclusion across processes and threads, timeouts.

No assertion here depends on how fast the machine is: waiting and giving up
are observed through the lock's own clock (``FakeClock`` / ``WatchedClock``
stand in for the ``time`` module of qpki.store.lock), not measured."""

import multiprocessing
import threading
import time

import pytest

from qpki.errors import StoreError
from qpki.store import lock
from qpki.store.lock import ca_lock

ROUNDS = 100


def bump(counter):
    value = int(counter.read_text())
    time.sleep(0)  # give a racing writer every chance to interleave
    counter.write_text(str(value + 1))


def worker(ca_dir, rounds):
    counter = ca_dir / "counter"
    for dummy in range(rounds):
        with ca_lock(ca_dir, timeout=60):
            bump(counter)


def test_four_processes_never_lose_an_increment(tmp_path):
    (tmp_path / "counter").write_text("0")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=worker, args=(tmp_path, ROUNDS)) for dummy in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    assert int((tmp_path / "counter").read_text()) == 4 * ROUNDS


def test_four_threads_never_lose_an_increment(tmp_path):
    (tmp_path / "counter").write_text("0")
    errors = []

    def run():
        try:
            worker(tmp_path, ROUNDS)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=run) for dummy in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert int((tmp_path / "counter").read_text()) == 4 * ROUNDS


def hold_lock(ca_dir, ready, release):
    with ca_lock(ca_dir):
        ready.set()
        release.wait(30)


class FakeClock:
    """The lock's clock in these tests: sleeping moves it, nothing else does."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class WatchedClock:
    """The real clock, with an event set when the lock first backs off (it
    found the lock taken and waits before trying again)."""

    monotonic = staticmethod(time.monotonic)

    def __init__(self):
        self.backed_off = threading.Event()

    def sleep(self, seconds):
        self.backed_off.set()
        time.sleep(seconds)


def test_timeout_names_the_directory(tmp_path, monkeypatch):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=hold_lock, args=(tmp_path, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        clock = FakeClock()
        monkeypatch.setattr(lock, "time", clock)
        with pytest.raises(StoreError) as info:
            with ca_lock(tmp_path, timeout=0.3):
                pass
        monkeypatch.undo()
        # It tried again and again, and gave up exactly when its clock
        # reached the timeout: not before, not later.
        assert len(clock.sleeps) > 3
        assert clock.now - 1000.0 == pytest.approx(0.3)
        assert all(0 < pause <= 0.1 for pause in clock.sleeps)
        message = str(info.value)
        assert str(tmp_path) in message and "timed out" in message
        assert "\n" not in message
    finally:
        release.set()
        holder.join(30)
    # Released by the holder: available again.
    with ca_lock(tmp_path, timeout=5):
        pass


def test_other_thread_waits_then_gets_the_lock(tmp_path, monkeypatch):
    order = []
    inside = threading.Event()
    clock = WatchedClock()
    monkeypatch.setattr(lock, "time", clock)

    def other():
        inside.wait(30)
        with ca_lock(tmp_path, timeout=60):
            order.append("other")

    thread = threading.Thread(target=other)
    thread.start()
    with ca_lock(tmp_path):
        inside.set()
        # The other thread found the lock taken and is waiting for it.
        assert clock.backed_off.wait(30)
        order.append("main")
    thread.join(60)
    assert order == ["main", "other"]


def test_timeout_zero_tries_once(tmp_path):
    result = []

    def other():
        try:
            with ca_lock(tmp_path, timeout=0):
                result.append("got it")
        except StoreError as err:
            result.append(str(err))

    with ca_lock(tmp_path):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(5)
    assert "timed out" in result[0]


def _other_thread_can_lock(ca_dir):
    result = []

    def other():
        try:
            with ca_lock(ca_dir, timeout=0):
                result.append(True)
        except StoreError:
            result.append(False)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(10)
    return result[0]


def test_nested_lock_in_same_thread_is_reentrant(tmp_path):
    """Authority takes the lock before reading secrets; the operation takes
    it again around its writes: the inner take returns at once and the
    lock stays held until the outer block ends."""
    with ca_lock(tmp_path):
        with ca_lock(tmp_path, timeout=0):
            assert not _other_thread_can_lock(tmp_path)
        assert not _other_thread_can_lock(tmp_path)
    assert _other_thread_can_lock(tmp_path)


def test_missing_directory(tmp_path):
    with pytest.raises(StoreError, match="no such directory"):
        with ca_lock(tmp_path / "missing"):
            pass


def test_lock_released_when_block_raises(tmp_path):
    with pytest.raises(ValueError):
        with ca_lock(tmp_path):
            raise ValueError("boom")
    with ca_lock(tmp_path, timeout=0):
        pass
