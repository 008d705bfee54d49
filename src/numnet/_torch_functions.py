"""PyTorch's top-level tensor functions: ``numnet.cat``, ``chunk``, ``clamp``,
``bmm``, ``unsqueeze``, ``permute``, ``flatten``, ``gather``, ``scatter``, ...

They are PyTorch names with numnet's keywords (``axis``, not ``dim``: a
``dim=`` raises a TypeError naming ``axis``) and PyTorch's positional order, so
``numnet.cat([a, b], 1)`` reads as ``torch.cat([a, b], 1)``. They live at top
level only: ``numnet.ops`` is Keras's namespace, where some of these names mean
something else (``keras.ops.scatter(indices, values, shape)``). Every function
with a tensor result is differentiable where PyTorch's is.

Example:
    >>> import numnet
    >>> a, b = numnet.ones(2, 1), numnet.zeros(2, 2)
    >>> numnet.cat([a, b], 1).tolist()
    [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    >>> [t.shape for t in numnet.chunk(numnet.arange(5), 3)]
    [(2,), (2,), (1,)]
"""

from __future__ import annotations

import math

import numpy as np

from numnet import backend, config, ops
from numnet import functional as F
from numnet._array_functions import allclose, isclose
from numnet._torch_indexing import clone, gather, index_select, scatter, scatter_add
from numnet.autograd import enable_grad, no_grad
from numnet.autograd.tensor import OPS, Tensor, as_tensor
from numnet.functional._gather import _axis_arg, _top_k, take_along_axis
from numnet.functional.shaping import _check_axis
from numnet.ops import _teaching

# ruff: noqa: A002 (PyTorch's argument names: min, max, sorted)


def cat(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``torch.cat``; ``numnet.concatenate``)."""
    return F.concatenate(tensors, axis=axis)


def chunk(x, chunks: int, axis: int = 0) -> tuple[Tensor, ...]:
    """Split ``x`` into at most ``chunks`` pieces along ``axis`` (``torch.chunk``).

    Every piece has ``ceil(n / chunks)`` slices but the last, which may be
    smaller; fewer pieces come back when the slices run out (``n=6, chunks=4``
    gives three pieces of 2). Differentiable.
    """
    x = as_tensor(x)
    if (
        isinstance(chunks, bool)
        or not isinstance(chunks, (int, np.integer))
        or (chunks < 1)
    ):
        raise ValueError(
            f"chunk: invalid value for argument 'chunks'. Expected a positive int. "
            f"Received: chunks={chunks!r}"
        )
    axis = _axis_arg("chunk", axis, x.ndim)
    n = x.shape[axis]
    if n == 0:  # PyTorch: `chunks` empty pieces
        return F.split(x, [0] * (int(chunks) - 1), axis=axis)
    size = math.ceil(n / chunks)
    return F.split(x, list(range(size, n, size)), axis=axis)


def clamp(x, min=None, max=None) -> Tensor:
    """Clamp values into [min, max] (``torch.clamp``, ``numnet.clip``)."""
    return F.clip(x, min, max)


def bmm(a, b) -> Tensor:
    """Batched matrix product of (B, n, k) and (B, k, m) tensors (``torch.bmm``)."""
    a, b = as_tensor(a), as_tensor(b)
    if (
        a.ndim != 3
        or b.ndim != 3
        or a.shape[0] != b.shape[0]
        or (a.shape[2] != b.shape[1])
    ):
        raise ValueError(
            f"bmm: expected tensors of shapes (B, n, k) and (B, k, m). Received: "
            f"{a.shape} and {b.shape}"
        )
    return F.matmul(a, b)


def mm(a, b) -> Tensor:
    """Matrix product of two 2-D tensors (``torch.mm``)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(
            f"mm: expected tensors of shapes (n, k) and (k, m). Received: "
            f"{a.shape} and {b.shape}"
        )
    return F.matmul(a, b)


def unsqueeze(x, axis: int) -> Tensor:
    """Insert an axis of length one at ``axis`` (``torch.unsqueeze``)."""
    return F.unsqueeze(x, axis)


def permute(x, *axes) -> Tensor:
    """Reorder the axes: ``permute(x, (2, 0, 1))`` or ``permute(x, 2, 0, 1)``."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    x = as_tensor(x)
    if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(
            f"permute: axes must be a permutation of the {x.ndim} axes of the "
            f"tensor. Received: axes={axes}"
        )
    return F.permute(x, axes)


def flatten(x, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """Merge axes ``start_axis`` to ``end_axis`` (inclusive) into one.

    ``torch.flatten`` with numnet's keywords. A 0-D tensor becomes 1-D.
    Differentiable.

    Example:
        >>> import numnet
        >>> numnet.flatten(numnet.zeros(2, 3, 4, 5), 1, 2).shape
        (2, 12, 5)
    """
    x = as_tensor(x)
    ndim = max(x.ndim, 1)
    start = _check_axis("flatten", start_axis, ndim)
    end = _check_axis("flatten", end_axis, ndim)
    if start > end:
        raise ValueError(
            f"flatten: start_axis ({start_axis}) must not come after end_axis "
            f"({end_axis}) for a tensor of {ndim} dimension(s)"
        )
    shape = x.shape or (1,)
    merged = math.prod(shape[start : end + 1])
    return F.reshape(x, shape[:start] + (merged,) + shape[end + 1 :])


def topk(x, k: int, axis: int = -1, largest: bool = True,
         sorted: bool = True) -> tuple[Tensor, Tensor]:  # fmt: skip
    """The ``k`` largest (or smallest) values along ``axis`` and their indices.

    ``torch.topk`` with numnet's ``axis``: ``(values, indices)``, values in order
    (largest first; smallest first for ``largest=False``), ties to the lower
    index. ``sorted=False`` is accepted and returns them sorted. The values are
    differentiable, the int64 indices are not.
    """
    x = as_tensor(x)
    if largest or x.ndim == 0:
        return _top_k("topk", x, k, axis)
    # the smallest are the largest of -x (unsigned and bool data widened first)
    key = x.data if x.dtype.kind in "fi" else x.data.astype("int64")
    _, indices = _top_k("topk", Tensor._from_op(-key), k, axis)
    return take_along_axis(x, indices, axis), indices


def numel(x) -> int:
    """The number of elements (``torch.numel``)."""
    return as_tensor(x).size


def from_numpy(array) -> Tensor:
    """A tensor sharing ``array``'s memory and keeping its dtype (``torch.from_numpy``).

    Unlike :func:`numnet.tensor`, nothing is copied and float64 stays float64.

    Example:
        >>> import numpy as np, numnet
        >>> a = np.zeros(2)
        >>> t = numnet.from_numpy(a)
        >>> a[0] = 5.0
        >>> t.tolist(), t.dtype
        ([5.0, 0.0], dtype('float64'))
    """
    if not backend.is_array(array):
        raise TypeError(
            f"from_numpy: expected a numpy.ndarray. Received: {type(array).__name__}"
        )
    return Tensor._from_op(array)


class set_grad_enabled:  # noqa: N801 (PyTorch's name)
    """Turn graph recording on or off: at once when called, until the ``with``
    block ends when used as a context manager (``torch.set_grad_enabled``).

    Example:
        >>> import numnet
        >>> with numnet.set_grad_enabled(False):
        ...     numnet.is_grad_enabled()
        False
        >>> numnet.is_grad_enabled()
        True
    """

    def __init__(self, mode: bool):
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(
                f"set_grad_enabled: 'mode' must be True or False. Received: {mode!r}"
            )
        # a scope of this thread, entered now; a plain call never leaves it
        self.scope = config.using(grad_enabled=bool(mode))
        self.scope.__enter__()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        self.scope.__exit__(*exc)


def inference_mode(mode: bool = True):
    """``no_grad()`` under PyTorch's name (``mode=False``: grad recording stays on).

    A context manager, also usable as a decorator.
    """
    return no_grad() if mode else enable_grad()


# the Tensor methods of numnet.autograd._tensor_methods_torch
OPS.update(
    topk=topk, flatten_axes=flatten, chunk=chunk, index_select=index_select,
    scatter=scatter, scatter_add=scatter_add, clone=clone, bmm=bmm, mm=mm,
    isclose=isclose, allclose=allclose, equal=ops.equal, not_equal=ops.not_equal,
    less=ops.less, less_equal=ops.less_equal, greater=ops.greater,
    greater_equal=ops.greater_equal, any=ops.any, all=ops.all,
)  # fmt: skip

# PyTorch code passes dim= to the functions with an axis: say numnet's spelling
cat, chunk, unsqueeze, flatten, topk = map(
    _teaching, (cat, chunk, unsqueeze, flatten, topk)
)
gather, index_select, scatter, scatter_add = map(
    _teaching, (gather, index_select, scatter, scatter_add)
)

__all__ = [
    "cat", "chunk", "clamp", "bmm", "mm", "unsqueeze", "permute", "flatten",
    "gather", "scatter", "scatter_add", "index_select", "topk", "numel",
    "from_numpy", "clone", "set_grad_enabled", "inference_mode",
]  # fmt: skip
