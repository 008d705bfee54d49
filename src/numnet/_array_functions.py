"""Array functions that NumPy, Keras and PyTorch share: ``diag``, ``kron``,
``meshgrid``, ``isclose``, ``allclose`` (in ``numnet.ops`` and at top level).

``diag``, ``kron`` and ``meshgrid`` are differentiable (``kron`` and
``meshgrid`` compose reshape, multiply and broadcast; ``diag`` of a vector is
one small Function); ``isclose``/``allclose`` have no gradient.

Example:
    >>> import numnet
    >>> numnet.diag(numnet.tensor([1.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    >>> numnet.kron(numnet.eye(2), numnet.ones(1, 2)).tolist()
    [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
"""

from __future__ import annotations

import numpy as np

from numnet import functional as F
from numnet._logic import _namespace
from numnet.autograd import Function
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional._arrange import diagonal


class _DiagEmbed(Function):
    """A vector on diagonal ``k`` of a square matrix of zeros."""

    def __init__(self, k: int):
        self.k = k

    def forward(self, x):
        n, xp = x.shape[0], self.xp
        size = n + abs(self.k)
        self.rows = xp.arange(n) + max(-self.k, 0)
        self.cols = xp.arange(n) + max(self.k, 0)
        out = xp.zeros((size, size), dtype=x.dtype)
        out[self.rows, self.cols] = x
        return out

    def backward(self, gy):
        # y[r_i, c_i] = x_i, every other y is constant: dL/dx_i = g[r_i, c_i]
        return gy[self.rows, self.cols]


def diag(x, k: int = 0) -> Tensor:
    """A 1-D ``x`` on diagonal ``k`` of a square matrix, or the diagonal ``k`` of a
    2-D ``x`` (``np.diag``, ``torch.diag``, ``keras.ops.diag``). Differentiable.

    Raises:
        ValueError: when ``x`` is not 1-D or 2-D.

    Example:
        >>> import numnet
        >>> numnet.diag(numnet.tensor([5.0]), k=1).tolist()
        [[0.0, 5.0], [0.0, 0.0]]
        >>> numnet.diag(numnet.tensor([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [1.0, 4.0]
    """
    x = as_tensor(x)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"diag: 'k' must be an int. Received: k={k!r}")
    if x.ndim == 1:
        return _DiagEmbed(int(k))(x)
    if x.ndim == 2:
        return diagonal(x, int(k))
    raise ValueError(f"diag: expected a 1-D or 2-D tensor. Received: shape {x.shape}")


def kron(a, b) -> Tensor:
    """The Kronecker product (``np.kron``, ``torch.kron``); differentiable.

    The inputs are padded with leading axes of length 1 to the same number of
    dimensions; ``out[i*q + j] = a[i] * b[j]`` along each axis of sizes p, q.

    Shape:
        a: (p0, ..., pk), b: (q0, ..., qk) -> (p0*q0, ..., pk*qk).
    """
    a, b = as_tensor(a), as_tensor(b)
    ndim = max(a.ndim, b.ndim)
    sa = (1,) * (ndim - a.ndim) + a.shape
    sb = (1,) * (ndim - b.ndim) + b.shape
    # a as (p0, 1, p1, 1, ...) times b as (1, q0, 1, q1, ...): all products
    a_spread = F.reshape(a, tuple(n for p in sa for n in (p, 1)))
    b_spread = F.reshape(b, tuple(n for q in sb for n in (1, q)))
    shape = tuple(p * q for p, q in zip(sa, sb, strict=True))
    return F.reshape(a_spread * b_spread, shape)


def meshgrid(*tensors, indexing: str = "xy") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors (``np.meshgrid``); differentiable.

    ``indexing="xy"`` (NumPy's and Keras's default) gives grids of shape
    ``(len(t1), len(t0), ...)``; ``"ij"`` (PyTorch's default) gives
    ``(len(t0), len(t1), ...)``. The tensors may also come as one list.

    Example:
        >>> import numnet
        >>> gx, gy = numnet.meshgrid(numnet.arange(3), numnet.arange(2))
        >>> gx.shape, gy.tolist()
        ((2, 3), [[0, 0, 0], [1, 1, 1]])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("xy", "ij"):
        raise ValueError(
            f"meshgrid: invalid value for argument 'indexing'. Expected 'xy' or "
            f"'ij'. Received: indexing={indexing!r}"
        )
    tensors = [as_tensor(t) for t in tensors]
    for i, t in enumerate(tensors):
        if t.ndim > 1:
            raise ValueError(
                f"meshgrid: expected 0-D or 1-D tensors. Received: tensor {i} of "
                f"shape {t.shape}"
            )
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(axes) > 1:
        axes[0], axes[1] = 1, 0  # the first tensor varies along the columns
    shape = [0] * len(tensors)
    for t, axis in zip(tensors, axes, strict=True):
        shape[axis] = t.size
    grids = []
    for t, axis in zip(tensors, axes, strict=True):
        along = [1] * len(tensors)
        along[axis] = t.size
        grids.append(F.broadcast_to(F.reshape(t, tuple(along)), tuple(shape)))
    return tuple(grids)


def isclose(a, b, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:  # fmt: skip
    """``|a - b| <= atol + rtol * |b|`` elementwise (bool; no gradient)."""
    xp, (ra, rb) = _namespace(a, b)
    try:
        close = xp.isclose(ra, rb, rtol=rtol, atol=atol, equal_nan=equal_nan)
    except ValueError:
        raise ValueError(
            f"isclose: shapes {tuple(ra.shape)} and {tuple(rb.shape)} do not broadcast"
        ) from None
    return Tensor._from_op(close)


def allclose(a, b, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:  # fmt: skip
    """Whether :func:`isclose` holds everywhere (a Python bool, as PyTorch).

    Example:
        >>> import numnet
        >>> numnet.allclose(numnet.ones(2), numnet.tensor([1.0, 1.0 + 1e-7]))
        True
    """
    close = isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return bool(close.data.all())
