"""numnet's one kernel thread pool: run the batch items of a kernel on threads.

NumPy releases the GIL inside its copy and ufunc loops, so the halves of a
batch really run in parallel: im2col, col2im and pooling are memory-bound
loops that NumPy runs on one core while BLAS already uses them all (PyTorch
parallelizes the same loops with OpenMP). Every piece writes its own slice of
preallocated outputs, so results are bit-identical to the one-thread run.

The thread count is ``numnet.config.num_threads()``: the ``num_threads``
setting, else ``NUMNET_NUM_THREADS``, else the number of CPUs
(``OMP_NUM_THREADS`` sizes BLAS and is not read). The pool is created once, on
first use, and never rebuilt; a later, larger count queues its extra pieces.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from numnet import config

#: Kernels touching fewer elements than this run on the calling thread: a
#: thread hop costs tens of microseconds, about what a one-megabyte pass takes.
MIN_ELEMENTS = 1 << 18

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_PREFIX = "numnet-worker"


def num_threads() -> int:
    """Threads used by kernels (see :func:`numnet.config.num_threads`)."""
    return config.num_threads()


def get_pool(workers: int) -> ThreadPoolExecutor:
    """The shared pool, created once with ``workers`` threads on first use."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(
                    max_workers=max(1, workers), thread_name_prefix=_PREFIX
                )
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
    if elements < MIN_ELEMENTS or n <= 1:  # small work: no setting to look up
        run(0, n)
        return
    k = min(num_threads(), n)
    if k <= 1 or _in_pool():
        run(0, n)
        return
    bounds = [n * i // k for i in range(k + 1)]
    pool = get_pool(max(k, num_threads()) - 1)
    futures = [
        pool.submit(run, a, b) for a, b in zip(bounds[1:-1], bounds[2:], strict=True)
    ]
    try:
        run(bounds[0], bounds[1])
    finally:
        for future in futures:
            future.result()
