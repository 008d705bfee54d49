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

from numnet import backend
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
    if backend.is_array(a) and a.dtype.kind == "f":
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
    return [_random(rng, o.data, o.shape) for o in outs]


def _random(rng, like, shape):
    """Standard normal float64 values in the namespace of the array ``like``."""
    xp = backend.get_array_module(like)
    return xp.asarray(rng.standard_normal(shape), dtype=np.float64)


def _dot(upstream: list, result) -> float:
    total = 0.0
    for g, o in zip(upstream, _outputs(result), strict=True):
        total += float(backend.get_array_module(o.data).sum(g * o.data))
    return total


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
    return [
        backend.get_array_module(t.data).zeros(t.shape, dtype=np.float64)
        if t.grad is None
        else t.grad.copy()
        for t in checked
    ]


def _check_full(objective, t, grad, eps, atol, rtol, label) -> None:
    numeric = backend.get_array_module(t.data).zeros(t.shape, dtype=np.float64)
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
    xp = backend.get_array_module(t.data)
    original = t.data.copy()
    for k in range(n):
        d = _random(rng, t.data, t.shape)
        d = d / xp.sqrt(xp.sum(d * d))
        t.data[...] = original + eps * d
        plus = objective()
        t.data[...] = original - eps * d
        minus = objective()
        t.data[...] = original
        numeric = xp.asarray([(plus - minus) / (2 * eps)], dtype=np.float64)
        analytic = xp.reshape(xp.sum(grad * d), (1,))
        _compare(analytic, numeric, atol, rtol, label, f"along random direction {k}")


def _compare(analytic, numeric, atol, rtol, label, what) -> None:
    xp = backend.get_array_module(numeric)
    error = xp.abs(analytic - numeric) - (atol + rtol * xp.abs(numeric))
    error = xp.where(xp.isfinite(error), error, np.inf)  # NaN/inf on either side
    if bool(xp.any(error > 0)):
        worst = int(xp.argmax(error))
        if what == "element":
            index = _unravel(worst, numeric.shape)
            what = f"at element {index}"
        raise GradcheckError(
            f"gradcheck failed for {label}: {what} the analytic gradient is "
            f"{float(xp.reshape(analytic, (-1,))[worst])!r} but the numerical one is "
            f"{float(xp.reshape(numeric, (-1,))[worst])!r} (atol={atol}, rtol={rtol})"
        )


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index of element ``flat`` of a C-ordered array of ``shape``."""
    index = []
    for n in reversed(shape):
        flat, i = divmod(flat, n)
        index.append(i)
    return tuple(reversed(index))
