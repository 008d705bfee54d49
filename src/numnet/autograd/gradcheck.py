"""Gradient checking: compare backprop with central finite differences.

The scalar under test is ``L = sum(g * f(x))`` with a *random* upstream gradient
``g``. An all-ones ``g`` would differentiate ``sum(f(x))``, for which a softmax's
true gradient is zero, so a softmax whose backward returns zeros would pass.

Numerical derivative (central difference, error O(eps^2)):
    dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)
Small inputs are checked element by element; inputs larger than ``full_limit``
elements are checked along a few random unit directions d, comparing
``<dL/dx, d>`` with ``(L(x + eps d) - L(x - eps d)) / (2 eps)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from numnet.autograd.function import no_grad
from numnet.autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with the numerical one."""


def gradcheck(
    fn: Callable,
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    wrt: Sequence[Tensor] = (),
    seed: int = 0,
    full_limit: int = 200,
    n_directions: int = 3,
) -> bool:
    """Check the gradients of ``fn(*inputs)`` against finite differences in float64.

    Args:
        fn: a function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: the arguments; float64 ndarrays or Tensors are checked, anything
            else (ints, index arrays, options) is passed through unchanged.
        eps: finite-difference step.
        atol, rtol: the check passes when |analytic - numeric| <= atol + rtol*|numeric|.
        wrt: extra float64 tensors that ``fn`` uses (e.g. a layer's weights),
            checked too.
        seed: seeds the upstream gradient and the random directions.
        full_limit: inputs with more elements are checked along random directions.
        n_directions: how many directions for large inputs.

    Returns:
        True when every gradient agrees.

    Raises:
        TypeError: when a checked input is not float64.
        GradcheckError: naming the input, the worst element and both values.

    Example:
        >>> import numpy as np, numnet
        >>> import numnet.functional as F
        >>> x = np.random.default_rng(0).normal(size=(3, 4))
        >>> numnet.gradcheck(lambda t: F.softmax(t, axis=-1), [x])
        True
    """
    args = [_prepare(a, i) for i, a in enumerate(inputs)]
    checked = [a for a in args if isinstance(a, Tensor)] + list(wrt)
    labels = [f"input {i}" for i, a in enumerate(args) if isinstance(a, Tensor)]
    labels += [
        f"tensor {t.name!r}" if t.name else f"wrt[{i}]" for i, t in enumerate(wrt)
    ]
    for t, label in zip(wrt, labels[len(labels) - len(wrt) :], strict=True):
        _require_float64(t, label)
    rng = np.random.default_rng(seed)
    upstream = _upstream(fn, args, rng)

    def objective() -> float:
        with no_grad():
            return _dot(upstream, fn(*args))

    analytic = _analytic(fn, args, checked, upstream)
    for t, grad, label in zip(checked, analytic, labels, strict=True):
        if t.size <= full_limit:
            _check_full(objective, t, grad, eps, atol, rtol, label)
        else:
            _check_directions(
                objective, t, grad, eps, atol, rtol, label, rng, n_directions
            )
    return True


def _prepare(a, index: int):
    if isinstance(a, Tensor):
        _require_float64(a, f"input {index}")
        a.requires_grad = True
        return a
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        _require_float64(Tensor._from_op(a), f"input {index}")
        return Tensor(a.copy(), requires_grad=True, dtype=np.float64)
    return a


def _require_float64(t: Tensor, label: str) -> None:
    if t.dtype != np.float64:
        raise TypeError(
            f"gradcheck: {label} has dtype {t.dtype}; finite differences need "
            f"float64 inputs (cast with .astype(np.float64))"
        )


def _outputs(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def _upstream(fn, args, rng) -> list:
    with no_grad():
        outs = _outputs(fn(*args))
    return [rng.standard_normal(o.shape) for o in outs]


def _dot(upstream: list, result) -> float:
    return float(
        sum(np.sum(g * o.data) for g, o in zip(upstream, _outputs(result), strict=True))
    )


def _analytic(fn, args, checked, upstream) -> list:
    for t in checked:
        t.grad = None
    outs = _outputs(fn(*args))
    total = None
    for g, o in zip(upstream, outs, strict=True):
        if not o.requires_grad:
            continue
        term = (o * Tensor._from_op(g)).sum()
        total = term if total is None else total + term
    if total is not None:
        total.backward()
    return [np.zeros(t.shape) if t.grad is None else t.grad.copy() for t in checked]


def _check_full(objective, t, grad, eps, atol, rtol, label) -> None:
    numeric = np.zeros(t.shape)
    for index in np.ndindex(*t.shape):  # in place, so ``fn`` sees each change
        original = t.data[index]
        t.data[index] = original + eps
        plus = objective()
        t.data[index] = original - eps
        minus = objective()
        t.data[index] = original
        numeric[index] = (plus - minus) / (2 * eps)
    _compare(grad, numeric, atol, rtol, label, "element")


def _check_directions(objective, t, grad, eps, atol, rtol, label, rng, n) -> None:
    original = t.data.copy()
    for k in range(n):
        d = rng.standard_normal(t.shape)
        d /= np.linalg.norm(d)
        t.data[...] = original + eps * d
        plus = objective()
        t.data[...] = original - eps * d
        minus = objective()
        t.data[...] = original
        numeric = np.array([(plus - minus) / (2 * eps)])
        analytic = np.array([np.sum(grad * d)])
        _compare(analytic, numeric, atol, rtol, label, f"along random direction {k}")


def _compare(analytic, numeric, atol, rtol, label, what) -> None:
    error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    error = np.where(np.isfinite(error), error, np.inf)  # NaN/inf on either side
    if np.any(error > 0):
        worst = int(np.argmax(error))
        if what == "element":
            index = tuple(int(i) for i in np.unravel_index(worst, numeric.shape))
            what = f"at element {index}"
        raise GradcheckError(
            f"gradcheck failed for {label}: {what} the analytic gradient is "
            f"{float(analytic.flat[worst])!r} but the numerical one is "
            f"{float(numeric.flat[worst])!r} (atol={atol}, rtol={rtol})"
        )
