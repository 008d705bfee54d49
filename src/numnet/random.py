"""Random tensors from numnet's generator (``numnet.random``, as ``keras.random``).

Every draw uses :func:`numnet.backend.get_rng`: numnet's global generator,
seeded by :func:`numnet.manual_seed` (or ``numnet.utils.set_random_seed``),
unless ``seed`` gives an int (a private generator: the same int, the same
numbers) or a ``numpy.random.Generator``. Results are float32 unless ``dtype``
says otherwise.

Example:
    >>> import numnet
    >>> numnet.manual_seed(0)
    >>> a = numnet.random.normal((2, 3))
    >>> numnet.manual_seed(0)
    >>> bool((numnet.random.normal((2, 3)).numpy() == a.numpy()).all())
    True
    >>> numnet.random.uniform((2,), minval=5, maxval=6, seed=1).dtype
    dtype('float32')
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.autograd.tensor import Tensor
from numnet.creation import _shape


def _float(array: np.ndarray, dtype) -> Tensor:
    return Tensor(array, dtype=dtype or backend.floatx())


def normal(
    shape, mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None
) -> Tensor:
    """Samples from N(mean, stddev²)."""
    rng = backend.get_rng(seed)
    return _float(rng.normal(mean, stddev, _shape((shape,), "normal")), dtype)


def uniform(
    shape, minval: float = 0.0, maxval: float = 1.0, dtype=None, seed=None
) -> Tensor:
    """Samples from U[minval, maxval)."""
    if not maxval > minval:
        raise ValueError(
            f"uniform: expected minval < maxval. Received: minval={minval}, "
            f"maxval={maxval}"
        )
    rng = backend.get_rng(seed)
    return _float(rng.uniform(minval, maxval, _shape((shape,), "uniform")), dtype)


def truncated_normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype=None,
                     seed=None) -> Tensor:  # fmt: skip
    """N(mean, stddev²) with draws beyond two standard deviations redrawn (Keras)."""
    rng = backend.get_rng(seed)
    shape = _shape((shape,), "truncated_normal")
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2
    while bad.any():  # a vectorised redraw; ~4.6% of draws per round
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2
    return _float(mean + stddev * z, dtype)


def randint(shape, minval: int, maxval: int, dtype="int64", seed=None) -> Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``."""
    rng = backend.get_rng(seed)
    return Tensor(
        rng.integers(minval, maxval, _shape((shape,), "randint")), dtype=dtype
    )


def shuffle(x, axis: int = 0, seed=None) -> Tensor:
    """A copy of ``x`` with its slices along ``axis`` in random order."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    order = backend.get_rng(seed).permutation(data.shape[axis])
    return Tensor(np.take(data, order, axis=axis), dtype=data.dtype)
