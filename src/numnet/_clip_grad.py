"""``clip_grad_norm_`` and ``clip_grad_value_``: PyTorch's gradient clipping.

For PyTorch-style loops (``loss.backward()``, clip, ``opt.step()``); an
optimizer's own ``clipnorm``/``global_clipnorm``/``clipvalue`` do the same
inside ``step`` and share the norm code (``optimizers/_arrays.py``).

The gradients stay on their device: the total norm is computed with the
array namespace of the gradients and returned as a 0-d :class:`Tensor` (as
PyTorch returns a tensor), so nothing is copied to the host unless
``error_if_nonfinite=True`` asks to look at it. ``.grad`` is *rebound* to the
clipped array rather than written into, because numnet's engine may hand one
gradient array to several tensors (an in-place write would clip it twice).
"""

from __future__ import annotations

import functools
import math

from numnet import backend
from numnet.autograd.tensor import Tensor
from numnet.optimizers._arrays import _clip_gradients, _squared_norm

#: PyTorch's guard against a zero norm: coef = max_norm / (total + 1e-6)
_EPS = 1e-6


def _with_grads(parameters, owner: str) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    bad = [type(p).__name__ for p in params if not isinstance(p, Tensor)]
    if bad:
        raise TypeError(
            f"{owner}: expected Parameters (e.g. model.parameters()). Received "
            f"items of type {sorted(set(bad))}"
        )
    return [p for p in params if p.grad is not None]


def _norm_order(norm_type, owner: str) -> float:
    try:
        order = float(norm_type)  # "inf" and math.inf too
    except (TypeError, ValueError):
        order = math.nan
    if not order > 0:
        raise ValueError(
            f"{owner}: norm_type must be a positive number or inf. Received: "
            f"norm_type={norm_type!r}"
        )
    return order


def _total_norm(grads: list, order: float):
    """The ``order``-norm of all gradients together, on their device."""
    xp = backend.get_array_module(grads[0])
    if order == math.inf:
        return functools.reduce(xp.maximum, [xp.max(xp.abs(g)) for g in grads])
    if order == 2.0:
        return sum(_squared_norm(g) for g in grads) ** 0.5
    if order == 1.0:
        return sum(xp.sum(xp.abs(g)) for g in grads)
    return sum(xp.sum(xp.abs(g) ** order) for g in grads) ** (1.0 / order)


def clip_grad_norm_(
    parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None
) -> Tensor:
    """Scale the gradients of ``parameters`` so that their total norm is at most
    ``max_norm`` (PyTorch's ``torch.nn.utils.clip_grad_norm_``).

    The total norm is the ``norm_type``-norm of all gradients concatenated;
    each gradient is multiplied by ``min(1, max_norm / (total + 1e-6))``.
    Parameters without a gradient are skipped.

    Args:
        parameters: a Parameter or an iterable of them (``model.parameters()``).
        max_norm: the largest total norm allowed.
        norm_type: the order p > 0 of the norm, or ``inf`` (``"inf"``): the
            largest absolute value.
        error_if_nonfinite: raise when the total norm is NaN or infinite
            (this looks at the norm on the host).
        foreach: accepted for PyTorch compatibility; ignored.

    Returns:
        The total norm of the gradients *before* clipping, a 0-d Tensor on
        the gradients' device (0.0 without gradients); ``float()`` reads it.

    Raises:
        RuntimeError: for a non-finite norm with ``error_if_nonfinite``.

    Example:
        >>> import numnet
        >>> w = numnet.Parameter([3.0, 4.0])
        >>> w.grad = numnet.tensor([3.0, 4.0]).data
        >>> float(numnet.utils.clip_grad_norm_([w], max_norm=1.0))
        5.0
        >>> w.grad.round(4)
        array([0.6, 0.8], dtype=float32)
    """
    owner = "clip_grad_norm_"
    params = _with_grads(parameters, owner)
    order = _norm_order(norm_type, owner)
    if not params:
        return Tensor._from_op(backend.floatx().type(0.0))
    total = _total_norm([p.grad for p in params], order)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(
            f"{owner}: the total norm of order {norm_type} of the gradients is "
            f"non-finite ({float(total)}), so it cannot be clipped. To scale the "
            f"gradients by the non-finite norm anyway, set error_if_nonfinite=False"
        )
    xp = backend.get_array_module(params[0].grad)
    coef = xp.minimum(float(max_norm) / (total + _EPS), 1.0)
    for p in params:
        p.grad = p.grad * coef.astype(p.grad.dtype)
    return Tensor._from_op(xp.asarray(total))


def clip_grad_value_(parameters, clip_value, foreach=None) -> None:
    """Clip every gradient element of ``parameters`` to ``[-clip_value,
    clip_value]`` (PyTorch's ``torch.nn.utils.clip_grad_value_``).

    Args:
        parameters: a Parameter or an iterable of them.
        clip_value: the largest absolute value kept.
        foreach: accepted for PyTorch compatibility; ignored.

    Example:
        >>> import numnet
        >>> w = numnet.Parameter([0.0, 0.0])
        >>> w.grad = numnet.tensor([-3.0, 0.5]).data
        >>> numnet.utils.clip_grad_value_([w], 1.0)
        >>> w.grad
        array([-1. ,  0.5], dtype=float32)
    """
    params = _with_grads(parameters, "clip_grad_value_")
    clip_value = float(clip_value)
    clipped = _clip_gradients([p.grad for p in params], clip_value, None, None)
    for p, g in zip(params, clipped, strict=True):
        p.grad = g
