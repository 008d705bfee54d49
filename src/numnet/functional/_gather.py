"""Gathers by index and the ops built on them: take, take_along_axis, sort, top_k.

All of them are ``x[index]`` for an integer-array index, so they compose
:func:`~numnet.functional.getitem`: its backward is the backend's scatter-add
(``Ops.index_add``; ``np.add.at`` on NumPy, an atomic-add kernel on CuPy), so a
position picked twice receives both gradients. Indices are validated here, at
the boundary, with messages that name the op.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional._indexing import getitem
from numnet.functional.shaping import _check_axis, reshape


def _axis_arg(op: str, axis, ndim: int) -> int:
    """A valid int axis of a tensor with ``ndim`` dims, as a non-negative int."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(
            f"{op}: invalid value for argument 'axis'. Expected an int. "
            f"Received: axis={axis!r}"
        )
    return _check_axis(op, int(axis), ndim)


def _indices(op: str, indices, xp, size: int):
    """``indices`` as an integer array of ``xp`` with values in [-size, size)."""
    raw = indices.data if isinstance(indices, Tensor) else indices
    # lists, Python ints and host arrays into a device tensor are moved over
    same = backend.is_array(raw) and backend.get_array_module(raw) is xp
    idx = raw if same else xp.asarray(raw)
    if idx.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: indices must be integers. Received: an array of dtype {idx.dtype}"
        )
    if idx.size and (int(idx.min()) < -size or int(idx.max()) >= size):
        bad = idx[(idx < -size) | (idx >= size)].reshape(-1)[0]
        raise IndexError(
            f"{op}: index {int(bad)} is out of range for an axis of size {size} "
            f"(valid: {-size} to {size - 1})"
        )
    return idx


def take(x, indices, axis: int | None = None) -> Tensor:
    """Elements of ``x`` at ``indices`` along ``axis`` (``np.take``).

    ``axis=None`` reads the flattened tensor. The gradient is scattered back with
    an add, so an index given twice receives both gradients.

    Shape:
        x: (d0, ..., dk), indices: (i...) -> x.shape[:axis] + (i...) + x.shape[axis+1:]

    Example:
        >>> import numnet
        >>> x = numnet.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> numnet.take(x, [2, 0], axis=1).tolist()
        [[3.0, 1.0], [6.0, 4.0]]
        >>> numnet.take(x, [5]).tolist()
        [6.0]
    """
    x = as_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis_arg("take", axis, x.ndim)
    idx = _indices("take", indices, backend.get_array_module(x.data), x.shape[axis])
    return getitem(x, (slice(None),) * axis + (idx,))


def take_along_axis(x, indices, axis: int) -> Tensor:
    """Pick one element of ``x`` per position of ``indices`` along ``axis``.

    ``out[i, j] = x[i, indices[i, j]]`` for ``axis=1`` (``np.take_along_axis``,
    ``torch.gather``). ``indices`` has as many dimensions as ``x``; its other
    axes broadcast against ``x``'s. The gradient is a scatter-add into ``x``.

    Shape:
        x: (d0, ..., dk), indices: same ndim -> the broadcast shape, with
        ``indices.shape[axis]`` along ``axis``.

    Example:
        >>> import numnet
        >>> x = numnet.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> y = numnet.take_along_axis(x, numnet.tensor([[1, 1], [0, 1]]), axis=1)
        >>> y.tolist()
        [[2.0, 2.0], [3.0, 4.0]]
        >>> y.sum().backward()
        >>> x.grad.tolist()
        [[0.0, 2.0], [1.0, 1.0]]
    """
    x = as_tensor(x)
    axis = _axis_arg("take_along_axis", axis, max(x.ndim, 1))
    xp = backend.get_array_module(x.data)
    idx = _indices("take_along_axis", indices, xp, x.shape[axis] if x.ndim else 0)
    if idx.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices must have as many dimensions as x ({x.ndim}). "
            f"Received: indices of shape {tuple(idx.shape)}"
        )
    # the fancy index of np.take_along_axis: aranges on the other axes
    index = []
    for d, n in enumerate(x.shape):
        shape = [1] * x.ndim
        shape[d] = idx.shape[d] if d == axis else n
        index.append(idx if d == axis else xp.arange(n).reshape(shape))
    if any(
        d != axis and 1 not in (m, n) and m != n
        for d, (m, n) in enumerate(zip(idx.shape, x.shape, strict=True))
    ):
        raise ValueError(
            f"take_along_axis: indices of shape {tuple(idx.shape)} do not broadcast "
            f"against x of shape {x.shape} outside axis {axis}"
        )
    return getitem(x, tuple(index))


def _stable_argsort(x, axis: int):
    xp = backend.get_array_module(x)
    try:
        return xp.argsort(x, axis=axis, kind="stable")
    except (TypeError, NotImplementedError):  # CuPy's argsort is stable already
        return xp.argsort(x, axis=axis)


def sort(x, axis: int = -1) -> Tensor:
    """The values of ``x`` sorted ascending along ``axis`` (differentiable).

    The gradient of each output goes back to the element it came from; tied
    values keep their order (a stable sort), so each gets its own gradient.

    Example:
        >>> import numnet
        >>> numnet.sort(numnet.tensor([[3.0, 1.0, 2.0]])).tolist()
        [[1.0, 2.0, 3.0]]
    """
    x = as_tensor(x)
    axis = _axis_arg("sort", axis, max(x.ndim, 1))
    if x.ndim == 0:
        return getitem(x, ())
    order = _stable_argsort(x.data, axis)
    return take_along_axis(x, order, axis)


def top_k(x, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:  # noqa: A002
    """The ``k`` largest values along the last axis and their indices (Keras ``top_k``).

    Values come largest first; ties go to the lower index. The values are
    differentiable (each gradient goes back to the element picked), the indices
    (int64) are not. ``sorted=False`` is accepted and returns them sorted too.

    Raises:
        ValueError: when ``k`` is not in [0, x.shape[-1]].

    Example:
        >>> import numnet
        >>> values, indices = numnet.top_k(numnet.tensor([1.0, 4.0, 2.0, 3.0]), 2)
        >>> values.tolist(), indices.tolist()
        ([4.0, 3.0], [1, 3])
    """
    return _top_k("top_k", as_tensor(x), k, -1)


def topk(x, k: int, axis: int = -1) -> tuple[Tensor, Tensor]:
    """``Tensor.topk``: :func:`top_k` along any ``axis`` (PyTorch's argument order).

    Example:
        >>> import numnet
        >>> values, indices = numnet.tensor([[1.0, 5.0], [3.0, 2.0]]).topk(1, axis=0)
        >>> values.tolist(), indices.tolist()
        ([[3.0, 5.0]], [[1, 0]])
    """
    return _top_k("topk", as_tensor(x), k, axis)


def _top_k(op: str, x: Tensor, k, axis: int) -> tuple[Tensor, Tensor]:
    if x.ndim == 0:
        raise ValueError(
            f"{op}: expected a tensor with at least 1 dimension. Received a 0-d tensor"
        )
    axis = _axis_arg(op, axis, x.ndim)
    n = x.shape[axis]
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 0 <= k <= n:
        raise ValueError(
            f"{op}: invalid value for argument 'k'. Expected an int in [0, {n}] "
            f"(the size of axis {axis}). Received: k={k!r}"
        )
    xp = backend.get_array_module(x.data)
    # largest first, ties to the lower index: a stable ascending sort of -x
    key = x.data if x.dtype.kind in "fi" else x.data.astype("int64")
    order = _stable_argsort(-key, axis)
    indices = xp.take(order, xp.arange(int(k)), axis=axis)
    return take_along_axis(x, indices, axis), Tensor._from_op(indices)
