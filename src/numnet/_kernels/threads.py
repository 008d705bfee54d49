"""Run the batch items of a memory-bound kernel on several threads.

NumPy releases the GIL inside its copy and ufunc loops, so the halves of a
batch really run in parallel: im2col, col2im and pooling are memory-bound
loops that NumPy runs on one core while BLAS already uses them all (PyTorch
parallelizes the same loops with OpenMP). Every piece writes its own slice of
preallocated outputs, so results are bit-identical to the one-thread run.

The thread count is ``NUMNET_NUM_THREADS``, else ``OMP_NUM_THREADS``, else
the number of CPUs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

#: Kernels touching fewer elements than this run on the calling thread: a
#: thread hop costs tens of microseconds, about what a one-megabyte pass takes.
MIN_ELEMENTS = 1 << 18

_CPUS = os.cpu_count() or 1

_pool: ThreadPoolExecutor | None = None
_PREFIX = "numnet-worker"


def num_threads() -> int:
    """Threads used: ``NUMNET_NUM_THREADS``, else ``OMP_NUM_THREADS``, else CPUs."""
    for name in ("NUMNET_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return _CPUS


def get_pool(workers: int) -> ThreadPoolExecutor:
    """A shared pool of ``workers`` threads (recreated if the count changes)."""
    global _pool
    if _pool is None or _pool._max_workers != workers:
        _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=_PREFIX)
    return _pool


def _in_pool() -> bool:
    """True on one of the pool's threads: nested calls run inline (no deadlock)."""
    return threading.current_thread().name.startswith(_PREFIX)


def over_batch(run: Callable[[int, int], None], n: int, elements: int) -> None:
    """Call ``run(start, stop)`` on contiguous ranges covering ``range(n)``.

    Args:
        run: processes items ``start:stop`` (writes only their outputs).
        n: the number of batch items.
        elements: the work's size in array elements, to skip threads when small.
    """
    k = min(num_threads(), n)
    if k <= 1 or elements < MIN_ELEMENTS or _in_pool():
        run(0, n)
        return
    bounds = [n * i // k for i in range(k + 1)]
    pool = get_pool(k - 1)
    futures = [
        pool.submit(run, a, b) for a, b in zip(bounds[1:-1], bounds[2:], strict=True)
    ]
    try:
        run(bounds[0], bounds[1])
    finally:
        for future in futures:
            future.result()
