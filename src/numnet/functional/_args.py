"""The argument rules shared by the PyTorch-named functions (losses, distances,
activations).

Each helper validates one argument at the boundary and raises an error that
names the function, the argument, what was expected and what was received.
"""

from __future__ import annotations

import math

import numpy as np

from numnet.autograd.tensor import Tensor, _raw, array_module, as_tensor
from numnet.functional.reduce import mean, sum

REDUCTIONS = ("mean", "sum", "none")


def _nn():
    """``numnet.functional.nn``, imported at call time: the activations use
    these rules too, and ``nn`` imports the activations."""
    from numnet.functional import nn

    return nn


def check_reduction(owner: str, reduction, allowed=REDUCTIONS) -> str:
    """``reduction`` when it is one of ``allowed``, else a ValueError."""
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(
            f"{owner}: invalid value for argument 'reduction'. Expected one of "
            f"{list(allowed)}. Received: reduction={reduction!r}"
        )
    return reduction


def reduce(values: Tensor, reduction: str) -> Tensor:
    """PyTorch's reduction of elementwise losses: their mean, sum, or themselves."""
    if reduction == "mean":
        return mean(values)
    if reduction == "sum":
        return sum(values)
    return values


def floating(owner: str, value, argument: str = "input") -> Tensor:
    """``value`` as a floating-point Tensor (an integer tensor is a TypeError)."""
    t = as_tensor(value)
    if t.dtype.kind != "f":
        raise TypeError(
            f"{owner}: invalid value for argument '{argument}'. Expected a "
            f"floating-point tensor. Received: dtype {t.dtype}"
        )
    return t


def like(owner: str, value, reference: Tensor, argument: str = "target") -> Tensor:
    """``value`` as a Tensor of ``reference``'s shape (and dtype, unless it
    carries a graph): PyTorch broadcasts with a warning, numnet refuses."""
    t = _nn()._same_float(value, reference)
    if t.shape != reference.shape:
        raise ValueError(
            f"{owner}: '{argument}' must have the shape of 'input'. Received: "
            f"{argument}.shape={t.shape}, input.shape={reference.shape}"
        )
    return t


def number(owner: str, argument: str, value, low: float = -math.inf) -> float:
    """A finite real ``value`` >= ``low``, as a float."""
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not ok or not low <= value < math.inf:
        bound = "" if low == -math.inf else f" >= {low}"
        raise ValueError(
            f"{owner}: invalid value for argument '{argument}'. Expected a finite "
            f"number{bound}. Received: {argument}={value!r}"
        )
    return float(value)


def norm_order(owner: str, p, allow_zero: bool = False) -> float:
    """The order ``p`` of a p-norm: a number > 0 (or >= 0), or ``inf``."""
    ok = isinstance(p, (int, float, np.number)) and not isinstance(p, bool)
    if not ok or math.isnan(p) or p < 0 or (p == 0 and not allow_zero):
        expected = "a number >= 0" if allow_zero else "a number > 0"
        raise ValueError(
            f"{owner}: invalid value for argument 'p'. Expected {expected} or "
            f"inf. Received: p={p!r}"
        )
    return float(p)


def dim_or_axis(owner: str, dim, axis, default: int, ndim: int) -> int:
    """The reduced axis from PyTorch's ``dim`` or NumPy's ``axis`` (not both),
    as a non-negative int below ``ndim``."""
    if axis is not None and dim != default:
        raise TypeError(
            f"{owner}: got both 'dim' and its NumPy spelling 'axis'. Received: "
            f"dim={dim!r}, axis={axis!r}"
        )
    chosen, name = (dim, "dim") if axis is None else (axis, "axis")
    valid = isinstance(chosen, (int, np.integer)) and not isinstance(chosen, bool)
    if not valid or not -max(ndim, 1) <= chosen < max(ndim, 1):
        raise ValueError(
            f"{owner}: invalid value for argument '{name}'. Expected an int in "
            f"[{-max(ndim, 1)}, {max(ndim, 1)}). Received: {name}={chosen!r}"
        )
    return int(chosen) % max(ndim, 1)


def weight_like(
    owner: str, weight, reference: Tensor, argument: str = "weight"
) -> Tensor | None:
    """An optional ``weight`` as a Tensor in ``reference``'s dtype, checked to
    broadcast to ``reference``'s shape."""
    if weight is None:
        return None
    w = _nn()._same_float(weight, reference)
    shape = reference.shape
    try:
        ok = array_module(reference).broadcast_shapes(w.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{owner}: invalid value for argument '{argument}'. Expected a shape "
            f"that broadcasts to {shape}. Received: {argument}.shape={w.shape}"
        )
    return w


def class_weight(owner: str, weight, reference: Tensor, num_classes: int):
    """PyTorch's per-class rescaling weight: a 1-D array of C values, or None."""
    if weight is None:
        return None
    raw = array_module(reference).asarray(_raw(weight))
    if raw.shape != (num_classes,):
        raise ValueError(
            f"{owner}: invalid value for argument 'weight'. Expected one weight "
            f"per class, shape ({num_classes},). Received: weight.shape="
            f"{tuple(raw.shape)}"
        )
    return raw.astype(reference.dtype, copy=False)


def class_axis(owner: str, x: Tensor, axis) -> int:
    """The class axis of ``x``: PyTorch's (0 for a 1-D input, else 1) when
    ``axis`` is None, else ``axis``, as a non-negative int."""
    if x.ndim == 0:
        raise ValueError(
            f"{owner}: invalid value for argument 'input'. Expected class scores "
            f"with a class axis, (C,), (N, C) or (N, C, d1, ...). Received: a scalar"
        )
    default = 0 if x.ndim == 1 else 1
    return dim_or_axis(owner, default, axis, default, x.ndim)


def index_target(owner: str, target, x: Tensor, axis: int, ignore_index=None):
    """Integer class indices of ``x``'s shape without ``axis``, checked in [0, C).

    Returns:
        (labels, keep): the labels with ``ignore_index`` replaced by 0 and the
        boolean mask of the labels that count (None when all of them do).
    """
    xp = array_module(x)
    labels = xp.asarray(_raw(target))
    expected = x.shape[:axis] + x.shape[axis + 1 :]
    if labels.shape != expected:
        raise ValueError(
            f"{owner}: invalid value for argument 'target'. Expected class indices "
            f"of shape {expected} (the input's {x.shape} without the class axis "
            f"{axis}) or class probabilities of the input's shape. Received: "
            f"target.shape={tuple(labels.shape)}"
        )
    keep = None
    if ignore_index is not None:
        keep = labels != ignore_index
        labels = xp.where(keep, labels, 0) if not keep.all() else labels
        keep = None if keep.all() else keep
    labels = _nn()._as_int_labels(labels, x.shape[axis], f"{owner}: argument 'target'")
    return labels, keep
