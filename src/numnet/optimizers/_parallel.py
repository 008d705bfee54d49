"""Split the elementwise optimizer updates of large parameters across threads.

Every update rule is elementwise, so a parameter, its gradient and its slots can
be cut into contiguous pieces that are updated independently, with bit-identical
results. NumPy releases the GIL inside ufunc loops, so the pieces of one large
parameter run truly in parallel (PyTorch's CPU optimizers are multi-threaded
the same way). Parameters smaller than ``MIN_ELEMENTS`` are not worth a thread
hop and run on the calling thread.
"""

from __future__ import annotations

import numpy as np

from numnet._kernels.threads import get_pool, num_threads

#: Parameters with fewer elements are updated on the calling thread.
MIN_ELEMENTS = 1 << 17


def _pieces(w: np.ndarray, g: np.ndarray, slots: dict, n: int):
    """n views (w, g, slots) over contiguous ranges, or None if not contiguous."""
    arrays = [w, g, *slots.values()]
    if not all(a.flags.c_contiguous and a.shape == w.shape for a in arrays):
        return None
    flat_w, flat_g = w.reshape(-1), g.reshape(-1)
    flat_slots = {k: v.reshape(-1) for k, v in slots.items()}
    bounds = np.linspace(0, w.size, n + 1).astype(int)
    return [
        (flat_w[a:b], flat_g[a:b], {k: v[a:b] for k, v in flat_slots.items()})
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def run_updates(update, jobs) -> None:
    """Call ``update(w, g, slots)`` for every job, large ones split over threads.

    Args:
        update: the per-array update (in place).
        jobs: ``(w, g, slots)`` triples; ``slots`` must already hold every array
            the update touches (including its scratch buffer).
    """
    if all(w.size < MIN_ELEMENTS for w, _, _ in jobs):  # small: no thread lookup
        for w, g, slots in jobs:
            update(w, g, slots)
        return
    n = num_threads()
    futures = []
    inline = []
    for w, g, slots in jobs:
        pieces = _pieces(w, g, slots, n) if n > 1 and w.size >= MIN_ELEMENTS else None
        if pieces is None:
            inline.append((w, g, slots))
            continue
        pool = get_pool(n - 1)
        futures += [pool.submit(update, *piece) for piece in pieces[1:]]
        inline.append(pieces[0])
    try:
        for w, g, slots in inline:
            update(w, g, slots)
    finally:
        for future in futures:
            future.result()
