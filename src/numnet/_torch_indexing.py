"""PyTorch's indexing functions: ``gather``, ``index_select``, ``scatter``,
``scatter_add`` and ``clone`` (top-level ``numnet.*`` and Tensor methods).

``gather`` and ``index_select`` are the gathers of :mod:`numnet.functional._gather`
with PyTorch's argument order (their gradient is a scatter-add). ``scatter`` and
``scatter_add`` are one Function, differentiable with respect to the input and
``src`` as in PyTorch. Indices may be negative (counted from the end, as in
every numnet gather); they are validated with messages that name the function.
"""

from __future__ import annotations

from numnet import backend
from numnet.autograd import Function
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional._gather import _axis_arg, _indices, take_along_axis
from numnet.functional._indexing import getitem


class _Scatter(Function):
    """``out = x`` with ``src[j]`` written (or added) at ``index[j]`` along ``axis``.

    ``pos`` is the fancy index of the positions written: ``index`` along
    ``axis``, the index's own coordinates on the other axes; only the leading
    ``index.shape`` block of ``src`` is used (PyTorch's rule).
    """

    def __init__(self, axis: int, index, add: bool):
        self.axis, self.index, self.add = axis, index, add

    def forward(self, x, src):
        xp, idx = self.xp, self.index
        self.pos = tuple(
            idx if d == self.axis else xp.arange(n).reshape(_along(d, n, idx.ndim))
            for d, n in enumerate(idx.shape)
        )
        self.block = tuple(slice(0, n) for n in idx.shape)
        self.src_shape = src.shape
        values = src[self.block]  # of index's shape (checked at the boundary)
        if self.add:  # repeated positions accumulate: the backend's scatter-add
            return x + self.ops.index_add(x.shape, self.pos, values)
        out = x.copy()
        out[self.pos] = values
        return out

    def backward(self, gy):
        xp = self.xp
        gx = gy
        if not self.add:  # overwritten positions no longer depend on x
            gx = gy.copy()
            gx[self.pos] = 0
        # d out[pos_j] / d src_j = 1 (PyTorch's rule, also for repeated positions)
        gsrc = xp.zeros(self.src_shape, dtype=gy.dtype)
        gsrc[self.block] = gy[self.pos]
        return gx, gsrc


def _along(d: int, n: int, ndim: int) -> tuple[int, ...]:
    shape = [1] * ndim
    shape[d] = n
    return tuple(shape)


def _scatter(op: str, x, axis: int, index, src, add: bool) -> Tensor:
    x = as_tensor(x)
    axis = _axis_arg(op, axis, x.ndim)
    xp = backend.get_array_module(x.data)
    idx = _indices(op, index, xp, x.shape[axis])
    if not isinstance(src, Tensor) and not backend.is_array(src):  # a scalar value
        src = Tensor._from_op(xp.full(idx.shape, src, dtype=x.dtype))
    src = as_tensor(src)
    _check_scatter_shapes(op, x, axis, idx, src)
    return _Scatter(axis, idx, add)(x, src)


def _check_scatter_shapes(op: str, x: Tensor, axis: int, idx, src: Tensor) -> None:
    if src.dtype != x.dtype:
        raise TypeError(
            f"{op}: 'src' must have the dtype of the input ({x.dtype}). Received: "
            f"src of dtype {src.dtype}"
        )
    if idx.ndim != x.ndim or src.ndim != x.ndim:
        raise ValueError(
            f"{op}: index and src must have as many dimensions as the input "
            f"({x.ndim}). Received: index of shape {tuple(idx.shape)}, src of "
            f"shape {src.shape}"
        )
    for d, n in enumerate(idx.shape):
        if n > src.shape[d] or (d != axis and n > x.shape[d]):
            raise ValueError(
                f"{op}: index of shape {tuple(idx.shape)} is larger than src "
                f"{src.shape} or than the input {x.shape} (outside axis {axis}) "
                f"at dimension {d}"
            )


def scatter(x, axis: int, index, src) -> Tensor:
    """A copy of ``x`` with ``src`` written at ``index`` along ``axis`` (PyTorch).

    For ``axis=1``: ``out[i][index[i][j]] = src[i][j]``. ``index`` has the
    dimensions of ``x``; ``src`` (a tensor of x's dtype, or a number) has at
    least ``index``'s shape, of which only the leading block is read. Where
    ``index`` repeats a position, which write wins is not specified (as in
    PyTorch). Differentiable with respect to ``x`` (zero at written positions)
    and ``src`` (the gradient gathered at ``index``).

    Example:
        >>> import numnet
        >>> x = numnet.zeros(2, 3)
        >>> numnet.scatter(x, 1, numnet.tensor([[2], [0]]), 1.0).tolist()
        [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    return _scatter("scatter", x, axis, index, src, add=False)


def scatter_add(x, axis: int, index, src) -> Tensor:
    """``x`` plus ``src`` added at ``index`` along ``axis``; repeats accumulate.

    ``out[i][index[i][j]] += src[i][j]`` for ``axis=1`` (``torch.scatter_add``;
    the same shape rules as :func:`scatter`). Differentiable with respect to
    ``x`` (identity) and ``src`` (the gradient gathered at ``index``).

    Example:
        >>> import numnet
        >>> counts = numnet.scatter_add(numnet.zeros(3), 0, numnet.tensor([0, 2, 0]),
        ...                             numnet.ones(3))
        >>> counts.tolist()
        [2.0, 0.0, 1.0]
    """
    return _scatter("scatter_add", x, axis, index, src, add=True)


def gather(x, axis: int, index) -> Tensor:
    """``out[i][j] = x[i][index[i][j]]`` for ``axis=1`` (``torch.gather``).

    This is :func:`numnet.take_along_axis` with PyTorch's argument order: the
    other axes of ``index`` broadcast against ``x``'s (NumPy's rule; PyTorch
    instead reads the leading block of ``x`` when ``index`` is smaller).
    """
    return take_along_axis(x, index, axis)


def index_select(x, axis: int, index) -> Tensor:
    """The slices of ``x`` at the 1-D ``index`` along ``axis`` (``torch.index_select``).

    Differentiable; an index given twice receives both gradients.

    Example:
        >>> import numnet
        >>> x = numnet.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> numnet.index_select(x, 1, numnet.tensor([2, 0])).tolist()
        [[3.0, 1.0], [6.0, 4.0]]
    """
    x = as_tensor(x)
    axis = _axis_arg("index_select", axis, x.ndim)
    xp = backend.get_array_module(x.data)
    idx = _indices("index_select", index, xp, x.shape[axis])
    if idx.ndim > 1:
        raise ValueError(
            f"index_select: index must be 0-D or 1-D. Received: index of shape "
            f"{tuple(idx.shape)}"
        )
    return getitem(x, (slice(None),) * axis + (idx.reshape(-1),))


class _Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy  # y = x: dy/dx = 1


def clone(x) -> Tensor:
    """A copy of ``x`` that does not share its data; differentiable (identity)."""
    return _Clone()(x)
