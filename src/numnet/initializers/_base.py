"""The base of the initializers: ``Initializer``, fans, constants and plain
random draws (normal, truncated normal, uniform).

See :mod:`numnet.initializers` for the definitions and the registry.
"""

from __future__ import annotations

import math

import numpy as np

from numnet import backend

# Standard deviation of N(0, 1) truncated to [-2, 2] (Keras's constant).
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape) -> tuple[float, float]:
    """Return (fan_in, fan_out) of a weight of ``shape`` (Keras rules)."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive_field = float(np.prod(shape[:-2])) if len(shape) > 2 else 1.0
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _dtype(dtype) -> np.dtype:
    return backend.floatx() if dtype is None else np.dtype(dtype)


def _check_number(owner: str, name: str, value, positive: bool = False) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if ok and math.isfinite(value) and (not positive or value > 0):
        return float(value)
    expected = "a positive number" if positive else "a finite number"
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected {expected}. "
        f"Received: {name}={value!r}"
    )


def _truncated_normal(rng, shape, mean: float, stddev: float) -> np.ndarray:
    """N(mean, stddev) restricted to 2 stddev: redraw the outliers (about 4.6%)."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2
    return mean + stddev * z


class Initializer:
    """Base class: ``__call__(shape, dtype=None) -> ndarray`` and ``get_config``."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        """The constructor arguments (JSON-friendly)."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        """Rebuild from :meth:`get_config` output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.zeros(tuple(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.ones(tuple(shape), dtype=_dtype(dtype))


class Constant(Initializer):
    """Every element equal to ``value``."""

    def __init__(self, value: float = 0.0):
        self.value = _check_number("Constant", "value", value)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.full(tuple(shape), self.value, dtype=_dtype(dtype))

    def get_config(self) -> dict:
        return {"value": self.value}


class _Random(Initializer):
    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(
                f"{type(self).__name__}: invalid value for argument 'seed'. Expected "
                f"an int or None. Received: seed={seed!r}"
            )
        self.seed = seed

    def _rng(self) -> np.random.Generator:
        return backend.get_rng(self.seed)


class RandomNormal(_Random):
    """Normal N(mean, stddev) (Keras default stddev 0.05)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed=None):
        super().__init__(seed)
        self.mean = _check_number("RandomNormal", "mean", mean)
        self.stddev = _check_number("RandomNormal", "stddev", stddev, positive=True)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        values = self._rng().normal(self.mean, self.stddev, tuple(shape))
        return values.astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(_Random):
    """Normal N(mean, stddev) with values beyond 2 stddev redrawn."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed=None):
        super().__init__(seed)
        self.mean = _check_number("TruncatedNormal", "mean", mean)
        self.stddev = _check_number("TruncatedNormal", "stddev", stddev, positive=True)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        values = _truncated_normal(self._rng(), tuple(shape), self.mean, self.stddev)
        return values.astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Random):
    """Uniform U(minval, maxval) (Keras default [-0.05, 0.05])."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed=None):
        super().__init__(seed)
        self.minval = _check_number("RandomUniform", "minval", minval)
        self.maxval = _check_number("RandomUniform", "maxval", maxval)
        if self.maxval <= self.minval:
            raise ValueError(
                f"RandomUniform: invalid value for argument 'maxval'. Expected a "
                f"value > minval={minval!r}. Received: maxval={maxval!r}"
            )

    def __call__(self, shape, dtype=None) -> np.ndarray:
        values = self._rng().uniform(self.minval, self.maxval, tuple(shape))
        return values.astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}
