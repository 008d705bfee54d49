"""Tensor functions without a gradient: logic, float classification, counting,
one-hot, floor division. Each runs on its input's array namespace and returns
a tensor outside the graph (their derivative is zero or undefined).
"""

from __future__ import annotations

from numnet import backend
from numnet.autograd.tensor import Tensor


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _namespace(*values):
    """The array namespace of ``values`` and their raw arrays in it."""
    raws = [_raw(v) for v in values]
    xp = backend.get_array_module(*raws)
    return xp, [r if backend.is_array(r) else xp.asarray(r) for r in raws]


def no_grad_call(name: str, *values, **kwargs) -> Tensor:
    """``xp.<name>(*values, **kwargs)`` on the values' namespace, outside the graph."""
    xp, raws = _namespace(*values)
    return Tensor._from_op(getattr(xp, name)(*raws, **kwargs))


def logical_and(a, b) -> Tensor:
    """Elementwise ``a and b`` of truth values (bool; no gradient).

    Example:
        >>> import numnet
        >>> numnet.logical_and(numnet.tensor([True, False]), True).tolist()
        [True, False]
    """
    return no_grad_call("logical_and", a, b)


def logical_or(a, b) -> Tensor:
    """Elementwise ``a or b`` of truth values (bool; no gradient).

    Example:
        >>> import numnet
        >>> numnet.logical_or(numnet.tensor([True, False]), False).tolist()
        [True, False]
    """
    return no_grad_call("logical_or", a, b)


def logical_xor(a, b) -> Tensor:
    """Elementwise exclusive or of truth values (bool; no gradient).

    Example:
        >>> import numnet
        >>> numnet.logical_xor(numnet.tensor([True, False]), True).tolist()
        [False, True]
    """
    return no_grad_call("logical_xor", a, b)


def logical_not(x) -> Tensor:
    """Elementwise ``not x`` (bool; no gradient).

    Example:
        >>> import numnet
        >>> numnet.logical_not(numnet.tensor([0.0, 2.0])).tolist()
        [True, False]
    """
    return no_grad_call("logical_not", x)


def isnan(x) -> Tensor:
    """Where ``x`` is NaN (bool; no gradient).

    Example:
        >>> import numnet
        >>> numnet.isnan(numnet.tensor([1.0, float("nan")])).tolist()
        [False, True]
    """
    return no_grad_call("isnan", x)


def isinf(x) -> Tensor:
    """Where ``x`` is +inf or -inf (bool; no gradient).

    Example:
        >>> import numnet
        >>> numnet.isinf(numnet.tensor([1.0, float("-inf")])).tolist()
        [False, True]
    """
    return no_grad_call("isinf", x)


def isfinite(x) -> Tensor:
    """Where ``x`` is neither NaN nor infinite (bool; no gradient).

    Example:
        >>> import numnet
        >>> numnet.isfinite(numnet.tensor([1.0, float("nan")])).tolist()
        [True, False]
    """
    return no_grad_call("isfinite", x)


def count_nonzero(x, axis=None) -> Tensor:
    """The number of non-zero elements over ``axis`` (int64; no gradient).

    Example:
        >>> import numnet
        >>> numnet.count_nonzero(numnet.tensor([[0, 1], [2, 3]]), axis=1).tolist()
        [1, 2]
    """
    xp, (x,) = _namespace(x)
    return Tensor._from_op(xp.sum(x != 0, axis=axis, dtype="int64"))


def floor_divide(a, b) -> Tensor:
    """``floor(a / b)`` elementwise (``np.floor_divide``; no gradient: it is a
    step function, with derivative zero wherever it exists).

    Example:
        >>> import numnet
        >>> numnet.floor_divide(numnet.tensor([7.0, -7.0]), 2).tolist()
        [3.0, -4.0]
    """
    return no_grad_call("floor_divide", a, b)


def one_hot(x, num_classes: int, axis: int = -1, dtype=None) -> Tensor:
    """One-hot encode integer labels (Keras ``ops.one_hot``; no gradient).

    Args:
        x: integer labels in [0, num_classes), any shape.
        num_classes: the length of the new axis.
        axis: where the new axis goes (last by default).
        dtype: the output dtype, the default float dtype (float32) unless given.

    Raises:
        TypeError: for non-integer labels. ValueError: for labels out of range.

    Example:
        >>> import numnet
        >>> numnet.one_hot(numnet.tensor([2, 0]), 3).tolist()
        [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    xp, (labels,) = _namespace(x)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot: labels must be integers. Received: an array of dtype "
            f"{labels.dtype}"
        )
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            f"one_hot: invalid value for argument 'num_classes'. Expected a positive "
            f"int. Received: num_classes={num_classes!r}"
        )
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"one_hot: labels must lie in [0, {num_classes - 1}]. Received values "
            f"from {int(labels.min())} to {int(labels.max())}"
        )
    if not -labels.ndim - 1 <= axis <= labels.ndim:
        raise ValueError(
            f"one_hot: axis {axis} is out of bounds for an output of "
            f"{labels.ndim + 1} dimension(s)"
        )
    out = labels[..., None] == xp.arange(num_classes)
    out = xp.moveaxis(out, -1, axis)
    return Tensor._from_op(out.astype(dtype or backend.floatx()))
