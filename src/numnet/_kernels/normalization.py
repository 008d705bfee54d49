"""Per-channel batch normalization of a (M, C) NumPy view, in cache-sized blocks.

The training-mode batch norm of channels-last inputs normalizes each column
of the (M, C) view ``x2 = x.reshape(-1, C)`` (M = N*H*W). This is the CPU
fast path of ``functional.normalization._Normalize``, whose general code (any axes, any
array namespace, layer norm) stays the reference the tests compare it to.

Forward: two passes over x, one to read it, one to write y::

    mean, var per column                   one pass: per-block moments, combined
    y = x * (gamma * inv_std) + (beta - mean * gamma * inv_std)    one pass

Backward, with x_c = x - mean, dbeta = sum(gy), dgamma = inv_std * sum(gy * x_c)::

    sums                                   one pass over gy and x
    dx = k1 * gy + k2 * x_c - k3           one pass, per channel:
    k1 = gamma * inv_std, k2 = -k1 * inv_std * dgamma / m, k3 = k1 * dbeta / m

which is ``dx = gamma * inv_std * (gy - mean(gy) - x_hat * mean(gy * x_hat))``
(the paths through the batch mean and variance) with x_hat = x_c * inv_std.
Nothing of x's size is kept but x itself (the op's input, held anyway).

Each pass walks the rows in blocks of about ``BLOCK_BYTES``: the ufunc calls
of a pass then meet the block in the L2 cache, the temporaries (x_c, squares,
products) never leave it, and every sum is a GEMV (``ones @ block``) of a
cached block into one row of partial sums. The block boundaries depend on the
shape alone, so results are deterministic. Measurements: docs/decisions.md.
"""

from __future__ import annotations

import numpy as np

#: Rows per block: about this many bytes of one (rows, C) block.
BLOCK_BYTES = 1 << 18


def applies(x) -> bool:
    """Whether these kernels run on ``x``: a non-empty C-contiguous NumPy float
    array (empty ones take the general path, whatever it makes of them)."""
    return (
        isinstance(x, np.ndarray)
        and x.size > 0
        and x.dtype in (np.float32, np.float64)
        and x.flags.c_contiguous
        and x.ndim >= 2
    )


def _blocks(M: int, C: int, itemsize: int):
    rows = max(1, BLOCK_BYTES // (C * itemsize))
    return rows, [(a, min(M, a + rows)) for a in range(0, M, rows)]


def channel_norm_forward(x2, gamma, beta, epsilon: float):
    """Normalize the columns of ``x2`` (M, C) with their batch statistics.

    Args:
        x2: (M, C) C-contiguous floats.
        gamma, beta: (C,) arrays of x2's dtype.
        epsilon: added to the variance.

    Returns:
        (y, mean, var, inv_std): the output (M, C) and the (C,) statistics
        (biased variance). Backward needs x2, mean and inv_std.
    """
    (M, C), dt = x2.shape, x2.dtype
    mean, var = _moments(x2)
    inv_std = 1.0 / np.sqrt(var + dt.type(epsilon))
    scale = gamma * inv_std
    shift = beta - mean * scale  # y = x * scale + shift, one pass
    y = np.empty_like(x2)
    for a, b in _blocks(M, C, x2.itemsize)[1]:
        np.multiply(x2[a:b], scale, out=y[a:b])
        y[a:b] += shift
    return y, mean, var, inv_std


def _moments(x2):
    """Column means and biased variances in one pass over ``x2``.

    Each cached block gives its own mean and sum of squared deviations (GEMVs
    of the block and of its centered squares); Chan et al.'s pairwise rule
    combines them: M2 = sum_b M2_b + sum_b n_b (mean_b - mean)^2. No
    E[x^2] - E[x]^2 cancellation.
    """
    (M, C), dt = x2.shape, x2.dtype
    rows, blocks = _blocks(M, C, x2.itemsize)
    ones, centered = np.ones(rows, dt), np.empty((rows, C), dt)
    means, m2 = np.empty((len(blocks), C), dt), np.empty((len(blocks), C), dt)
    counts = np.array([[b - a] for a, b in blocks], dt)
    for k, (a, b) in enumerate(blocks):
        d = centered[: b - a]
        np.matmul(ones[: b - a], x2[a:b], out=means[k])
        means[k] /= counts[k]
        np.subtract(x2[a:b], means[k], out=d)
        np.multiply(d, d, out=d)
        np.matmul(ones[: b - a], d, out=m2[k])
    mean = (counts * means).sum(axis=0) / dt.type(M)
    spread = means - mean
    m2_total = m2.sum(axis=0) + (counts * spread * spread).sum(axis=0)
    return mean, m2_total / dt.type(M)


def channel_norm_backward(gy2, x2, mean, gamma, inv_std, need_dx: bool):
    """Gradients of :func:`channel_norm_forward`: (dx or None, dgamma, dbeta).

    Args:
        gy2: (M, C) upstream gradient (C-contiguous).
        x2, mean, gamma, inv_std: the forward's input, statistics and gamma.
        need_dx: False skips the input gradient (a frozen input).
    """
    (M, C), dt = gy2.shape, gy2.dtype
    rows, blocks = _blocks(M, C, gy2.itemsize)
    ones, x_c = np.ones(rows, dt), np.empty((rows, C), dt)
    sums = np.empty((2, len(blocks), C), dt)  # partial sum(gy), sum(gy * x_c)
    for k, (a, b) in enumerate(blocks):
        d = x_c[: b - a]
        np.matmul(ones[: b - a], gy2[a:b], out=sums[0, k])
        np.subtract(x2[a:b], mean, out=d)
        d *= gy2[a:b]
        np.matmul(ones[: b - a], d, out=sums[1, k])
    dbeta, sum_gyx = sums.sum(axis=1)
    dgamma = sum_gyx * inv_std
    if not need_dx:
        return None, dgamma, dbeta
    k1 = gamma * inv_std
    k2 = -k1 * inv_std * (dgamma / dt.type(M))
    # k2 * (x - mean) - k3 = k2 * x - k3', saving a pass; the rounding of
    # k2 * x is relative to |mean| / std times the small k2 term (tested)
    k3 = k1 * (dbeta / dt.type(M)) + k2 * mean
    dx = np.empty_like(gy2)
    for a, b in blocks:
        d = x_c[: b - a]
        np.multiply(x2[a:b], k2, out=d)
        np.multiply(gy2[a:b], k1, out=dx[a:b])
        dx[a:b] += d
        dx[a:b] -= k3
    return dx, dgamma, dbeta
