"""Max and average pooling on raw channels-last ndarrays.

Both loop over the KH*KW offsets (i, j) of the pooling window; offset (i, j) sees
the strided view x_ij (N, OH, OW, C) of the padded input (``window_view``).

Max pooling keeps a running maximum and the index of the winning offset. The
update uses a strict ``>``, so among equal values the first offset in row-major
window order wins: one deterministic winner per window, which alone receives the
gradient (``dx_ij += gy * (argmax == k)``). "same" padding pads with -inf, so a
padded cell never wins.

Average pooling divides by the number of *valid* cells under each window (for
"same" padding that count is smaller at the borders, as in Keras/TensorFlow):
y = sum_ij x_ij / count, dx_ij += gy / count.

When windows tile the input exactly (stride == pool size, no padding), backward
writes dx in one broadcast operation through the (N, OH, KH, OW, KW, C) view of
the input instead of looping over offsets.
"""

from __future__ import annotations

import numpy as np

from numnet._kernels import threads
from numnet._kernels.im2col import Geometry, pad_into, unpad, window_view


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


def max_pool_forward(x: np.ndarray, g: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Return (y, argmax): the window maxima and the winning offset k = i*KW + j."""
    xp = pad_into(x, g, value=-np.inf) if g.padded else x
    shape = (x.shape[0], g.OH, g.OW, x.shape[3])
    best = np.empty(shape, x.dtype)
    argmax = np.empty(shape, np.uint8 if g.KH * g.KW < 256 else np.int32)

    def run(a, b):
        _max_pool_into(xp[a:b], g, best[a:b], argmax[a:b])

    threads.over_batch(run, shape[0], best.size * g.KH * g.KW)
    return best, argmax


def _max_pool_into(xp, g: Geometry, best, argmax) -> None:
    itype = argmax.dtype.type
    best[...] = window_view(xp, g, 0, 0)
    argmax[...] = 0
    step = np.empty(best.shape, itype)
    for k in range(1, g.KH * g.KW):
        v = window_view(xp, g, k // g.KW, k % g.KW)
        wins = v > best  # strict: ties keep the earlier offset
        np.maximum(best, v, out=best)
        # argmax = k where v won: k exceeds every earlier offset, so a branch-free
        # max(argmax, wins * k) does it (a masked assignment is 30x slower)
        np.multiply(wins, itype(k), out=step)
        np.maximum(argmax, step, out=argmax)


def max_pool_backward(gy: np.ndarray, argmax: np.ndarray, x_shape, g: Geometry):
    """dx: each window's gradient goes to its one winning cell."""
    if _tiles(g):
        dx = _tiled_output(x_shape, gy.dtype, g)
        offsets = np.arange(g.KH * g.KW, dtype=argmax.dtype).reshape(g.KH, 1, g.KW, 1)

        def run(a, b):
            winner = argmax[a:b, :, None, :, None] == offsets
            np.multiply(gy[a:b, :, None, :, None], winner, out=_tiled(dx[a:b], g))

        threads.over_batch(run, x_shape[0], dx.size)
        return dx
    dxp = np.zeros(g.padded_shape(x_shape[0], x_shape[3]), gy.dtype)

    def run_windows(a, b):
        for k in range(g.KH * g.KW):
            window_view(dxp[a:b], g, k // g.KW, k % g.KW)[...] += gy[a:b] * (
                argmax[a:b] == k
            )

    threads.over_batch(run_windows, x_shape[0], gy.size * g.KH * g.KW)
    return np.ascontiguousarray(unpad(dxp, g))


def valid_counts(g: Geometry) -> np.ndarray:
    """(OH, OW, 1) number of non-padding cells under each window."""
    rows = _axis_counts(g.H, g.OH, g.KH, g.sh, g.dh, g.pt)
    cols = _axis_counts(g.W, g.OW, g.KW, g.sw, g.dw, g.pl)
    return np.multiply.outer(rows, cols)[:, :, None]


def _axis_counts(n, out, k, s, d, before) -> np.ndarray:
    starts = np.arange(out)[:, None] * s + np.arange(k)[None, :] * d - before
    return ((starts >= 0) & (starts < n)).sum(axis=1)


def avg_pool_forward(x: np.ndarray, g: Geometry) -> np.ndarray:
    """Window means over the valid (non-padding) cells."""
    xp = pad_into(x, g) if g.padded else x
    total = window_view(xp, g, 0, 0).copy()
    for k in range(1, g.KH * g.KW):
        total += window_view(xp, g, k // g.KW, k % g.KW)
    if g.padded:
        total /= valid_counts(g).astype(x.dtype)
    else:
        total *= x.dtype.type(1.0 / (g.KH * g.KW))
    return total


def avg_pool_backward(gy: np.ndarray, x_shape, g: Geometry) -> np.ndarray:
    """dx: every valid cell of a window receives gy / count."""
    if g.padded:
        share = gy / valid_counts(g).astype(gy.dtype)
    else:
        share = gy * gy.dtype.type(1.0 / (g.KH * g.KW))
    if _tiles(g):
        dx = _tiled_output(x_shape, gy.dtype, g)
        _tiled(dx, g)[...] = share[:, :, None, :, None]
        return dx
    dxp = np.zeros(g.padded_shape(x_shape[0], x_shape[3]), gy.dtype)
    for k in range(g.KH * g.KW):
        window_view(dxp, g, k // g.KW, k % g.KW)[...] += share
    return np.ascontiguousarray(unpad(dxp, g))
