"""Indexing and padding ops: ``getitem`` and ``pad``.

Backward moves the gradient back to where each element came from: a
scatter-add for indexing (repeated integer indices accumulate), a slice for
padding. Re-exported by :mod:`numnet.functional.shaping`.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, array_module, as_tensor


class _GetItem(Function):
    """x[index]; backward scatters with add, so repeated indices accumulate."""

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.in_shape = x.shape
        return x[self.index]

    def backward(self, gy):
        if _has_integer_array(self.index):
            # scatter-add: repeated indices accumulate
            return self.ops.index_add(self.in_shape, self.index, gy)
        gx = self.xp.zeros(self.in_shape, dtype=gy.dtype)
        gx[self.index] = gy  # slices, ints and masks never repeat an element
        return gx


def _has_integer_array(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(
        (backend.is_array(p) or isinstance(p, list))
        and backend.get_array_module(p).asarray(p).dtype.kind != "b"
        for p in parts
    )


class _Pad(Function):
    def __init__(self, pad_width, value):
        self.pad_width, self.value = pad_width, value

    def forward(self, x):
        self.slices = tuple(
            slice(b, b + n) for (b, _), n in zip(self.pad_width, x.shape, strict=True)
        )
        return self.xp.pad(x, self.pad_width or 0, constant_values=self.value)

    def backward(self, gy):
        return gy[self.slices]


def getitem(x, index) -> Tensor:
    """``x[index]``: slices, ints, None, Ellipsis, boolean masks and integer arrays.

    Shape:
        x: any shape -> the shape NumPy gives ``x.data[index]``.
    """
    return _GetItem(_raw_index(index, array_module(x)))(x)


def _raw_index(index, xp):
    if isinstance(index, tuple):
        return tuple(_index_part(i, xp) for i in index)
    return _index_part(index, xp)


def _index_part(part, xp):
    """An index (a Tensor's array, a NumPy array, a list) in x's namespace: a host
    index array into a device tensor is copied over, as PyTorch does."""
    if isinstance(part, Tensor):
        part = part.data
    if isinstance(part, list):
        return xp.asarray(part)
    if xp is not np and backend.is_array(part) and backend.get_array_module(part) is np:
        return xp.asarray(part)
    return part


def pad(x, pad_width, value: float = 0.0) -> Tensor:
    """Constant padding; ``pad_width`` is ((before, after), ...) per axis, as NumPy.

    Shape:
        x: (d0, ..., dk) -> (d0 + before0 + after0, ..., dk + beforek + afterk).
    """
    x = as_tensor(x)
    xp = array_module(x)
    try:
        width = xp.asarray(pad_width, dtype=int) if x.ndim else xp.zeros((0, 2), int)
        width = xp.broadcast_to(width, (x.ndim, 2))
    except (ValueError, TypeError):
        width = None
    if width is None or (width < 0).any():
        raise ValueError(
            f"pad: invalid value for argument 'pad_width'. Expected non-negative "
            f"(before, after) pairs for the {x.ndim} axes of a tensor of shape "
            f"{x.shape}. Received: pad_width={pad_width!r}"
        )
    return _Pad(tuple(tuple(int(v) for v in p) for p in width), value)(x)
