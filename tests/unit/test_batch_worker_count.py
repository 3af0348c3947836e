"""How many worker processes a batch uses (``ops.cert.batch_workers.worker_count``)
and how a batch is cut into slices."""

import os
import threading

import pytest

from qpki.ops.cert import batch_workers
from qpki.ops.cert.batch_workers import MIN_PER_WORKER, worker_count


@pytest.fixture
def four_cpus(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(threading, "active_count", lambda: 1)


def test_automatic_count_needs_enough_csrs_per_worker(four_cpus):
    assert worker_count(None, 1) == 1
    assert worker_count(None, 2 * MIN_PER_WORKER - 1) == 1
    assert worker_count(None, 2 * MIN_PER_WORKER) == 2
    assert worker_count(None, 3 * MIN_PER_WORKER + 5) == 3
    assert worker_count(None, 100 * MIN_PER_WORKER) == 4  # never more than the CPUs


def test_requested_count_is_capped_by_the_csrs(four_cpus):
    assert worker_count(1, 10_000) == 1
    assert worker_count(8, 10_000) == 8  # the caller may ask for more than the CPUs
    assert worker_count(8, 3) == 3


def test_no_workers_while_other_threads_run(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert worker_count(4, 10_000) == 1
        assert worker_count(None, 10_000) == 1
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("count,workers", [(10, 3), (7, 7), (130, 2), (5, 1)])
def test_slices_cover_every_item_once_in_order(count, workers):
    bounds = batch_workers._slices(count, workers)  # noqa: SLF001
    assert len(bounds) == workers
    covered = [n for start, end in bounds for n in range(start, end)]
    assert covered == list(range(count))
    sizes = [end - start for start, end in bounds]
    assert max(sizes) - min(sizes) <= 1
