"""PyTorch's random tensor functions: ``numnet.randn``, ``rand``, ``randint``,
``randperm``, ``normal``, ``bernoulli``, ``multinomial``.

Every draw comes from numnet's generator (:func:`numnet.backend.get_rng`, seeded
by :func:`numnet.manual_seed`) unless ``generator=`` gives a
``numpy.random.Generator`` or an int seed (``seed=`` is the same keyword under
``numnet.random``'s name). Draws are made on the host; ``device=`` puts the
result on a device, and the functions that take a tensor (``bernoulli``,
``multinomial``, ``normal`` of tensors) return it on that tensor's device.
Floating results take the default dtype (float32); none of them records a
gradient (PyTorch's are not differentiable either).

Example:
    >>> import numnet
    >>> numnet.manual_seed(0)
    >>> a = numnet.randn(2, 3)
    >>> numnet.manual_seed(0)
    >>> bool((numnet.randn(2, 3).numpy() == a.numpy()).all()), a.dtype
    (True, dtype('float32'))
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor
from numnet.creation import _make, _shape


def _rng(where: str, generator, seed):
    if generator is not None and seed is not None:
        raise TypeError(f"{where}: give 'generator' or 'seed', not both")
    return backend.get_rng(generator if generator is not None else seed)


def randn(*size, generator=None, seed=None, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Samples of the standard normal N(0, 1); ``size`` as ints or one tuple."""
    draws = _rng("randn", generator, seed).standard_normal(_shape(size, "randn"))
    return _make(draws, dtype, requires_grad, device)


def rand(*size, generator=None, seed=None, dtype=None, device=None,
         requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Samples of the uniform distribution on [0, 1)."""
    target = np.dtype(dtype or backend.floatx())
    kind = np.float32 if target == np.float32 else np.float64
    draws = _rng("rand", generator, seed).random(_shape(size, "rand"), dtype=kind)
    if target.kind == "f" and target.itemsize < 4:  # rounding must not reach 1.0
        draws = np.minimum(draws, np.nextafter(target.type(1), target.type(0)))
    return _make(draws, target, requires_grad, device)


def randint(*args, size=None, generator=None, seed=None, dtype="int64",
            device=None) -> Tensor:  # fmt: skip
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)``, as ``torch.randint`` (int64 by default).

    Example:
        >>> import numnet
        >>> x = numnet.randint(3, 6, (4,), generator=0)
        >>> x.dtype, bool(((x.numpy() >= 3) & (x.numpy() < 6)).all())
        (dtype('int64'), True)
    """
    if size is None and args:
        args, size = args[:-1], args[-1]
    if len(args) not in (1, 2) or size is None:
        raise TypeError(
            "randint: expected randint(high, size) or randint(low, high, size). "
            f"Received: {len(args)} bound(s), size={size!r}"
        )
    low, high = (0, *args) if len(args) == 1 else args
    if not high > low:
        raise ValueError(f"randint: expected low < high. Received: low={low}, "
                         f"high={high}")  # fmt: skip
    shape = _shape((size,), "randint")
    draws = _rng("randint", generator, seed).integers(low, high, shape)
    return _make(draws, dtype, False, device)


def randperm(n: int, generator=None, seed=None, dtype="int64", device=None) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64)."""
    (n,) = _shape((n,), "randperm")
    draws = _rng("randperm", generator, seed).permutation(n)
    return _make(draws, dtype, False, device)


def normal(mean=0.0, std=1.0, size=None, generator=None, seed=None, dtype=None,
           device=None) -> Tensor:  # fmt: skip
    """Samples of N(mean, std²): ``mean``/``std`` tensors (broadcast together) or
    numbers with a ``size`` (``torch.normal``). ``std`` must be non-negative.

    Example:
        >>> import numnet
        >>> numnet.normal(2.0, 0.0, size=(2,)).tolist()
        [2.0, 2.0]
    """
    xp, (m, s) = _host_values(mean, std)
    if (s < 0).any():
        raise ValueError("normal: 'std' must be non-negative. Received a negative "
                         "value")  # fmt: skip
    shape = np.broadcast_shapes(m.shape, s.shape)
    if size is not None:
        shape = np.broadcast_shapes(shape, _shape((size,), "normal"))
    draws = m + s * _rng("normal", generator, seed).standard_normal(shape)
    dtype = dtype or _float_of(mean, std)
    return _on(xp, draws, dtype, device)


def bernoulli(p, generator=None, seed=None) -> Tensor:
    """1 with probability ``p``, else 0, elementwise, in ``p``'s dtype and device.

    Raises:
        ValueError: when a probability is outside [0, 1].
    """
    xp, (probs,) = _host_values(p)
    if probs.size and not ((probs >= 0) & (probs <= 1)).all():
        raise ValueError(
            f"bernoulli: probabilities must lie in [0, 1]. Received values from "
            f"{probs.min()} to {probs.max()}"
        )
    draws = _rng("bernoulli", generator, seed).random(probs.shape) < probs
    return _on(xp, draws, _float_of(p), None)


def multinomial(weights, num_samples: int, replacement: bool = False,
                generator=None, seed=None) -> Tensor:  # fmt: skip
    """Category indices drawn with probabilities proportional to ``weights``.

    ``weights`` is 1-D (categories) or 2-D (one distribution per row), non-negative
    with a positive sum per row; the result is int64 of shape
    ``(..., num_samples)`` (``torch.multinomial``). Without replacement each
    category is drawn at most once, as by successive draws renormalised over the
    rest (the Gumbel-top-k trick, one vectorised pass).

    Raises:
        ValueError: for a bad shape, negative or all-zero weights, or more samples
            than categories with non-zero weight (without replacement).
    """
    xp, (w,) = _host_values(weights)
    _check_weights(w, num_samples, replacement)
    rng = _rng("multinomial", generator, seed)
    rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
    if replacement:  # inverse CDF: how many cumulative weights each u passes
        cdf = np.cumsum(rows / rows.sum(-1, keepdims=True), axis=-1)
        u = rng.random((rows.shape[0], num_samples, 1))
        picks = (u >= cdf[:, None, :-1]).sum(-1)
    else:
        with np.errstate(divide="ignore"):  # log 0 = -inf: never picked
            keys = np.log(rows) + rng.gumbel(size=rows.shape)
        picks = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    return _on(xp, picks.reshape(w.shape[:-1] + (num_samples,)), "int64", None)


def _check_weights(w: np.ndarray, num_samples, replacement: bool) -> None:
    if w.ndim not in (1, 2) or w.shape[-1] == 0 or w.dtype.kind not in "fiu":
        raise ValueError(
            f"multinomial: expected 1-D or 2-D weights with at least one category. "
            f"Received: shape {w.shape}, dtype {w.dtype}"
        )
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(f"multinomial: 'num_samples' must be an int. Received: "
                        f"{num_samples!r}")  # fmt: skip
    if not np.isfinite(w).all() or (w < 0).any() or (w.sum(-1) <= 0).any():
        raise ValueError(
            "multinomial: weights must be finite and non-negative, with a positive "
            "sum in every row"
        )
    nonzero = int((w > 0).sum(-1).min())
    if num_samples < 1 or (not replacement and num_samples > nonzero):
        raise ValueError(
            f"multinomial: invalid value for argument 'num_samples'. Expected 1 to "
            f"{nonzero} without replacement (categories of non-zero weight) or >= 1 "
            f"with it. Received: num_samples={num_samples}, replacement={replacement}"
        )


def _host_values(*values):
    """The array namespace of ``values`` and a host (NumPy) copy of each."""
    raws = [v.data if isinstance(v, Tensor) else v for v in values]
    arrays = [r for r in raws if backend.is_array(r)]
    xp = backend.get_array_module(*arrays) if arrays else np
    return xp, [backend.to_host(r) if backend.is_array(r) else np.asarray(r)
                for r in raws]  # fmt: skip


def _float_of(*values):
    """The dtype of the first floating array among ``values`` (else floatx)."""
    for v in values:
        data = v.data if isinstance(v, Tensor) else v
        if backend.is_array(data) and data.dtype.kind == "f":
            return data.dtype
    return backend.floatx()


def _on(xp, host: np.ndarray, dtype, device) -> Tensor:
    """The host result on ``xp``'s device (or on ``device``), as ``dtype``."""
    if xp is np or device is not None:
        return _make(np.asarray(host), dtype, False, device)
    return Tensor._from_op(xp.asarray(host.astype(dtype)))


__all__ = ["randn", "rand", "randint", "randperm", "normal", "bernoulli", "multinomial"]
