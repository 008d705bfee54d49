"""Max and average pooling on raw channels-last ndarrays.

The general path loops over the KH*KW offsets (i, j) of the pooling window;
offset (i, j) sees the strided view x_ij (N, OH, OW, C) of the padded input
(``window_view``).

Max pooling keeps a running maximum and the index of the winning offset. The
update uses a strict ``>``, and the offsets are visited column by column (j
outer, i inner), so among equal values the first cell in column-major window
order wins: one deterministic winner per window, which alone receives the
gradient (``dx_ij += gy * (argmax == k)``). "same" padding pads with -inf, so a
padded cell never wins.

When windows tile the input exactly (stride == pool size, no padding: the usual
2x2 pool), max pooling runs in two stages instead. Stage A takes the maximum
over the KH rows of each window, comparing whole image rows (long contiguous
runs, fast in NumPy) and recording the winning row per column; stage B takes the
maximum over the KW columns of that half-size result, recording the winning
column. The same column-major tie rule falls out: stage A keeps the first row of
each column, stage B the first column. Backward undoes the stages: gy goes to
the winning column (stage B), then down to the winning row (stage A), the last
step again as whole-row operations. With C channels innermost, an operation over
the offset views runs C-long inner loops, so doing most of the work in stage A
is what makes this 2-3x faster than the offset loop (docs/decisions.md). A
stage over two offsets (2x2) is two passes, ``max`` and ``v1 > v0``; the batch
goes through a few images at a time (``CACHE_BYTES``) so that the half-size
intermediate never leaves the cache, on one thread.

Which of these runs is the ``method`` argument: "auto" (the CPU choice below),
"offsets" (the offset loop), "two_stage" (tiling windows only) or
"reference" (a portable offset loop written against the array namespace of
the input, with ``xp.where`` instead of ``out=`` tricks and kernel threads: the
oracle, and the default for arrays that are not NumPy's).

Average pooling divides by the number of *valid* cells under each window (for
"same" padding that count is smaller at the borders, as in Keras/TensorFlow):
y = sum_ij x_ij / count, dx_ij += gy / count. When windows tile the input,
backward writes dx in one broadcast operation through the (N, OH, KH, OW, KW, C)
view of the input instead of looping over offsets.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet._kernels import threads
from numnet._kernels.im2col import (
    Geometry,
    _window_slices,
    pad,
    pad_into,
    unpad,
    window_view,
)

METHODS = ("auto", "offsets", "two_stage", "reference")

#: The two-stage path works through the batch in blocks whose stage-A
#: scratch is about this size, so that the half-size intermediate stays in the
#: L2 cache. It runs on the calling thread: split over two threads, its many
#: block-sized ufunc calls hand the GIL to and fro (the W5 step was 2-4 %
#: slower than on one thread; the pool alone, W3, faster: docs/decisions.md).
CACHE_BYTES = 1 << 18


def pool_method(x, g: Geometry, method: str = "auto") -> str:
    """The max-pool path that runs: "reference" off NumPy, else by ``method``.

    Raises:
        ValueError: for an unknown method, or "two_stage" on windows that do
            not tile the input.
    """
    if method not in METHODS:
        raise ValueError(
            f"max_pool2d: invalid value for argument 'method'. Expected one of "
            f"{METHODS}. Received: method={method!r}"
        )
    if backend.get_array_module(x) is not np:
        return "reference"
    if method == "two_stage" and not _tiles(g):
        raise ValueError(
            "max_pool2d: method='two_stage' needs windows that tile the input "
            f"(stride == pool size, no padding). Received: pool {(g.KH, g.KW)}, "
            f"strides {(g.sh, g.sw)}, padding {((g.pt, g.pb), (g.pl, g.pr))}"
        )
    if method == "auto":
        return "two_stage" if _tiles(g) else "offsets"
    return method


def _tiles(g: Geometry) -> bool:
    """True when the windows are disjoint, cover rows/cols 0..OH*KH-1, no padding."""
    return not g.padded and (g.sh, g.sw) == (g.KH, g.KW) and (g.dh, g.dw) == (1, 1)


def _tiled(a: np.ndarray, g: Geometry) -> np.ndarray:
    """The (N, OH, KH, OW, KW, C) view of the part of ``a`` the windows cover."""
    N, C = a.shape[0], a.shape[3]
    covered = a[:, : g.OH * g.KH, : g.OW * g.KW]
    return covered.reshape(N, g.OH, g.KH, g.OW, g.KW, C)


def _tiled_output(x_shape, dtype, g: Geometry) -> np.ndarray:
    """An input-gradient array, zeroed only if some cells lie outside every window."""
    covers = g.OH * g.KH == g.H and g.OW * g.KW == g.W
    return np.empty(x_shape, dtype) if covers else np.zeros(x_shape, dtype)


def max_pool_forward(x, g: Geometry, method: str = "auto"):
    """Return (y, winners): the window maxima (a new array) and what backward
    needs to route gy.

    ``winners`` is (winning row per column, winning column) for the two-stage
    path, else the position of each window's winning offset in the column-major
    visit order (uint8, or int32 for windows of more than 256 cells).
    ``method`` picks the path (module docstring); pass the same to backward.
    """
    method = pool_method(x, g, method)
    if method == "reference":
        return _reference_max_forward(x, g)
    if method == "two_stage":
        return _tiled_max_forward(x, g)
    x_padded = pad_into(x, g, value=-np.inf) if g.padded else x
    shape = (x.shape[0], g.OH, g.OW, x.shape[3])
    best = np.empty(shape, x.dtype)
    argmax = np.empty(shape, _index_type(g.KH * g.KW))

    def run(a, b):
        _max_pool_into(x_padded[a:b], g, best[a:b], argmax[a:b])

    threads.over_batch(run, shape[0], best.size * g.KH * g.KW)
    return best, argmax


def _index_type(count: int):
    return np.uint8 if count <= 256 else np.int32


def _column_major_offsets(g: Geometry) -> list[tuple[int, int]]:
    """Window offsets (i, j) in the order they are visited: column by column."""
    return [(i, j) for j in range(g.KW) for i in range(g.KH)]


def _max_pool_into(x_padded, g: Geometry, best, argmax) -> None:
    views = [window_view(x_padded, g, i, j) for i, j in _column_major_offsets(g)]
    best[...] = views[0]
    _running_max(views, best, argmax)


def _running_max(views, best, index) -> None:
    """best = max over ``views`` (best starts as views[0]); index = first winner."""
    index[...] = 0
    for k, v in enumerate(views[1:], start=1):
        wins = v > best  # strict: ties keep the earlier view
        np.maximum(best, v, out=best)
        # index = k where v won: k exceeds every earlier index, so a branch-free
        # max(index, wins * k) does it (a masked assignment is 30x slower)
        np.maximum(index, np.multiply(wins, index.dtype.type(k)), out=index)


def _tiled_max_forward(x: np.ndarray, g: Geometry):
    N, C, KH, KW, OH, OW = x.shape[0], x.shape[3], g.KH, g.KW, g.OH, g.OW
    covered = x[:, : OH * KH, : OW * KW]
    row_won = np.empty((N, OH, OW * KW, C), _index_type(KH))
    best = np.empty((N, OH, OW, C), x.dtype)  # stage B: over columns j
    col_won = np.empty(best.shape, _index_type(KW))

    def run(a, b):
        step = _cache_items(row_won[0].size * x.itemsize)
        rows_best = np.empty((step,) + row_won.shape[1:], x.dtype)  # stage A
        for c in range(a, b, step):  # a few images at a time: rows_best in cache
            d = min(b, c + step)
            stage_a = rows_best[: d - c]
            rows = [covered[c:d, i::KH] for i in range(KH)]
            _max_and_winner(rows, stage_a, row_won[c:d])
            cols = stage_a.reshape(d - c, OH, OW, KW, C)
            cols = [cols[:, :, :, j] for j in range(KW)]
            _max_and_winner(cols, best[c:d], col_won[c:d])

    run(0, N)  # one thread: see CACHE_BYTES
    return best, (row_won, col_won)


def _cache_items(item_bytes: int) -> int:
    """Images per block so that a block's stage-A scratch stays in the L2 cache."""
    return max(1, CACHE_BYTES // max(1, item_bytes))


def _max_and_winner(views, best, index) -> None:
    """best = max over ``views``; index = the first view holding it.

    Two views (the 2x2 pool) take two passes: ``max`` and ``v1 > v0`` written
    straight into the uint8 index as booleans (a tie keeps view 0). More views
    run the general running maximum.
    """
    if len(views) == 2:
        np.maximum(views[0], views[1], out=best)
        np.greater(views[1], views[0], out=index.view(np.bool_))
        return
    best[...] = views[0]
    _running_max(views, best, index)


def max_pool_backward(gy, winners, x_shape, g: Geometry, method: str = "auto"):
    """dx: each window's gradient goes to its one winning cell."""
    method = pool_method(gy, g, method)
    if method == "reference":
        return _reference_max_backward(gy, winners, x_shape, g)
    if method == "two_stage":
        return _tiled_max_backward(gy, *winners, x_shape, g)
    argmax = winners
    dxp = np.zeros(g.padded_shape(x_shape[0], x_shape[3]), gy.dtype)

    def run_windows(a, b):
        for k, (i, j) in enumerate(_column_major_offsets(g)):
            window_view(dxp[a:b], g, i, j)[...] += gy[a:b] * (argmax[a:b] == k)

    threads.over_batch(run_windows, x_shape[0], gy.size * g.KH * g.KW)
    return np.ascontiguousarray(unpad(dxp, g))


def _tiled_max_backward(gy, row_won, col_won, x_shape, g: Geometry):
    # stage B backward: gy to the winning column of each window ...
    # stage A backward: ... then to the winning row of that column
    N, C, KH, KW, OH, OW = x_shape[0], x_shape[3], g.KH, g.KW, g.OH, g.OW
    dx = _tiled_output(x_shape, gy.dtype, g)

    def run(a, b):
        step = _cache_items(row_won[0].size * gy.itemsize)
        by_column = np.empty((step, OH, OW, KW, C), gy.dtype)
        for c in range(a, b, step):  # a few images at a time: by_column in cache
            d = min(b, c + step)
            by_j = [by_column[: d - c, :, :, j] for j in range(KW)]
            _route_to_winner(gy[c:d], col_won[c:d], by_j)
            cols = by_column[: d - c].reshape(d - c, OH, OW * KW, C)
            by_i = [dx[c:d, i : OH * KH : KH, : OW * KW] for i in range(KH)]
            _route_to_winner(cols, row_won[c:d], by_i)

    run(0, N)  # one thread: see CACHE_BYTES
    return dx


def _route_to_winner(gy, index, outs) -> None:
    """outs[k] = gy where index == k, else 0 (the adjoint of ``_max_and_winner``)."""
    if len(outs) == 2:
        won = index.view(np.bool_)
        np.multiply(gy, won, out=outs[1])
        np.multiply(gy, np.logical_not(won), out=outs[0])
        return
    for k, out in enumerate(outs):
        np.multiply(gy, np.equal(index, k), out=out)


def _reference_max_forward(x, g: Geometry):
    """Running maximum over the offsets, column-major, first winner kept."""
    xp = backend.get_array_module(x)
    x_padded = pad(x, g, value=-float("inf"))
    offsets = _column_major_offsets(g)
    # a copy: with a 1x1 window no xp.where below would make y a new array
    best = xp.asarray(window_view(x_padded, g, *offsets[0]), copy=True)
    index = xp.zeros(best.shape, dtype=xp.int32)
    for k, (i, j) in enumerate(offsets[1:], start=1):
        v = window_view(x_padded, g, i, j)
        wins = v > best  # strict: ties keep the earlier offset
        best = xp.where(wins, v, best)
        index = xp.where(wins, xp.full(index.shape, k, dtype=xp.int32), index)
    return best, index


def _reference_max_backward(gy, index, x_shape, g: Geometry):
    """dx[window k's winner] += gy, one offset at a time."""
    xp = backend.get_array_module(gy)
    N, H, W, C = x_shape
    dx = xp.zeros((N, H + g.pt + g.pb, W + g.pl + g.pr, C), dtype=gy.dtype)
    zeros = xp.zeros_like(gy)
    for k, (i, j) in enumerate(_column_major_offsets(g)):
        rows, cols = _window_slices(g, i, j)
        window = (slice(None), rows, cols, slice(None))
        dx[window] = dx[window] + xp.where(index == k, gy, zeros)
    return xp.asarray(unpad(dx, g), copy=True)


def valid_counts(g: Geometry) -> np.ndarray:
    """(OH, OW, 1) number of non-padding cells under each window."""
    rows = _axis_counts(g.H, g.OH, g.KH, g.sh, g.dh, g.pt)
    cols = _axis_counts(g.W, g.OW, g.KW, g.sw, g.dw, g.pl)
    return np.multiply.outer(rows, cols)[:, :, None]


def _axis_counts(n, out, k, s, d, before) -> np.ndarray:
    starts = np.arange(out)[:, None] * s + np.arange(k)[None, :] * d - before
    return ((starts >= 0) & (starts < n)).sum(axis=1)


def _counts(g: Geometry, like):
    """The valid-cell counts (OH, OW, 1) in the namespace and dtype of ``like``."""
    xp = backend.get_array_module(like)
    return xp.asarray(valid_counts(g).tolist(), dtype=like.dtype)


def avg_pool_forward(x, g: Geometry):
    """Window means over the valid (non-padding) cells."""
    x_padded = pad(x, g)
    xp = backend.get_array_module(x)
    total = xp.asarray(window_view(x_padded, g, 0, 0), copy=True)
    for k in range(1, g.KH * g.KW):
        total += window_view(x_padded, g, k // g.KW, k % g.KW)
    if g.padded:
        return total / _counts(g, x)
    return total * (1.0 / (g.KH * g.KW))


def avg_pool_backward(gy, x_shape, g: Geometry):
    """dx: every valid cell of a window receives gy / count."""
    xp = backend.get_array_module(gy)
    if g.padded:
        share = gy / _counts(g, gy)
    else:
        share = gy * (1.0 / (g.KH * g.KW))
    if xp is np and _tiles(g):  # one broadcast write through the tiled view
        dx = _tiled_output(x_shape, gy.dtype, g)
        _tiled(dx, g)[...] = share[:, :, None, :, None]
        return dx
    N, H, W, C = x_shape
    dx = xp.zeros((N, H + g.pt + g.pb, W + g.pl + g.pr, C), dtype=gy.dtype)
    for k in range(g.KH * g.KW):
        rows, cols = _window_slices(g, k // g.KW, k % g.KW)
        window = (slice(None), rows, cols, slice(None))
        dx[window] = dx[window] + share
    return xp.asarray(unpad(dx, g), copy=True)
