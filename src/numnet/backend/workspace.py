"""A small pool of scratch buffers reused across calls (column buffers, padded copies).

Why: the columns of a convolution are large (58 MB for the W1 benchmark) and the
operating system hands out freshly allocated memory one zeroed 4 KiB page at a
time, on first touch. Allocating them anew at every training step costs ~15,000
page faults per step, several milliseconds. Buffers given back to the pool are
handed out again to the next request of a similar size, already mapped.

The pool keeps at most ``numnet.config.get().memory_budget`` bytes of free
buffers. Only code that owns a buffer exclusively may give it back.
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from numnet import config

_free: list[np.ndarray] = []  # 1-D uint8 buffers, least recently returned first
_ours: dict[int, weakref.ref] = {}  # id -> weakref of every buffer made by take()


def take(shape, dtype) -> np.ndarray:
    """An uninitialised array of ``shape`` and ``dtype``, from the pool if possible.

    A free buffer is reused when it holds the request and is at most twice its size
    (plus 1 MiB), so a small request never pins a huge buffer.
    """
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    best = None
    for k, buf in enumerate(_free):
        fits = nbytes <= buf.nbytes <= 2 * nbytes + 2**20
        if fits and (best is None or buf.nbytes < _free[best].nbytes):
            best = k
    if best is not None:
        buf = _free.pop(best)
    else:
        buf = np.empty(nbytes, np.uint8)
        key = id(buf)
        _ours[key] = weakref.ref(buf, lambda _: _ours.pop(key, None))
    return buf[:nbytes].view(dtype).reshape(shape)


def give(*arrays) -> None:
    """Return arrays obtained from :func:`take` (None entries are ignored)."""
    for array in arrays:
        if array is None:
            continue
        root = array
        while root.base is not None:
            root = root.base
        ref = _ours.get(id(root))
        if ref is None or ref() is not root or any(buf is root for buf in _free):
            continue  # not one of ours, or already returned
        _free.append(root)
    budget = config.get().memory_budget
    while _free and sum(buf.nbytes for buf in _free) > budget:
        _free.pop(0)


def clear() -> None:
    """Drop every pooled buffer (the memory goes back to the allocator)."""
    _free.clear()


def pooled_bytes() -> int:
    """Bytes currently held by free buffers in the pool."""
    return sum(buf.nbytes for buf in _free)
