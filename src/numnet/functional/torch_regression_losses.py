"""PyTorch's regression losses: mse_loss, l1_loss, huber_loss, smooth_l1_loss,
poisson_nll_loss and gaussian_nll_loss, with PyTorch's names, arguments and
formulas (compositions of differentiable ops).

Keras's ``Huber`` and ``Poisson`` classes (``numnet.losses``) compute through
:func:`huber_loss` and :func:`poisson_nll_loss` with ``reduction="none"``.
"""

from __future__ import annotations

import math

from numnet.autograd.tensor import Tensor, array_module, as_tensor
from numnet.functional._args import (
    check_reduction,
    floating,
    like,
    number,
    reduce,
)
from numnet.functional.elementwise import abs, exp, log, maximum, minimum, where
from numnet.functional.reduce import mean, sum
from numnet.functional.shaping import unsqueeze


def _weighted(owner: str, per: Tensor, weight, x: Tensor, reduction: str,
              weighted_mean: bool) -> Tensor:  # fmt: skip
    """PyTorch's optional elementwise ``weight`` (the input's shape): the mean
    is sum(w l) / sum(w) for mse/l1 (``weighted_mean``), mean(w l) for huber."""
    if weight is None:
        return reduce(per, reduction)
    w = like(owner, weight, x, "weight")
    per = per * w
    if reduction == "mean":
        return sum(per) / sum(w) if weighted_mean else mean(per)
    return reduce(per, reduction)


def mse_loss(input, target, *, reduction: str = "mean", weight=None) -> Tensor:
    """Squared error ``(input - target)^2`` (``torch.nn.functional.mse_loss``).

    Args:
        input, target: the same shape (PyTorch broadcasts with a warning;
            numnet raises).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        weight: optional elementwise weights of the input's shape; the mean is
            then sum(w e^2) / sum(w).

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> F.mse_loss(np.array([1.0, 2.0]), np.array([1.5, 2.0])).item()
        0.125
    """
    check_reduction("mse_loss", reduction)
    x = floating("mse_loss", input)
    d = x - like("mse_loss", target, x)
    return _weighted("mse_loss", d * d, weight, x, reduction, weighted_mean=True)


def l1_loss(input, target, *, reduction: str = "mean", weight=None) -> Tensor:
    """Absolute error ``|input - target|`` (``torch.nn.functional.l1_loss``).

    Arguments as :func:`mse_loss`; the sub-gradient at 0 is 0.
    """
    check_reduction("l1_loss", reduction)
    x = floating("l1_loss", input)
    d = abs(x - like("l1_loss", target, x))
    return _weighted("l1_loss", d, weight, x, reduction, weighted_mean=True)


def huber_terms(error: Tensor, delta: float) -> Tensor:
    """Elementwise Huber ``0.5 q^2 + delta (|e| - q)``, q = min(|e|, delta):
    ``0.5 e^2`` for |e| <= delta, ``delta (|e| - 0.5 delta)`` beyond, one
    expression with gradient clip(e, -delta, delta) everywhere."""
    magnitude = abs(error)
    quadratic = minimum(magnitude, delta)
    return 0.5 * quadratic * quadratic + delta * (magnitude - quadratic)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0,
               weight=None) -> Tensor:  # fmt: skip
    """Huber loss: quadratic within ``delta`` of the target, linear beyond.

    ``torch.nn.functional.huber_loss`` (Keras's ``Huber`` computes through it).

    Args:
        input, target: the same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        delta: the switch point (> 0).
        weight: optional elementwise weights; the mean is mean(w l) (PyTorch's).

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> F.huber_loss(np.array([0.5, 3.0]), np.zeros(2), reduction="none").tolist()
        [0.125, 2.5]
    """
    check_reduction("huber_loss", reduction)
    delta = number("huber_loss", "delta", delta, low=0.0)
    if delta == 0:
        raise ValueError(
            "huber_loss: invalid value for argument 'delta'. Expected a number "
            "> 0. Received: delta=0"
        )
    x = floating("huber_loss", input)
    per = huber_terms(x - like("huber_loss", target, x), delta)
    return _weighted("huber_loss", per, weight, x, reduction, weighted_mean=False)


def smooth_l1_loss(input, target, *, reduction: str = "mean", beta: float = 1.0):
    """Smooth L1: ``0.5 e^2 / beta`` for |e| < beta, ``|e| - 0.5 beta`` beyond.

    ``torch.nn.functional.smooth_l1_loss``: ``huber_loss(delta=beta) / beta``;
    ``beta=0`` is the L1 loss.

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> x, y = np.array([0.5, 3.0]), np.zeros(2)
        >>> F.smooth_l1_loss(x, y, reduction="none", beta=2.0).tolist()
        [0.0625, 2.0]
    """
    check_reduction("smooth_l1_loss", reduction)
    beta = number("smooth_l1_loss", "beta", beta, low=0.0)
    x = floating("smooth_l1_loss", input)
    error = x - like("smooth_l1_loss", target, x)
    per = abs(error) if beta == 0 else huber_terms(error, beta) * (1.0 / beta)
    return reduce(per, reduction)


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, *,
                     eps: float = 1e-8, reduction: str = "mean") -> Tensor:  # fmt: skip
    """Poisson negative log-likelihood of counts ``target`` at rate ``input``.

    ``torch.nn.functional.poisson_nll_loss``: ``exp(input) - target * input``
    with ``log_input`` (the input is the log-rate), else
    ``input - target * log(input + eps)``. With ``full``, Stirling's
    ``t log t - t + 0.5 log(2 pi t)`` is added where t > 1.

    Unlike PyTorch (NaN), a negative rate counts as 0 inside the logarithm
    (Keras's ``Poisson``, which computes through this function): the loss
    stays finite and its gradient 1 pushes the rate back up.

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> F.poisson_nll_loss(np.array([0.0]), np.array([2.0])).item()  # e^0 - 2*0
        1.0
    """
    owner = "poisson_nll_loss"
    check_reduction(owner, reduction)
    eps = number(owner, "eps", eps, low=0.0)
    x = floating(owner, input)
    t = like(owner, target, x)
    if log_input:
        per = exp(x) - t * x
    else:
        per = x - t * log(maximum(x, 0.0) + eps)
    if full:  # Stirling's approximation of log(t!), for t > 1 only
        big = t.data > 1
        safe = where(big, t, 2.0)
        stirling = safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe)
        per = per + where(big, stirling, 0.0)
    return reduce(per, reduction)


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:  # fmt: skip
    """Gaussian negative log-likelihood ``0.5 (log v + (input - target)^2 / v)``.

    ``torch.nn.functional.gaussian_nll_loss``: ``input`` is the predicted mean,
    ``var`` the predicted variance, clamped at ``eps`` outside autograd as in
    PyTorch (the gradient w.r.t. ``var`` passes through the clamp, so a
    variance below ``eps`` can still grow). ``full`` adds ``0.5 log(2 pi)``.

    Args:
        input, target: the same shape.
        var: variances (>= 0) of the input's shape, or with one axis of length
            1, or without the last axis (one variance per row), or a float.

    Example:
        >>> import numpy as np
        >>> import numnet.functional as F
        >>> mu, y, var = np.array([1.0]), np.array([3.0]), np.array([4.0])
        >>> F.gaussian_nll_loss(mu, y, var).item()
        1.1931471805599454
    """
    owner = "gaussian_nll_loss"
    check_reduction(owner, reduction)
    eps = number(owner, "eps", eps, low=0.0)
    x = floating(owner, input)
    t = like(owner, target, x)
    v = _variance(owner, var, x)
    lift = array_module(x).maximum(v.data, eps) - v.data  # 0 where var >= eps
    v = v + Tensor._from_op(lift.astype(x.dtype, copy=False))
    d = x - t
    per = 0.5 * (log(v) + d * d / v)
    if full:
        per = per + 0.5 * math.log(2 * math.pi)
    return reduce(per, reduction)


def _variance(owner: str, var, x: Tensor) -> Tensor:
    """``var`` shaped to broadcast against ``x`` by PyTorch's rules."""
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        v = Tensor._from_op(array_module(x).full(x.shape, var, dtype=x.dtype))
    else:
        v = as_tensor(var)
        if not v.requires_grad and v.dtype != x.dtype:
            v = Tensor._from_op(v.data.astype(x.dtype))
    if v.shape != x.shape and v.shape == x.shape[:-1]:
        v = unsqueeze(v, -1)  # one variance per row (homoscedastic)
    mismatched = v.ndim != x.ndim or any(
        a != b and a != 1 for a, b in zip(v.shape, x.shape, strict=True)
    )
    if mismatched or _axes_of_one(v.shape, x.shape) > 1:
        raise ValueError(
            f"{owner}: invalid value for argument 'var'. Expected the input's "
            f"shape {x.shape}, with one axis of length 1, or without the last "
            f"axis. Received: var.shape={v.shape}"
        )
    if v.size and v.data.min() < 0:
        raise ValueError(
            f"{owner}: invalid value for argument 'var'. Expected variances >= 0. "
            f"Received: a minimum of {v.data.min()}"
        )
    return v


def _axes_of_one(shape, full_shape) -> int:
    """How many axes of ``shape`` are 1 where ``full_shape`` is not."""
    return len([a for a, b in zip(shape, full_shape, strict=True) if a != b])
