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

from numnet._kernels.im2col import Geometry, pad_into, unpad, window_view


def depthwise_forward(x: np.ndarray, w: np.ndarray, b, g: Geometry) -> np.ndarray:
    """y (N, OH, OW, C*M) of x (N, H, W, C) with w (KH, KW, C, M), b (C*M,) or None."""
    N, C = x.shape[0], x.shape[3]
    M = w.shape[3]
    xp = pad_into(x, g) if g.padded else x
    y = np.zeros((N, g.OH, g.OW, C, M), x.dtype)
    for i in range(g.KH):
        for j in range(g.KW):
            y += window_view(xp, g, i, j)[..., None] * w[i, j]
    y = y.reshape(N, g.OH, g.OW, C * M)
    if b is not None:
        y += b
    return y


def depthwise_backward(gy, x, w, g: Geometry, needs=(True, True, True)):
    """Gradients (dx, dw, db) of :func:`depthwise_forward`; None where not needed."""
    N, C = x.shape[0], x.shape[3]
    M = w.shape[3]
    gy5 = gy.reshape(N, g.OH, g.OW, C, M)
    xp = pad_into(x, g) if g.padded else x
    dxp = np.zeros(g.padded_shape(N, C), x.dtype) if needs[0] else None
    dw = np.empty_like(w) if needs[1] else None
    for i in range(g.KH):
        for j in range(g.KW):
            if needs[0]:
                dx_ij = window_view(dxp, g, i, j)
                dx_ij += np.einsum("nhwcm,cm->nhwc", gy5, w[i, j])
            if needs[1]:
                dw[i, j] = np.einsum("nhwc,nhwcm->cm", window_view(xp, g, i, j), gy5)
    dx = np.ascontiguousarray(unpad(dxp, g)) if needs[0] else None
    db = gy.sum(axis=(0, 1, 2)) if needs[2] else None
    return dx, dw, db
