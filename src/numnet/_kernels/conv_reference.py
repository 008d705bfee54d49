"""The reference convolution: the course's im2col form, on any array namespace.

This is the convolution as the course notes write it, and the one to read first.
With the columns of the input, ``cols = im2col(x)`` reshaped to one row per
output pixel (N*OH*OW, KH*KW*C), and the Keras kernel w reshaped to
w2 (KH*KW*C, C_out):

    forward:  y  = cols @ w2 + b
    backward: dW = cols^T @ gy          (the forward's columns, kept)
              db = sum of gy over its rows
              dx = col2im(gy @ w2^T)    (col2im adds overlapping windows back)

It is three things at once: the teaching text, the oracle every faster executor
is tested against (``plan.executor == "reference"`` selects it), and the
default on any array namespace other than NumPy (CuPy, ...), since it uses only
``xp.<function>`` and slicing. The CPU executor (``conv.py``) computes the same
thing faster on NumPy; ``conv_plan.py`` says how and why.
"""

from __future__ import annotations

from numnet import backend
from numnet._kernels.im2col import Geometry, col2im, im2col


def conv2d_forward(x, w, b, g: Geometry):
    """y = im2col(x) @ w2 + b, shaped (N, OH, OW, C_out); returns (y, cols)."""
    xp = backend.get_array_module(x)
    N, O = x.shape[0], w.shape[3]
    cols = xp.reshape(im2col(x, g), (N * g.OH * g.OW, -1))  # one row per pixel
    y = cols @ xp.reshape(w, (-1, O))
    if b is not None:
        y = y + b
    return xp.reshape(y, (N, g.OH, g.OW, O)), cols


def conv2d_backward(gy, cols, w, g: Geometry, x_shape, need_dx, need_dw, need_db):
    """(dx, dw, db) of :func:`conv2d_forward`; None for a gradient not needed."""
    xp = backend.get_array_module(gy)
    O = w.shape[3]
    gy2 = xp.reshape(gy, (-1, O))  # (N*OH*OW, C_out), rows like cols
    w2 = xp.reshape(w, (-1, O))
    dw = xp.reshape(cols.T @ gy2, w.shape) if need_dw else None  # dW = cols^T gy
    db = xp.sum(gy2, axis=0) if need_db else None  # db = sum over pixels of gy
    dx = None
    if need_dx:  # dx = col2im(gy w2^T): every window's share back to its pixels
        N, C = x_shape[0], x_shape[3]
        dcols = xp.reshape(gy2 @ w2.T, (N, g.OH, g.OW, g.KH, g.KW, C))
        dx = col2im(dcols, g)
    return dx, dw, db


def conv2d_transpose_forward(x, w, b, g: Geometry):
    """The adjoint of the convolution ``g``: y = col2im(x2 @ w2^T) + b.

    x is (N, OH, OW, Ci), w is the convolution kernel (KH, KW, Co, Ci); the
    result is (N, H, W, Co).
    """
    xp = backend.get_array_module(x)
    N, Ci = x.shape[0], x.shape[3]
    Co = w.shape[2]
    dcols = xp.reshape(x, (-1, Ci)) @ xp.reshape(w, (-1, Ci)).T
    y = col2im(xp.reshape(dcols, (N, g.OH, g.OW, g.KH, g.KW, Co)), g)
    return y if b is None else y + b


def conv2d_transpose_backward(gy, x, w, g: Geometry, need_dx, need_dw, need_db):
    """(dx, dw, db) of :func:`conv2d_transpose_forward`: dx is conv(gy, w)."""
    xp = backend.get_array_module(gy)
    Ci = x.shape[3]
    cols = xp.reshape(im2col(gy, g), (x.shape[0] * g.OH * g.OW, -1))
    dx = dw = db = None
    if need_dx:
        dx = xp.reshape(cols @ xp.reshape(w, (-1, Ci)), x.shape)
    if need_dw:
        dw = xp.reshape(cols.T @ xp.reshape(x, (-1, Ci)), w.shape)
    if need_db:
        db = xp.sum(xp.reshape(gy, (-1, gy.shape[3])), axis=0)
    return dx, dw, db
