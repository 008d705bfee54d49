"""Reductions: sum, mean, var, max, min, logsumexp (``axis``, ``keepdims``)."""

from __future__ import annotations

import math

import numpy as np

from numnet import backend
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor


def _normalize_axis(axis, ndim: int, name: str = "reduce") -> tuple[int, ...]:
    """Turn ``axis`` (None, int or tuple) into sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    if not isinstance(axes, (tuple, list)) or not all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes
    ):
        raise TypeError(
            f"{name}: invalid value for argument 'axis'. Expected None, an int or a "
            f"tuple of ints. Received: axis={axis!r}"
        )
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{name}: axis {a} is out of bounds for a tensor of {ndim} dimension(s)"
            )
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in axis={axis!r}")
    return tuple(sorted(out))


def _expand_back(g: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Re-insert reduced axes (as length 1) so ``g`` broadcasts against the input."""
    xp = backend.get_array_module(g)
    return g if keepdims else xp.expand_dims(g, axes)


class _Sum(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = _normalize_axis(self.axis, x.ndim, "sum")
        self.shape = x.shape
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        # every summed element receives the upstream gradient unchanged
        g = _expand_back(gy, self.axes, self.keepdims)
        return self.xp.broadcast_to(g, self.shape)


class _Mean(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = _normalize_axis(self.axis, x.ndim, "mean")
        self.shape = x.shape
        self.count = math.prod(x.shape[a] for a in self.axes)
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        g = _expand_back(gy, self.axes, self.keepdims) / gy.dtype.type(self.count)
        return self.xp.broadcast_to(g, self.shape)


class _Var(Function):
    def __init__(self, axis, keepdims, ddof):
        self.axis, self.keepdims, self.ddof = axis, keepdims, ddof

    def forward(self, x):
        self.axes = _normalize_axis(self.axis, x.ndim, "var")
        self.centered = x - x.mean(axis=self.axes, keepdims=True)
        self.count = math.prod(x.shape[a] for a in self.axes)
        sq = self.xp.square(self.centered)
        return sq.sum(axis=self.axes, keepdims=self.keepdims) / x.dtype.type(
            self.count - self.ddof
        )

    def backward(self, gy):
        # d var / dx_i = 2 (x_i - mean) / (n - ddof); the mean's own term sums to 0
        g = _expand_back(gy, self.axes, self.keepdims)
        scale = gy.dtype.type(2.0 / (self.count - self.ddof))
        return g * self.centered * scale


class _MaxMin(Function):
    """Max (or min) over axes; ties: the first winner in C order gets the gradient."""

    def __init__(self, axis, keepdims, use_max: bool):
        self.axis, self.keepdims, self.use_max = axis, keepdims, use_max

    def forward(self, x):
        name = "max" if self.use_max else "min"
        self.axes = _normalize_axis(self.axis, x.ndim, name)
        self.shape = x.shape
        y = (x.max if self.use_max else x.min)(axis=self.axes, keepdims=True)
        hits = x == y
        # keep only the first hit along the reduced axes (deterministic one winner)
        moved = self.xp.moveaxis(
            hits, self.axes, range(x.ndim - len(self.axes), x.ndim)
        )
        kept = moved.shape[: x.ndim - len(self.axes)]
        # the reduced size spelled out: -1 is ambiguous when a kept axis is 0
        flat = moved.reshape(kept + (math.prod(moved.shape[len(kept) :]),))
        first = self.xp.zeros_like(flat)
        self.xp.put_along_axis(first, flat.argmax(axis=-1)[..., None], True, axis=-1)
        first = first.reshape(moved.shape)
        self.mask = self.xp.moveaxis(
            first, range(x.ndim - len(self.axes), x.ndim), self.axes
        )
        return (
            y
            if self.keepdims
            else y.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])
        )

    def backward(self, gy):
        return _expand_back(gy, self.axes, self.keepdims) * self.mask


class _LogSumExp(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = _normalize_axis(self.axis, x.ndim, "logsumexp")
        m = x.max(axis=self.axes, keepdims=True)
        m = self.xp.where(
            self.xp.isfinite(m), m, 0
        )  # a row of -inf stays -inf, not NaN
        e = self.xp.exp(x - m)
        s = e.sum(axis=self.axes, keepdims=True)
        self.softmax = e / s
        y = self.xp.log(s) + m
        return y if self.keepdims else self.xp.squeeze(y, self.axes)

    def backward(self, gy):
        # d logsumexp(x) / dx = softmax(x)
        return _expand_back(gy, self.axes, self.keepdims) * self.softmax


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (int, tuple or None for all).

    Shape:
        x: any shape -> x's shape without the reduced axes (kept as 1 with keepdims).
    """
    return _Sum(axis, keepdims)(x)


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis``.

    Shape:
        x: any shape -> x's shape without the reduced axes (kept as 1 with keepdims).
    """
    return _Mean(axis, keepdims)(x)


def var(x, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis``; ``ddof=0`` is the biased estimate, as in NumPy.

    Shape:
        x: any shape -> x's shape without the reduced axes (kept as 1 with keepdims).
    """
    return _Var(axis, keepdims, ddof)(x)


def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; the gradient goes to one (the first) maximum.

    Shape:
        x: any shape -> x's shape without the reduced axes (kept as 1 with keepdims).
    """
    return _MaxMin(axis, keepdims, True)(x)


def min(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over ``axis``; the gradient goes to one (the first) minimum.

    Shape:
        x: any shape -> x's shape without the reduced axes (kept as 1 with keepdims).
    """
    return _MaxMin(axis, keepdims, False)(x)


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) computed stably as m + log(sum(exp(x - m))), m = max(x).

    Shape:
        x: any shape -> x's shape without the reduced axes (kept as 1 with keepdims).
    """
    return _LogSumExp(axis, keepdims)(x)
