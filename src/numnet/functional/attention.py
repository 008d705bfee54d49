"""Attention: masked softmax and dot-product / additive attention.

``attention`` is Luong's (scaled) dot-product attention as one fused op::

    scores  = scale * q @ k^T                     (..., Tq, Tv)
    weights = masked_softmax(scores, mask)        masked entries get weight 0
    out     = weights @ v                         (..., Tq, dv)

``additive_attention`` is Bahdanau's score ``sum_d w_d tanh(q_d + k_d)``,
composed from existing ops (its (…, Tq, Tv, d) tanh is the cost; fusing the
softmax and product around it would save little).

Masks are boolean, True = attend, and broadcast against the scores. A row with
no allowed entry gets all-zero weights (and a zero output), not NaN (PyTorch)
nor a uniform distribution (Keras's -1e9 trick).
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional.activations import tanh
from numnet.functional.elementwise import mul
from numnet.functional.linalg import matmul
from numnet.functional.reduce import sum as reduce_sum
from numnet.functional.shaping import swapaxes, unsqueeze


def _on_namespace(xp, mask, shape):
    """The boolean mask on the inputs' namespace (checked to broadcast to
    ``shape``, but not broadcast: the kernels use it at its own size)."""
    if mask is None:
        return None
    mask = xp.asarray(mask, dtype=bool)
    xp.broadcast_to(mask, shape)  # raises for a mask that does not fit
    return mask


def _softmax_backward(y, gy, axis: int):
    # dL/dx = y * (g - sum(g * y)); masked entries have y = 0, hence gradient 0
    gx = y * gy
    gx -= y * gx.sum(axis=axis, keepdims=True)
    return gx


class _MaskedSoftmax(Function):
    """Softmax along ``axis`` restricted to the entries where ``mask`` is True."""

    def __init__(self, mask, axis: int):
        self.mask, self.axis = mask, axis

    def forward(self, x):
        mask = _on_namespace(self.xp, self.mask, x.shape)
        self.y = self.ops.masked_softmax(x, mask, self.axis)
        return self.y

    def backward(self, gy):
        return _softmax_backward(self.y, gy, self.axis)


class _Attention(Function):
    """out = softmax_mask(scale q k^T) v, and the weights as a second output."""

    def __init__(self, mask, scale: float):
        self.mask, self.scale = mask, scale

    def forward(self, q, k, v):
        xp = self.xp
        scores = (q @ xp.swapaxes(k, -1, -2)) * q.dtype.type(self.scale)
        mask = _on_namespace(xp, self.mask, scores.shape)
        self.q, self.k, self.v = q, k, v
        self.p = self.ops.masked_softmax(scores, mask, -1)
        return self.p @ v, self.p

    def backward(self, gout, gp):
        # gv = p^T gout; gp += gout v^T; gs = softmax'(gp); gq = s gs k, gk = s gs^T q
        q, k, v, p, xp = self.q, self.k, self.v, self.p, self.xp
        gv = xp.swapaxes(p, -1, -2) @ gout
        gp = gp + gout @ xp.swapaxes(v, -1, -2)
        gs = _softmax_backward(p, gp, -1) * q.dtype.type(self.scale)
        return gs @ k, xp.swapaxes(gs, -1, -2) @ q, gv


def _mask_array(mask):
    if mask is None:
        return None
    mask = mask.data if isinstance(mask, Tensor) else mask  # (a CuPy array's .data
    return backend.get_array_module(mask).asarray(mask, dtype=bool)  # is a pointer)


def causal_mask(tq: int, tv: int) -> np.ndarray:
    """The (Tq, Tv) lower-triangular mask: query i sees keys j <= i (Keras, PyTorch)."""
    xp = backend.xp  # a host constant; ops move it to the inputs' namespace
    return xp.tril(xp.ones((tq, tv), dtype=bool))


def masked_softmax(x, mask=None, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` over the entries where ``mask`` is True.

    Args:
        x: the scores.
        mask: a boolean array broadcastable to ``x`` (True = keep), or None.
        axis: the axis normalized.

    Returns:
        Weights summing to 1 along ``axis`` (0 where masked; all 0 on a row with
        no True entry).

    Shape:
        x: any shape -> the same shape.
    """
    x = as_tensor(x)
    return _MaskedSoftmax(_mask_array(mask), axis)(x)


def _check_qkv(owner: str, q, k, v) -> None:
    if q.ndim < 2 or k.ndim != q.ndim or v.ndim != q.ndim:
        raise ValueError(
            f"{owner}: query, key and value must have the same rank >= 2. "
            f"Received shapes {q.shape}, {k.shape}, {v.shape}"
        )
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"{owner}: expected query (..., Tq, d), key (..., Tv, d) and value "
            f"(..., Tv, dv). Received shapes {q.shape}, {k.shape}, {v.shape}"
        )


def _full_mask(mask, causal: bool, tq: int, tv: int):
    mask = _mask_array(mask)
    if causal:
        tri = causal_mask(tq, tv)
        mask = tri if mask is None else mask & tri
    return mask


def attention(
    q, k, v, mask=None, scale: float = 1.0, causal: bool = False
) -> tuple[Tensor, Tensor]:
    """Dot-product attention as one fused op; returns ``(output, weights)``.

    Args:
        q, k, v: query (..., Tq, d), key (..., Tv, d), value (..., Tv, dv).
        mask: boolean, broadcastable to (..., Tq, Tv); True = attend.
        scale: multiplies the scores (1/sqrt(d) for scaled dot-product).
        causal: also hide keys after the query's position.

    Returns:
        output (..., Tq, dv) and weights (..., Tq, Tv).
    """
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    _check_qkv("attention", q, k, v)
    mask = _full_mask(mask, causal, q.shape[-2], k.shape[-2])
    return _Attention(mask, float(scale))(q, k, v)


def attention_composed(q, k, v, mask=None, scale: float = 1.0, causal: bool = False):
    """The composed twin of :func:`attention` (matmul, masked softmax, matmul)."""
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    mask = _full_mask(mask, causal, q.shape[-2], k.shape[-2])
    weights = masked_softmax(mul(matmul(q, swapaxes(k, -1, -2)), scale), mask)
    return matmul(weights, v), weights


def additive_attention(q, k, v, w=None, mask=None, causal: bool = False):
    """Bahdanau attention: scores ``sum_d w_d tanh(q_d + k_d)``; ``(output, weights)``.

    Args:
        q, k, v: query (..., Tq, d), key (..., Tv, d), value (..., Tv, dv).
        w: the (d,) score weights (Keras's ``scale``), or None for all ones.
        mask, causal: as for :func:`attention`.
    """
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    _check_qkv("additive_attention", q, k, v)
    hidden = tanh(unsqueeze(q, -2) + unsqueeze(k, -3))  # (..., Tq, Tv, d)
    if w is not None:
        hidden = hidden * w
    scores = reduce_sum(hidden, axis=-1)
    mask = _full_mask(mask, causal, q.shape[-2], k.shape[-2])
    weights = masked_softmax(scores, mask)
    return matmul(weights, v), weights
