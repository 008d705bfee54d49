"""Products and norms: prod, cumprod, norm.

The gradients of products never divide by x: ``d prod / d x_j`` is the product
of the *other* elements, computed from exclusive prefix and suffix products, so
zeros in the input give exact gradients (PyTorch's results), not NaN or inf.
"""

from __future__ import annotations

import math

from numnet.autograd.function import Function
from numnet.autograd.tensor import Tensor, as_tensor
from numnet.functional._gather import _axis_arg
from numnet.functional.elementwise import abs as _abs
from numnet.functional.reduce import _expand_back, _normalize_axis
from numnet.functional.reduce import max as _max
from numnet.functional.reduce import min as _min
from numnet.functional.reduce import sum as _sum
from numnet.functional.shaping import reshape


def _exclusive_cumprod(xp, x):
    """``out[..., i] = prod(x[..., :i])`` along the last axis (1 for i = 0)."""
    ones = xp.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    return xp.cumprod(xp.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)


class _Prod(Function):
    def __init__(self, axis, keepdims: bool):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = _normalize_axis(self.axis, x.ndim, "prod")
        self.x = x
        return self.xp.prod(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        # dy/dx_j = prod_{i != j} x_i = (prod of those before j) * (those after j),
        # over the reduced axes moved last and flattened: no division by x_j
        xp, x, axes = self.xp, self.x, self.axes
        kept = [a for a in range(x.ndim) if a not in axes]
        moved = xp.transpose(x, kept + list(axes))
        lead = moved.shape[: len(kept)]
        flat = moved.reshape(lead + (math.prod(moved.shape[len(kept) :]),))
        before = _exclusive_cumprod(xp, flat)
        after = xp.flip(_exclusive_cumprod(xp, xp.flip(flat, axis=-1)), axis=-1)
        g = _expand_back(gy, axes, self.keepdims).reshape(lead + (1,))
        gx = (g * before * after).reshape(moved.shape)
        order = kept + list(axes)
        return xp.transpose(gx, [order.index(a) for a in range(x.ndim)])


class _Cumprod(Function):
    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, x):
        self.x = x
        return self.xp.cumprod(x, axis=self.axis)

    def backward(self, gy):
        # y_i = prod_{k<=i} x_k, so dL/dx_j = prod_{k<j} x_k * S_j with
        # S_j = sum_{i>=j} g_i prod_{j<k<=i} x_k, i.e. the reverse scan
        # S_j = g_j + x_{j+1} S_{j+1}: exact with zeros, no division by x
        xp = self.xp
        x, g = xp.moveaxis(self.x, self.axis, -1), xp.moveaxis(gy, self.axis, -1)
        if g.size == 0:
            return xp.zeros_like(self.x)
        scan = xp.empty_like(g)
        scan[..., -1] = g[..., -1]
        for j in range(g.shape[-1] - 2, -1, -1):
            scan[..., j] = g[..., j] + x[..., j + 1] * scan[..., j + 1]
        gx = _exclusive_cumprod(xp, x) * scan
        return xp.moveaxis(gx, -1, self.axis)


def prod(x, axis=None, keepdims: bool = False) -> Tensor:
    """Product of the elements over ``axis`` (all axes by default).

    The gradient of each element is the product of the others (exact with
    zeros in the input: no division by x).

    Example:
        >>> import numnet
        >>> x = numnet.tensor([[1.0, 2.0, 3.0], [0.0, 4.0, 5.0]], requires_grad=True)
        >>> y = numnet.prod(x, axis=1)
        >>> y.tolist()
        [6.0, 0.0]
        >>> y.sum().backward()
        >>> x.grad.tolist()
        [[6.0, 3.0, 2.0], [20.0, 0.0, 0.0]]
    """
    return _Prod(axis, keepdims)(x)


def cumprod(x, axis: int | None = None) -> Tensor:
    """Cumulative product along ``axis`` (None flattens first, as NumPy does).

    The backward is a reverse scan along ``axis`` (a loop over its length,
    vectorised over the other axes): exact with zeros, no division by x.

    Example:
        >>> import numnet
        >>> numnet.cumprod(numnet.tensor([1.0, 2.0, 0.0, 4.0])).tolist()
        [1.0, 2.0, 0.0, 0.0]
    """
    x = as_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    return _Cumprod(_axis_arg("cumprod", axis, x.ndim))(x)


class _L2Norm(Function):
    def __init__(self, axes: tuple[int, ...], keepdims: bool):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        self.x = x
        self.y = self.xp.sqrt((x * x).sum(axis=self.axes, keepdims=True))
        return self.y if self.keepdims else self.y.reshape(_squeezed(x, self.axes))

    def backward(self, gy):
        # d||x||/dx = x / ||x||; at x = 0 (a kink) we take the subgradient 0
        xp = self.xp
        safe = xp.where(self.y == 0, xp.ones_like(self.y), self.y)
        g = _expand_back(gy, self.axes, self.keepdims)
        return xp.where(self.y == 0, xp.zeros_like(self.x), g * self.x / safe)


def _squeezed(x, axes) -> tuple[int, ...]:
    return tuple(n for a, n in enumerate(x.shape) if a not in axes)


_VECTOR_ORDS = (None, 1, 2, math.inf, -math.inf)


def norm(x, ord=None, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """Vector norms and the Frobenius norm of matrices (``np.linalg.norm``).

    * vectors (``axis`` an int, or ``axis=None`` on a 1-D tensor): ``ord`` None
      or 2 (Euclidean), 1 (sum of absolute values), ``inf``/``-inf`` (max/min
      absolute value);
    * matrices (``axis`` a pair, or ``axis=None`` on a 2-D tensor): ``ord`` None
      or ``"fro"`` (the Frobenius norm);
    * ``axis=None`` and ``ord=None`` on any other tensor: the 2-norm of all
      elements (NumPy's rule).

    Gradients: the 2-norm and Frobenius norm have gradient ``x / ||x||``, taken
    as **0 at x = 0** (a subgradient; never NaN); ``abs'(0) = 0`` for ord 1;
    ``inf`` sends the gradient to one largest element.

    Example:
        >>> import numnet
        >>> x = numnet.tensor([[3.0, 4.0], [0.0, 0.0]], requires_grad=True)
        >>> y = numnet.norm(x, axis=1)
        >>> y.tolist()
        [5.0, 0.0]
        >>> y.sum().backward()
        >>> x.grad.tolist()  # 0 at the zero row, not NaN
        [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    x = as_tensor(x)
    if axis is None and ord is None:
        return _L2Norm(tuple(range(x.ndim)), keepdims)(x)
    axes = _normalize_axis(axis, x.ndim, "norm") if axis is not None else None
    if axes is None and x.ndim in (1, 2):
        axes = tuple(range(x.ndim))
    if axes is None or len(axes) not in (1, 2):
        raise ValueError(
            f"norm: invalid value for argument 'axis'. Expected an int (a vector "
            f"norm) or a pair of axes (a matrix norm) for a tensor of shape "
            f"{x.shape}. Received: axis={axis!r}"
        )
    if len(axes) == 2:
        if ord not in (None, "fro"):
            raise ValueError(
                f"norm: matrix norms support ord=None or 'fro' (the Frobenius norm). "
                f"Received: ord={ord!r}"
            )
        return _L2Norm(axes, keepdims)(x)
    if ord not in _VECTOR_ORDS:
        raise ValueError(
            f"norm: vector norms support ord=None, 1, 2, inf or -inf. "
            f"Received: ord={ord!r}"
        )
    if ord in (None, 2):
        return _L2Norm(axes, keepdims)(x)
    reduce = {1: _sum, math.inf: _max, -math.inf: _min}[ord]
    return reduce(_abs(x), axis=axes, keepdims=keepdims)
