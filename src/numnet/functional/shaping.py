"""Shape ops: reshape, transpose, squeeze/unsqueeze, broadcast, indexing, joins, pad.

None of them computes anything: backward moves the gradient back to where each
element came from (the inverse permutation, a sum over broadcast copies, a
scatter-add for indexing, a slice for padding).
"""

from __future__ import annotations

import itertools

import numpy as np

from numnet import backend
from numnet.autograd.function import Function, unbroadcast
from numnet.autograd.tensor import Tensor, array_module, as_tensor
from numnet.functional._indexing import (  # noqa: F401 (re-export: shaping.<name>)
    _GetItem,
    _has_integer_array,
    _Pad,
    _raw_index,
    getitem,
    pad,
)


class _Reshape(Function):
    def __init__(self, shape):
        if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
            shape = (shape,)  # NumPy's reshape(x, 12)
        if not isinstance(shape, (tuple, list)) or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in shape
        ):
            raise TypeError(
                f"reshape: invalid value for argument 'shape'. Expected an int or a "
                f"tuple of ints. Received: shape={shape!r}"
            )
        self.shape = tuple(int(d) for d in shape)

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} "
                f"({x.size} elements) into shape {self.shape}"
            ) from None

    def backward(self, gy):
        return gy.reshape(self.in_shape)


class _Transpose(Function):
    def __init__(self, axes):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        axes = self.axes if self.axes is not None else tuple(range(x.ndim))[::-1]
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(
                f"transpose: axes {self.axes} are not a permutation of the "
                f"{x.ndim} axes of a tensor of shape {x.shape}"
            )
        self.perm = axes
        return x.transpose(axes)

    def backward(self, gy):
        order = [a % gy.ndim for a in self.perm]
        return gy.transpose(sorted(range(gy.ndim), key=order.__getitem__))


class _BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return self.xp.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(
                f"broadcast_to: cannot broadcast a tensor of shape {x.shape} to "
                f"shape {self.shape}"
            ) from None

    def backward(self, gy):
        return unbroadcast(gy, self.in_shape)


class _SumTo(Function):
    """The adjoint of broadcast_to: sum x down to ``shape``."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return unbroadcast(x, self.shape)
        except ValueError:
            raise ValueError(
                f"sum_to: cannot sum a tensor of shape {x.shape} to shape {self.shape}"
            ) from None

    def backward(self, gy):
        return self.xp.broadcast_to(gy, self.in_shape)


class _Concatenate(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = list(itertools.accumulate(x.shape[self.axis] for x in xs))[:-1]
        return self.xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        return tuple(self.xp.split(gy, self.sizes, axis=self.axis))


class _Stack(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return self.xp.stack(xs, axis=self.axis)

    def backward(self, gy):
        return tuple(self.xp.moveaxis(gy, self.axis, 0))


class _Split(Function):
    def __init__(self, indices_or_sections, axis):
        self.sections, self.axis = indices_or_sections, axis

    def forward(self, x):
        try:
            return tuple(self.xp.split(x, self.sections, axis=self.axis))
        except ValueError:
            raise ValueError(
                f"split: a tensor of shape {x.shape} cannot be split into "
                f"{self.sections} equal sections along axis {self.axis}"
            ) from None

    def backward(self, *gys):
        return self.xp.concatenate(gys, axis=self.axis)


def shape(x) -> tuple[int, ...]:
    """Return the shape of a Tensor or array as a tuple (Keras's ``ops.shape``).

    Not an op: a shape has no gradient.

    >>> import numnet
    >>> import numnet.functional as F
    >>> F.shape(F.reshape(numnet.tensor([1.0, 2.0, 3.0, 4.0]), (2, 2)))
    (2, 2)
    """
    if not hasattr(x, "shape"):
        x = backend.as_array(x)
    return tuple(x.shape)


def reshape(x, shape) -> Tensor:
    """Give x a new shape with the same number of elements (``-1`` infers one).

    Shape:
        x: any shape -> ``shape`` (same number of elements).
    """
    return _Reshape(shape)(x)


def flatten(x, start_axis: int = 0) -> Tensor:
    """Merge the axes from ``start_axis`` on into one (``flatten(x, 1)`` per sample).

    Shape:
        x: (d0, ..., dk) -> (d0, ..., d_{start_axis - 1}, product of the rest).
    """
    x = as_tensor(x)
    return _Reshape(x.shape[:start_axis] + (-1,))(x)


def transpose(x, axes=None) -> Tensor:
    """Permute axes (reverse them when ``axes`` is None).

    Shape:
        x: (d0, ..., dk) -> the permuted dims (d_axes[0], ...).
    """
    return _Transpose(axes)(x)


def permute(x, axes) -> Tensor:
    """Permute axes (PyTorch spelling).

    Shape:
        x: (d0, ..., dk) -> the permuted dims (d_axes[0], ...).
    """
    return _Transpose(axes)(x)


def swapaxes(x, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes (``torch.transpose(x, d0, d1)``, ``np.swapaxes``).

    Shape:
        x: any shape -> the same dims with axis1 and axis2 exchanged.
    """
    x = as_tensor(x)
    axes = list(range(x.ndim))
    a, b = (
        _check_axis("swapaxes", axis1, x.ndim),
        _check_axis("swapaxes", axis2, x.ndim),
    )
    axes[a], axes[b] = axes[b], axes[a]
    return _Transpose(axes)(x)


def _check_axis(name: str, axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{name}: axis {axis} is out of bounds for a tensor of {ndim} dimension(s)"
        )
    return axis % ndim


def squeeze(x, axis=None) -> Tensor:
    """Remove axes of length one (all of them, or ``axis``).

    Shape:
        x: any shape -> the shape without the removed length-1 axes.
    """
    x = as_tensor(x)
    if axis is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
        axes = {_check_axis("squeeze", a, x.ndim) for a in axes}
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(
                    f"squeeze: axis {a} has length {x.shape[a]}, expected 1 "
                    f"(tensor shape {x.shape})"
                )
        shape = tuple(n for i, n in enumerate(x.shape) if i not in axes)
    return _Reshape(shape)(x)


def unsqueeze(x, axis: int) -> Tensor:
    """Insert an axis of length one at ``axis``.

    Shape:
        x: (d0, ..., dk) -> a 1 inserted at ``axis`` (k + 2 dims).
    """
    x = as_tensor(x)
    axis = _check_axis("unsqueeze", axis, x.ndim + 1)
    return _Reshape(x.shape[:axis] + (1,) + x.shape[axis:])(x)


def broadcast_to(x, shape) -> Tensor:
    """Broadcast to ``shape``; the gradient is summed back to x's shape.

    Shape:
        x: broadcastable to ``shape`` -> ``shape``.
    """
    return _BroadcastTo(shape)(x)


def expand(x, shape) -> Tensor:
    """PyTorch spelling of :func:`broadcast_to`.

    Shape:
        x: broadcastable to ``shape`` -> ``shape``.
    """
    return _BroadcastTo(shape)(x)


def sum_to(x, shape) -> Tensor:
    """Sum ``x`` down to ``shape`` (the adjoint of :func:`broadcast_to`).

    The differentiable twin of ``numnet.autograd.unbroadcast``, which the engine
    applies to every input gradient.

    Shape:
        x: a shape that ``shape`` broadcasts to -> ``shape``.
    """
    return _SumTo(shape)(x)


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.

    Shape:
        tensors: equal shapes except along ``axis`` -> the sizes summed there.
    """
    tensors = list(tensors)
    _check_join("concatenate", tensors, axis, same_axis=False)
    return _Concatenate(axis)(*tensors)


def stack(tensors, axis: int = 0) -> Tensor:
    """Join tensors along a new axis.

    Shape:
        tensors: equal shapes (d0, ..., dk) -> a new axis of len(tensors) at ``axis``.
    """
    tensors = list(tensors)
    _check_join("stack", tensors, axis, same_axis=True)
    return _Stack(axis)(*tensors)


def _check_join(name: str, tensors, axis: int, same_axis: bool) -> None:
    if not tensors:
        raise ValueError(f"{name}: expected at least one tensor, received none")
    xp = array_module(*tensors)
    shapes = [xp.shape(t.data if isinstance(t, Tensor) else t) for t in tensors]
    ndim = len(shapes[0]) + (1 if same_axis else 0)
    axis = _check_axis(name, axis, ndim)
    for s in shapes[1:]:
        a, b = list(shapes[0]), list(s)
        if not same_axis and len(a) == len(b):
            a.pop(axis)
            b.pop(axis)
        if a != b:
            raise ValueError(
                f"{name}: all shapes must match except along axis {axis}"
                f"{'' if not same_axis else ' (stack needs equal shapes)'}. "
                f"Received shapes {shapes}"
            )


def split(x, indices_or_sections, axis: int = 0) -> tuple[Tensor, ...]:
    """Split into equal sections (an int) or at indices (a list), like ``np.split``.

    Shape:
        x: any shape -> pieces with the same shape except along ``axis``.
    """
    return _Split(indices_or_sections, axis)(x)
