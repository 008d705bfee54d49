"""Ops that rearrange elements: flip, roll, tile, repeat, tril/triu, diagonal,
trace, outer, moveaxis, hstack/vstack, masked_fill, nan_to_num, mod.

Most compose existing differentiable ops (getitem, reshape, broadcast_to,
where, concatenate), so their backward is already written and tested; roll,
diagonal and mod are small Functions with the derivative beside them.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional._gather import _axis_arg, take
from numnet.functional._indexing import getitem
from numnet.functional.elementwise import mul, where
from numnet.functional.reduce import _normalize_axis
from numnet.functional.reduce import sum as _sum
from numnet.functional.shaping import (
    broadcast_to,
    concatenate,
    reshape,
    transpose,
)


def flip(x, axis=None) -> Tensor:
    """Reverse the order of elements along ``axis`` (all axes by default).

    Example:
        >>> import numnet
        >>> numnet.flip(numnet.tensor([[1, 2], [3, 4]]), axis=1).tolist()
        [[2, 1], [4, 3]]
    """
    x = as_tensor(x)
    axes = _normalize_axis(axis, x.ndim, "flip")
    return getitem(x, tuple(slice(None, None, -1 if a in axes else 1)
                            for a in range(x.ndim)))  # fmt: skip


class _Roll(Function):
    def __init__(self, shift, axis):
        self.shift, self.axis = shift, axis

    def forward(self, x):
        return self.xp.roll(x, self.shift, axis=self.axis)

    def backward(self, gy):
        # a roll is a permutation: its adjoint rolls back by -shift
        back = (
            tuple(-s for s in self.shift)
            if isinstance(self.shift, tuple)
            else -self.shift
        )
        return self.xp.roll(gy, back, axis=self.axis)


def roll(x, shift, axis=None) -> Tensor:
    """Shift elements cyclically along ``axis`` (``np.roll``; None: the flat order).

    ``shift`` and ``axis`` may be tuples of the same length.

    Example:
        >>> import numnet
        >>> numnet.roll(numnet.tensor([1, 2, 3, 4]), 1).tolist()
        [4, 1, 2, 3]
    """
    x = as_tensor(x)
    if isinstance(axis, (tuple, list)):
        shift = (
            tuple(shift) if isinstance(shift, (tuple, list)) else (shift,) * len(axis)
        )
        if len(shift) != len(axis):
            raise ValueError(
                f"roll: 'shift' and 'axis' must have the same length. Received: "
                f"shift={shift!r}, axis={axis!r}"
            )
        axis = tuple(_axis_arg("roll", a, x.ndim) for a in axis)
        return _Roll(tuple(int(s) for s in shift), axis)(x)
    if axis is not None:
        axis = _axis_arg("roll", axis, x.ndim)
    if not isinstance(shift, (int, np.integer)) or isinstance(shift, bool):
        raise TypeError(
            f"roll: 'shift' must be an int for one axis. Received: {shift!r}"
        )
    return _Roll(int(shift), axis)(x)


def _counts(op: str, name: str, value) -> tuple[int, ...]:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
               for v in values):  # fmt: skip
        raise ValueError(
            f"{op}: invalid value for argument '{name}'. Expected non-negative ints. "
            f"Received: {name}={value!r}"
        )
    return tuple(int(v) for v in values)


def tile(x, reps) -> Tensor:
    """Repeat the whole tensor ``reps`` times along each axis (``np.tile``).

    Composed from reshape and broadcast_to: the gradient of each element is
    the sum over its copies.

    Example:
        >>> import numnet
        >>> numnet.tile(numnet.tensor([[1, 2]]), (2, 2)).tolist()
        [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    x = as_tensor(x)
    reps = _counts("tile", "reps", reps)
    d = max(len(reps), x.ndim)
    reps = (1,) * (d - len(reps)) + reps
    shape = (1,) * (d - x.ndim) + x.shape
    # (s0, s1) -> (1, s0, 1, s1) -> (r0, s0, r1, s1) -> (r0*s0, r1*s1)
    interleaved = reshape(x, tuple(v for s in shape for v in (1, s)))
    copies = broadcast_to(interleaved, tuple(v for r, s in zip(reps, shape, strict=True)
                                             for v in (r, s)))  # fmt: skip
    return reshape(copies, tuple(r * s for r, s in zip(reps, shape, strict=True)))


def repeat(x, repeats, axis: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times along ``axis`` (``np.repeat``).

    ``axis=None`` works on the flattened tensor. ``repeats`` is an int or one
    count per element along ``axis``. The gradient sums over the copies.

    Example:
        >>> import numnet
        >>> numnet.repeat(numnet.tensor([[1, 2], [3, 4]]), 2, axis=1).tolist()
        [[1, 1, 2, 2], [3, 3, 4, 4]]
        >>> numnet.repeat(numnet.tensor([1, 2, 3]), [0, 1, 2]).tolist()
        [2, 3, 3]
    """
    x = as_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis_arg("repeat", axis, x.ndim)
    counts, n = _counts("repeat", "repeats", repeats), x.shape[axis]
    if isinstance(repeats, (tuple, list)) and len(counts) != n:
        raise ValueError(
            f"repeat: 'repeats' has {len(counts)} counts for an axis of length {n}. "
            f"Expected an int or {n} counts"
        )
    if not isinstance(repeats, (tuple, list)):
        # (.., n, ..) -> (.., n, 1, ..) -> (.., n, r, ..) -> (.., n*r, ..)
        r = counts[0]
        column = reshape(x, x.shape[: axis + 1] + (1,) + x.shape[axis + 1 :])
        copies = broadcast_to(column, x.shape[: axis + 1] + (r,) + x.shape[axis + 1 :])
        return reshape(copies, x.shape[:axis] + (n * r,) + x.shape[axis + 1 :])
    xp = backend.get_array_module(x.data)
    return take(x, xp.repeat(xp.arange(n), xp.asarray(counts)), axis=axis)


def _triangle(op: str, x, k: int, lower: bool) -> Tensor:
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(
            f"{op}: expected a tensor with at least 2 dimensions (a matrix or a "
            f"batch of them). Received: shape {x.shape}"
        )
    xp = backend.get_array_module(x.data)
    n, m = x.shape[-2:]
    mask = xp.tri(n, m, k, dtype=bool) if lower else ~xp.tri(n, m, k - 1, dtype=bool)
    return where(mask, x, xp.zeros((), dtype=x.dtype))


def tril(x, k: int = 0) -> Tensor:
    """The lower triangle of the last two axes (zeros above diagonal ``k``).

    Example:
        >>> import numnet
        >>> numnet.tril(numnet.ones(2, 2)).tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    return _triangle("tril", x, k, lower=True)


def triu(x, k: int = 0) -> Tensor:
    """The upper triangle of the last two axes (zeros below diagonal ``k``).

    Example:
        >>> import numnet
        >>> numnet.triu(numnet.ones(2, 2)).tolist()
        [[1.0, 1.0], [0.0, 1.0]]
    """
    return _triangle("triu", x, k, lower=False)


class _Diagonal(Function):
    def __init__(self, offset: int, axis1: int, axis2: int):
        self.offset, self.axis1, self.axis2 = offset, axis1, axis2

    def forward(self, x):
        self.shape = x.shape
        y = self.xp.diagonal(x, self.offset, self.axis1, self.axis2)
        return y.copy()  # NumPy's diagonal is a read-only view

    def backward(self, gy):
        # y[..., i] = x[.., i, .., i + offset, ..]: put gy back on that diagonal
        xp = self.xp
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        view = xp.moveaxis(gx, (self.axis1, self.axis2), (-2, -1))
        i = xp.arange(gy.shape[-1])
        view[..., i + max(-self.offset, 0), i + max(self.offset, 0)] = gy
        return gx


def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal of the (axis1, axis2) planes, as the last axis (``np.diagonal``).

    Example:
        >>> import numnet
        >>> x = numnet.arange(9).reshape(3, 3)
        >>> numnet.diagonal(x).tolist(), numnet.diagonal(x, offset=1).tolist()
        ([0, 4, 8], [1, 5])
    """
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(
            f"diagonal: expected at least 2 dimensions. Received: shape {x.shape}"
        )
    a1, a2 = _axis_arg("diagonal", axis1, x.ndim), _axis_arg("diagonal", axis2, x.ndim)
    if a1 == a2:
        raise ValueError(
            f"diagonal: axis1 and axis2 must differ. Received: {axis1}, {axis2}"
        )
    return _Diagonal(int(offset), a1, a2)(x)


def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum of the diagonal (``np.trace``): ``sum(diagonal(x, offset, axis1, axis2))``.

    Example:
        >>> import numnet
        >>> numnet.trace(numnet.tensor([[1.0, 2.0], [3.0, 4.0]])).item()
        5.0
    """
    return _sum(diagonal(x, offset, axis1, axis2), axis=-1)


def outer(a, b) -> Tensor:
    """Outer product of two vectors (inputs are flattened, as ``np.outer``).

    Example:
        >>> import numnet
        >>> numnet.outer(numnet.tensor([1, 2]), numnet.tensor([1, 10, 100])).tolist()
        [[1, 10, 100], [2, 20, 200]]
    """
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def moveaxis(x, source, destination) -> Tensor:
    """Move axes ``source`` to positions ``destination`` (``np.moveaxis``).

    Example:
        >>> import numnet
        >>> numnet.moveaxis(numnet.zeros(2, 3, 4), 0, -1).shape
        (3, 4, 2)
    """
    x = as_tensor(x)
    src = source if isinstance(source, (tuple, list)) else (source,)
    dst = destination if isinstance(destination, (tuple, list)) else (destination,)
    src = [_axis_arg("moveaxis", a, x.ndim) for a in src]
    dst = [_axis_arg("moveaxis", a, x.ndim) for a in dst]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(
            f"moveaxis: 'source' and 'destination' must be distinct axes, as many of "
            f"each. Received: source={source!r}, destination={destination!r}"
        )
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return transpose(x, tuple(order))


def hstack(tensors) -> Tensor:
    """Join along the second axis (the first for 1-D inputs), as ``np.hstack``.

    Example:
        >>> import numnet
        >>> numnet.hstack([numnet.tensor([1, 2]), numnet.tensor([3])]).tolist()
        [1, 2, 3]
    """
    parts = [as_tensor(t) for t in tensors]
    parts = [reshape(t, (1,)) if t.ndim == 0 else t for t in parts]
    return concatenate(parts, axis=0 if parts and parts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along the first axis; 1-D inputs become rows (``np.vstack``).

    Example:
        >>> import numnet
        >>> numnet.vstack([numnet.tensor([1, 2]), numnet.tensor([3, 4])]).tolist()
        [[1, 2], [3, 4]]
    """
    parts = [as_tensor(t) for t in tensors]
    parts = [reshape(t, (1, -1)) if t.ndim < 2 else t for t in parts]
    return concatenate(parts, axis=0)


def masked_fill(x, mask, value) -> Tensor:
    """``value`` where ``mask`` is true, ``x`` elsewhere (``torch.masked_fill``).

    The gradient w.r.t. x is zero at the filled positions.

    Example:
        >>> import numnet
        >>> x = numnet.tensor([1.0, 2.0, 3.0])
        >>> numnet.masked_fill(x, x > 1.5, 0.0).tolist()
        [1.0, 0.0, 0.0]
    """
    x = as_tensor(x)
    raw = mask.data if isinstance(mask, Tensor) else mask
    if not backend.is_array(raw):  # a Python or NumPy bool, a list
        raw = backend.get_array_module(x.data).asarray(raw)
    if raw.dtype != bool:
        raise TypeError(
            f"masked_fill: 'mask' must be boolean. Received: dtype {raw.dtype}"
        )
    return where(raw, value, x)


def nan_to_num(x, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    """Replace NaN and +-inf by finite numbers (``np.nan_to_num``).

    Infinities become the dtype's largest finite values unless given. The
    gradient is 1 at finite elements and 0 at replaced ones.

    Example:
        >>> import numnet
        >>> x = numnet.tensor([1.0, float("nan"), float("inf")])
        >>> numnet.nan_to_num(x, posinf=9.0).tolist()
        [1.0, 0.0, 9.0]
    """
    x = as_tensor(x)
    xp = backend.get_array_module(x.data)
    fill = xp.nan_to_num(x.data, nan=nan, posinf=posinf, neginf=neginf)
    return where(xp.isfinite(x.data), x, fill)


class _Mod(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return self.xp.mod(a, b)

    def backward(self, gy):
        # a mod b = a - floor(a / b) * b: d/da = 1, d/db = -floor(a / b)
        gb = (
            -gy * self.xp.floor_divide(self.a, self.b)
            if self.needs_input_grad[1]
            else None
        )
        return gy, gb


def mod(a, b) -> Tensor:
    """Remainder with the sign of the divisor (``np.mod``, ``torch.remainder``).

    Gradient: 1 w.r.t. ``a`` and ``-floor(a / b)`` w.r.t. ``b`` (away from the
    jumps at multiples of b).

    Example:
        >>> import numnet
        >>> numnet.mod(numnet.tensor([5.0, -5.0]), 3.0).tolist()
        [2.0, 1.0]
    """
    return _Mod()(a, b)
