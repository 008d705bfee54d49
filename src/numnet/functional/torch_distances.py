"""PyTorch's norms and distances: normalize, cosine_similarity, pairwise_distance
and cdist, with PyTorch's names, arguments and formulas.

All are compositions of differentiable ops. A p-norm has an infinite slope at
the zero vector (sqrt at 0); as in PyTorch, its gradient there is 0 (the
"safe input" idiom of :func:`safe_sqrt`), so a zero distance never makes a NaN.
PyTorch's ``dim`` is accepted, and NumPy's spelling ``axis`` as well.
"""

from __future__ import annotations

import math

from numnet.autograd.tensor import Tensor, array_module
from numnet.functional._args import dim_or_axis, floating, norm_order, number
from numnet.functional.elementwise import abs, clip, maximum, sqrt, where
from numnet.functional.linalg import matmul
from numnet.functional.reduce import max, sum
from numnet.functional.shaping import swapaxes, unsqueeze

CDIST_MODES = (
    "use_mm_for_euclid_dist_if_necessary",
    "use_mm_for_euclid_dist",
    "donot_use_mm_for_euclid_dist",
)


def safe_sqrt(x: Tensor) -> Tensor:
    """sqrt(x) for x >= 0, with value and gradient 0 where x is exactly 0.

    sqrt has an infinite slope at 0; feeding it 1 there and selecting 0 after
    keeps the backward free of 0 * inf.
    """
    zero = x.data == 0
    return where(zero, 0.0, sqrt(where(zero, 1.0, x)))


def vector_norm(x: Tensor, p: float, axis: int, keepdims: bool = False) -> Tensor:
    """The p-norm (sum |x|^p)^(1/p) along ``axis``; p may be inf (max |x|) or 0
    (the count of non-zeros, no gradient). Gradient 0 at the zero vector."""
    if p == 2:
        return safe_sqrt(sum(x * x, axis=axis, keepdims=keepdims))
    if p == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if p == math.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if p == 0:
        count = (x.data != 0).sum(axis=axis, keepdims=keepdims)
        return Tensor._from_op(count.astype(x.dtype))
    total = sum(abs(x) ** p, axis=axis, keepdims=keepdims)
    zero = total.data == 0
    return where(zero, 0.0, where(zero, 1.0, total) ** (1.0 / p))


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, *, axis=None):
    """``input / max(||input||_p, eps)`` along ``dim`` (PyTorch's ``normalize``).

    Args:
        input: a floating-point tensor.
        p: the norm's order (> 0, or inf).
        dim: the axis to normalise (PyTorch's default 1); ``axis`` is its
            NumPy spelling.
        eps: the floor of the norm: a zero vector stays zero.

    Shape:
        any -> the same shape.

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> F.normalize(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
        [[0.6, 0.8], [0.0, 0.0]]
    """
    x = floating("normalize", input)
    p = norm_order("normalize", p)
    axis = dim_or_axis("normalize", dim, axis, 1, x.ndim)
    return x / maximum(vector_norm(x, p, axis, keepdims=True), eps)


def _clamped_norm(x: Tensor, axis: int, eps: float) -> Tensor:
    """||x|| along ``axis`` floored at ``eps`` as PyTorch's cosine_similarity
    does: the floor is applied outside autograd, so the gradient passes
    through it as if it were the identity."""
    norm = vector_norm(x, 2.0, axis, keepdims=True)
    lift = array_module(x).maximum(norm.data, eps) - norm.data  # 0 above eps
    return norm + Tensor._from_op(lift)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8, *, axis=None):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``.

    ``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))``: each norm is
    clamped separately, as in PyTorch (>= 1.12); the inputs broadcast.

    Args:
        x1, x2: broadcastable floating-point tensors.
        dim: the feature axis (PyTorch's default 1); ``axis`` is its NumPy
            spelling.
        eps: the floor of each norm.

    Shape:
        x1, x2: broadcastable -> their broadcast shape without ``dim``.

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> F.cosine_similarity(np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]])).tolist()
        [1.0]
    """
    a = floating("cosine_similarity", x1, "x1")
    b = floating("cosine_similarity", x2, "x2")
    _broadcast("cosine_similarity", a, b, "x1", "x2")
    eps = _eps("cosine_similarity", eps)
    ndim = a.ndim if a.ndim >= b.ndim else b.ndim
    axis = dim_or_axis("cosine_similarity", dim, axis, 1, ndim) - ndim
    a_hat = a / _clamped_norm(a, axis, eps) if a.ndim else a
    b_hat = b / _clamped_norm(b, axis, eps) if b.ndim else b
    return sum(a_hat * b_hat, axis=axis)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` along the last axis (``torch.nn.functional.
    pairwise_distance``); the inputs broadcast.

    Args:
        x1, x2: (N, D) or (D,) embeddings.
        p: the norm's order (> 0, or inf).
        eps: added to the difference (PyTorch's), so equal rows have a small
            positive distance and a finite gradient.
        keepdim: keep the reduced axis (length 1).

    Shape:
        x1, x2: (N, D) -> (N,) (or (N, 1) with ``keepdim``).

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> a, b = np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])
        >>> F.pairwise_distance(a, b, eps=0).tolist()
        [5.0]
    """
    a = floating("pairwise_distance", x1, "x1")
    b = floating("pairwise_distance", x2, "x2")
    _broadcast("pairwise_distance", a, b, "x1", "x2")
    p = norm_order("pairwise_distance", p)
    if a.ndim == 0 and b.ndim == 0:
        raise ValueError(
            "pairwise_distance: expected vectors with at least one axis. "
            "Received: two scalars"
        )
    eps = _eps("pairwise_distance", eps)
    return vector_norm(a - b + eps, p, -1, keepdims=bool(keepdim))


def cdist(x1, x2, p: float = 2.0, compute_mode=CDIST_MODES[0]) -> Tensor:
    """The p-norm distance between every row of ``x1`` and every row of ``x2``.

    With ``p=2`` PyTorch's ``compute_mode`` chooses the matrix-product form
    ``||a||^2 - 2 a.b + ||b||^2`` (one matmul, fast; clamped at 0, it loses
    precision for nearly equal rows) when a side has more than 25 rows, else
    the direct differences. In the direct form a zero distance (equal rows)
    is exactly 0 with gradient 0 (PyTorch's convention for cdist's backward).

    Args:
        x1: (..., P, M) rows.
        x2: (..., R, M) rows; the leading (batch) axes broadcast.
        p: the norm's order (>= 0, or inf; 0 counts the differing coordinates
            and has no gradient).
        compute_mode: ``"use_mm_for_euclid_dist_if_necessary"`` (default),
            ``"use_mm_for_euclid_dist"`` or ``"donot_use_mm_for_euclid_dist"``.

    Shape:
        x1: (..., P, M), x2: (..., R, M) -> (..., P, R)

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> F.cdist(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 1.0]])).tolist()
        [[5.0, 1.0]]
    """
    a, b = floating("cdist", x1, "x1"), floating("cdist", x2, "x2")
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"cdist: expected x1 (..., P, M) and x2 (..., R, M) with the same M. "
            f"Received: x1.shape={a.shape}, x2.shape={b.shape}"
        )
    _broadcast("cdist", a, b, "x1", "x2", batch=True)
    p = norm_order("cdist", p, allow_zero=True)
    if compute_mode not in CDIST_MODES:
        raise ValueError(
            f"cdist: invalid value for argument 'compute_mode'. Expected one of "
            f"{list(CDIST_MODES)}. Received: compute_mode={compute_mode!r}"
        )
    large = a.shape[-2] > 25 or b.shape[-2] > 25
    by_matmul = compute_mode == CDIST_MODES[1] or (
        compute_mode == CDIST_MODES[0] and large
    )
    if p == 2 and by_matmul:
        return _euclidean_by_matmul(a, b)
    return vector_norm(unsqueeze(a, -2) - unsqueeze(b, -3), p, -1)


def _euclidean_by_matmul(a: Tensor, b: Tensor) -> Tensor:
    # ||a - b||^2 = ||a||^2 - 2 a.b + ||b||^2, clamped at 0 against rounding
    a2 = sum(a * a, axis=-1, keepdims=True)
    b2 = swapaxes(sum(b * b, axis=-1, keepdims=True), -1, -2)
    return safe_sqrt(clip(a2 - 2.0 * matmul(a, swapaxes(b, -1, -2)) + b2, min=0.0))


def _broadcast(owner: str, a, b, name_a: str, name_b: str, batch: bool = False):
    """Refuse shapes of ``a`` and ``b`` (their batch axes: all but the last
    two) that do not broadcast, naming both."""
    shape_a, shape_b = (a.shape[:-2], b.shape[:-2]) if batch else (a.shape, b.shape)
    try:
        array_module(a).broadcast_shapes(shape_a, shape_b)
    except ValueError:
        raise ValueError(
            f"{owner}: '{name_a}' and '{name_b}' must broadcast together. "
            f"Received: {name_a}.shape={a.shape}, {name_b}.shape={b.shape}"
        ) from None


def _eps(owner: str, eps) -> float:
    return number(owner, "eps", eps, low=0.0)
