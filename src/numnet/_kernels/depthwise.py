"""Depthwise convolution on raw ndarrays: a loop over the KH*KW kernel offsets.

Each input channel c is convolved with its own depth_multiplier (M) filters, so
there is no channel sum and no GEMM to gain: for every kernel offset (i, j) the
shifted view x_ij (N, OH, OW, C) is multiplied by w[i, j] (C, M) and accumulated,

    y[n, oh, ow, c, m] = sum_ij x_ij[n, oh, ow, c] * w[i, j, c, m] (+ b),

with output channel c*M + m as in Keras/TensorFlow. Backward:
    dx_ij += sum_m gy[..., c, m] * w[i, j, c, m]   (into the padded input gradient)
    dw[i, j, c, m] = sum_{n, oh, ow} x_ij[n, oh, ow, c] * gy[n, oh, ow, c, m]
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet._kernels.im2col import Geometry, _window_slices, pad, unpad, window_view


def _contract_channels(xp, gy5, w_ij):
    """sum_m gy5[..., c, m] * w_ij[c, m] -> (N, OH, OW, C)."""
    if xp is np:  # CPU: one einsum, no (N, OH, OW, C, M) temporary
        return np.einsum("nhwcm,cm->nhwc", gy5, w_ij)
    return xp.sum(gy5 * w_ij, axis=4)


def _contract_pixels(xp, x_ij, gy5):
    """sum over n, oh, ow of x_ij[..., c] * gy5[..., c, m] -> (C, M)."""
    if xp is np:
        return np.einsum("nhwc,nhwcm->cm", x_ij, gy5)
    return xp.sum(xp.expand_dims(x_ij, axis=4) * gy5, axis=(0, 1, 2))


def depthwise_forward(x, w, b, g: Geometry):
    """y (N, OH, OW, C*M) of x (N, H, W, C) with w (KH, KW, C, M), b (C*M,) or None."""
    xp = backend.get_array_module(x)
    N, C = x.shape[0], x.shape[3]
    M = w.shape[3]
    x_padded = pad(x, g)
    y = xp.zeros((N, g.OH, g.OW, C, M), dtype=x.dtype)
    for i in range(g.KH):
        for j in range(g.KW):
            y += xp.expand_dims(window_view(x_padded, g, i, j), axis=4) * w[i, j, ...]
    y = xp.reshape(y, (N, g.OH, g.OW, C * M))
    if b is not None:
        y += b
    return y


def depthwise_backward(gy, x, w, g: Geometry, needs=(True, True, True)):
    """Gradients (dx, dw, db) of :func:`depthwise_forward`; None where not needed."""
    xp = backend.get_array_module(gy)
    N, H, W, C = x.shape
    M = w.shape[3]
    gy5 = xp.reshape(gy, (N, g.OH, g.OW, C, M))
    x_padded = pad(x, g)
    shape = (N, H + g.pt + g.pb, W + g.pl + g.pr, C)
    dxp = xp.zeros(shape, dtype=x.dtype) if needs[0] else None
    dw = xp.zeros(w.shape, dtype=w.dtype) if needs[1] else None
    for i in range(g.KH):
        for j in range(g.KW):
            if needs[0]:
                rows, cols = _window_slices(g, i, j)
                window = (slice(None), rows, cols, slice(None))
                dxp[window] = dxp[window] + _contract_channels(xp, gy5, w[i, j, ...])
            if needs[1]:
                x_ij = window_view(x_padded, g, i, j)
                dw[i, j, ...] = _contract_pixels(xp, x_ij, gy5)
    dx = xp.asarray(unpad(dxp, g), copy=True) if needs[0] else None
    db = xp.sum(xp.reshape(gy, (-1, C * M)), axis=0) if needs[2] else None
    return dx, dw, db
