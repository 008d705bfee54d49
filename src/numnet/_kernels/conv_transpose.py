"""The transposed convolution on NumPy: the adjoint of a convolution.

Its forward is the convolution's input gradient, col2im(x2 @ w2^T), and its
input gradient is the convolution's forward, im2col(gy) @ w2; both reuse the
CPU executor's column blocks (``conv.py``). Other namespaces run the
reference forms in ``conv_reference.py``.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet._kernels import conv_reference
from numnet._kernels.conv import _Col2Im, _Columns, rows_t_matmul
from numnet._kernels.conv_plan import BLOCK_BYTES, ConvPlan
from numnet._kernels.im2col import Geometry, block_size, blocks

_TRANSPOSE_PLAN = ConvPlan(threads=False, keep_columns=False)


def conv2d_transpose_forward(x, w, b, g: Geometry):
    """Transposed convolution: the input gradient of the convolution ``g`` describes.

    x is (N, OH, OW, Ci) (the convolution's output side), w is (KH, KW, Co, Ci)
    and the result is (N, H, W, Co): y = col2im(x2 @ w2^T) + b.
    """
    if backend.get_array_module(x) is not np:
        return conv_reference.conv2d_transpose_forward(x, w, b, g)
    N, Ci = x.shape[0], x.shape[3]
    w2 = np.ascontiguousarray(w).reshape(-1, Ci)
    Co = w2.shape[0] // (g.KH * g.KW)
    y = np.empty((N, g.H, g.W, Co), x.dtype)
    per_item = g.OH * g.OW * w2.shape[0] * x.dtype.itemsize
    nb = block_size(N, per_item, BLOCK_BYTES)
    scatter = _Col2Im(y, g, nb, _TRANSPOSE_PLAN)
    for start, stop in blocks(N, nb):
        scatter.add(start, stop, x[start:stop].reshape(-1, Ci) @ w2.T)
    scatter.recycle()
    if b is not None:
        y += b
    return y


def conv2d_transpose_backward(gy, x, w, g: Geometry, need_dx, need_dw, need_db):
    """Gradients (dx, dw, db) of conv2d_transpose_forward.

    With cols = im2col(gy): dx2 = cols @ w2 (a convolution) and dw2 = cols^T @ x2.
    """
    if backend.get_array_module(gy) is not np:
        return conv_reference.conv2d_transpose_backward(
            gy, x, w, g, need_dx, need_dw, need_db
        )
    Ci = x.shape[3]
    w2 = np.ascontiguousarray(w).reshape(-1, Ci)
    gy = np.ascontiguousarray(gy)
    columns = _Columns(gy, g, _TRANSPOSE_PLAN, keep=False)
    dx = np.empty_like(x) if need_dx else None
    dw2 = np.zeros_like(w2) if need_dw else None
    for k, (start, stop) in enumerate(columns.blocks):
        cols = columns.block(k) if (need_dx or need_dw) else None
        if need_dx:
            np.matmul(cols, w2, out=dx[start:stop].reshape(-1, Ci))
        if need_dw:
            dw2 += rows_t_matmul(cols, x[start:stop].reshape(-1, Ci))
    columns.recycle()
    db = gy.sum(axis=(0, 1, 2)) if need_db else None
    dw = None if dw2 is None else dw2.reshape(w.shape)
    return dx, dw, db
