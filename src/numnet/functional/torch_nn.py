"""PyTorch ``torch.nn.functional`` names beyond the activations: ``prelu``,
``rrelu``, ``softmin`` and ``scaled_dot_product_attention``.

``scaled_dot_product_attention`` takes PyTorch's layout, query (..., L, E), key
(..., S, E), value (..., S, Ev), which is the layout of numnet's fused
``attention`` op: without dropout and with a boolean mask (or none) it is that
one op; a float mask (added to the scores, and differentiable) or dropout on
the weights composes it from matmul, softmax and dropout instead.

Example:
    >>> import numpy as np, numnet.functional as F
    >>> q = k = v = np.eye(2, dtype=np.float32)[None]
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy().round(3)
    array([[[1.  , 0.  ],
            [0.33, 0.67]]], dtype=float32)
"""

from __future__ import annotations

import math

from numnet import backend
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.backend import draws
from numnet.functional.activations import softmax
from numnet.functional.activations_more import _float_input, _interval, _number
from numnet.functional.attention import (
    _check_qkv,
    _full_mask,
    attention,
    masked_softmax,
)
from numnet.functional.linalg import matmul
from numnet.functional.nn import dropout
from numnet.functional.shaping import broadcast_to, reshape, swapaxes, unsqueeze


class _LeakyWith(Function):
    """x for x > 0, slope * x otherwise (slope a number or an array: rrelu)."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        dt = x.dtype.type
        slope = self.slope if not isinstance(self.slope, float) else dt(self.slope)
        self.gain = self.xp.where(x > dt(0), dt(1), slope)
        return x * self.gain

    def backward(self, gy):
        return gy * self.gain  # 1 for x > 0, the slope at and below 0


class _PReLU(Function):
    """x for x > 0, weight * x otherwise; weight differentiable too."""

    def forward(self, x, weight):
        self.x, self.weight, self.negative = x, weight, x <= x.dtype.type(0)
        return self.xp.where(self.negative, weight * x, x)

    def backward(self, gy):
        # dy/dx = 1 or weight; dy/dweight = x where x <= 0 (the engine sums it)
        gx = self.xp.where(self.negative, gy * self.weight, gy)
        return gx, gy * self.x * self.negative


def prelu(x, weight) -> Tensor:
    """``x`` for x > 0, ``weight * x`` otherwise, with a learned ``weight``.

    numnet is channels-last: ``weight`` has one value (shape (1,)) or one per
    channel, the LAST axis (shape (C,)); PyTorch's weight lies along axis 1 of
    its channels-first input. Any weight that broadcasts against ``x`` works.

    Shape:
        x: (..., C); weight: (C,) or (1,) -> the shape of x.
    """
    x, weight = _float_input("prelu", x), as_tensor(weight)
    try:
        backend.get_array_module(x.data).broadcast_shapes(weight.shape, x.shape)
    except ValueError:
        raise ValueError(
            f"prelu: the weight of shape {weight.shape} does not broadcast to the "
            f"input of shape {x.shape} (numnet is channels-last: one weight per "
            f"channel of the last axis)"
        ) from None
    return _PReLU()(x, weight)


def rrelu(x, lower: float = 1 / 8, upper: float = 1 / 3, training: bool = False):
    """Randomized leaky ReLU: negative inputs times a slope drawn from U(lower, upper).

    In training each element draws its own slope (on the input's device, see
    ``numnet.backend.draws``; seeded by ``numnet.manual_seed``); otherwise the
    slope is ``(lower + upper) / 2`` (PyTorch; ``training`` defaults to False
    there too).

    Shape:
        x: any shape -> the same shape.
    """
    lower, upper = _interval("rrelu", ("lower", "upper"), lower, upper)
    x = _float_input("rrelu", x)
    if not training:
        return _LeakyWith((lower + upper) / 2)(x)
    xp = backend.get_array_module(x.data)
    slopes = draws.uniform(xp, x.shape, x.dtype, lower, upper)
    return _LeakyWith(slopes)(x)


def softmin(x, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """``softmax(-x)`` along ``axis`` (``dim``: PyTorch's name; its default is
    inferred from the rank there, here it is the last axis).

    Shape:
        x: any shape -> the same shape.
    """
    return softmax(-_float_input("softmin", x), axis if dim is None else dim)


def _repeat_heads(t: Tensor, groups: int) -> Tensor:
    """(..., H, S, E) -> (..., H * groups, S, E), each head repeated in place."""
    wide = broadcast_to(unsqueeze(t, -3), (*t.shape[:-2], groups, *t.shape[-2:]))
    return reshape(wide, (*t.shape[:-3], t.shape[-3] * groups, *t.shape[-2:]))


def _grouped_query(q: Tensor, k: Tensor, v: Tensor):
    """Key and value heads repeated to the query's (PyTorch's ``enable_gqa``)."""
    if q.ndim < 3 or q.shape[-3] % k.shape[-3] or k.shape[-3] != v.shape[-3]:
        raise ValueError(
            "scaled_dot_product_attention: enable_gqa needs query (..., Hq, L, E) "
            "and key, value (..., Hkv, S, E) with Hq a multiple of Hkv. Received "
            f"shapes {q.shape}, {k.shape}, {v.shape}"
        )
    groups = q.shape[-3] // k.shape[-3]
    return _repeat_heads(k, groups), _repeat_heads(v, groups)


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """PyTorch's ``softmax(q k^T * scale + mask) v``, with its arguments.

    Args:
        query, key, value: (..., L, E), (..., S, E), (..., S, Ev).
        attn_mask: None; a boolean mask broadcastable to (..., L, S), True = take
            part (a row with no True gets zero weights: PyTorch gives NaN); or
            a float mask added to the scores (-inf hides an entry; it may
            require grad, e.g. a learned position bias).
        dropout_p: dropout on the weights, applied whenever > 0 (as PyTorch:
            pass 0.0 at inference).
        is_causal: hide keys after the query's position (top-left aligned
            lower triangle); not together with ``attn_mask``.
        scale: the score factor; None for 1 / sqrt(E).
        enable_gqa: let key and value have fewer heads (axis -3) than query.

    Returns:
        The output (..., L, Ev).
    """
    q = _float_input("scaled_dot_product_attention", query)
    k, v = as_tensor(key), as_tensor(value)
    if enable_gqa and q.ndim >= 3 and k.ndim == q.ndim and q.shape[-3] != k.shape[-3]:
        k, v = _grouped_query(q, k, v)
    _check_qkv("scaled_dot_product_attention", q, k, v)
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass either attn_mask or "
                         "is_causal=True, not both (as PyTorch)")  # fmt: skip
    rate = _number("scaled_dot_product_attention", "dropout_p", dropout_p, 0.0)
    if rate >= 1:
        raise ValueError("scaled_dot_product_attention: invalid value for argument "
                         f"'dropout_p'. Expected a number in [0, 1). Received: "
                         f"dropout_p={dropout_p!r}")  # fmt: skip
    if scale is None:
        scale = 1 / math.sqrt(q.shape[-1])
    scale = _number("scaled_dot_product_attention", "scale", scale)
    boolean = attn_mask is None or as_tensor(attn_mask).dtype.kind == "b"
    if boolean and rate == 0:
        return attention(q, k, v, attn_mask, scale, causal=is_causal)[0]
    scores = matmul(q, swapaxes(k, -1, -2)) * scale
    if not boolean:
        scores = scores + as_tensor(attn_mask).astype(scores.dtype)
        attn_mask = None
    mask = _full_mask(attn_mask, is_causal, q.shape[-2], k.shape[-2])
    weights = masked_softmax(scores, mask)
    return matmul(dropout(weights, rate) if rate else weights, v)
