"""Weight initializers with Keras names, definitions and serialisation.

An initializer is called as ``init(shape, dtype=None)`` and returns a NumPy array.
Random ones draw from numnet's global generator (``numnet.manual_seed``) unless
they were given a ``seed``; a seeded initializer returns the same values at
every call (Keras 3 behaviour).

Fans (Keras ``compute_fans``): for a kernel of shape (..., fan_in_channels,
fan_out_channels) the receptive field is the product of the leading axes, so a
conv kernel (KH, KW, C_in, C_out) has fan_in = KH*KW*C_in and
fan_out = KH*KW*C_out; a Dense kernel (D_in, D_out) has fan_in = D_in.

Variance scaling (the family behind glorot/he/lecun) with n = fan_in, fan_out or
their average:

* ``"uniform"``: U(-limit, limit), limit = sqrt(3 * scale / n);
* ``"truncated_normal"``: N(0, sigma) cut at 2 sigma, with
  sigma = sqrt(scale / n) / 0.87962566103423978 so the *truncated* distribution
  has variance scale / n;
* ``"untruncated_normal"``: N(0, sqrt(scale / n)).

Example:
    >>> import numnet
    >>> from numnet import initializers
    >>> init = initializers.get("he_normal")
    >>> init((3, 3, 16, 32)).shape
    (3, 3, 16, 32)
    >>> initializers.get("ones")((2,), dtype="float64")
    array([1., 1.])
"""

from __future__ import annotations

import math

import numpy as np

from numnet import _registry, backend

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


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(_Random):
    """Samples with variance ``scale / n`` (see the module docstring).

    Args:
        scale: positive scaling factor (2.0 for He, 1.0 for Glorot/LeCun).
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"`` (which n).
        distribution: ``"truncated_normal"``, ``"untruncated_normal"``
            (``"normal"`` is accepted as an alias) or ``"uniform"``.
        seed: an int for reproducible values, or None for numnet's generator.
    """

    def __init__(
        self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None
    ):
        super().__init__(seed)
        name = type(self).__name__
        self.scale = _check_number(name, "scale", scale, positive=True)
        if distribution == "normal":
            distribution = "untruncated_normal"
        for arg, value, valid in (
            ("mode", mode, _MODES),
            ("distribution", distribution, _DISTRIBUTIONS),
        ):
            if value not in valid:
                raise ValueError(
                    f"{name}: invalid value for argument '{arg}'. Expected one of "
                    f"{list(valid)}. Received: {arg}={value!r}"
                )
        self.mode, self.distribution = mode, distribution

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = tuple(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out}.get(
            self.mode, (fan_in + fan_out) / 2
        )
        variance = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, shape)
        elif self.distribution == "truncated_normal":
            values = _truncated_normal(
                rng, shape, 0.0, math.sqrt(variance) / _TRUNCATED_STD
            )
        else:
            values = rng.normal(0.0, math.sqrt(variance), shape)
        return values.astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling preset: only the seed is configurable."""

    def get_config(self) -> dict:
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """Glorot/Xavier uniform (Keras default): limit = sqrt(6 / (fan_in + fan_out))."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "uniform", seed)


class GlorotNormal(_FixedVarianceScaling):
    """Glorot/Xavier normal: truncated, variance 2 / (fan_in + fan_out)."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)


class HeNormal(_FixedVarianceScaling):
    """He normal: truncated, variance 2 / fan_in (for ReLU networks)."""

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)


class HeUniform(_FixedVarianceScaling):
    """He uniform: limit = sqrt(6 / fan_in)."""

    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)


class LecunNormal(_FixedVarianceScaling):
    """LeCun normal: truncated, variance 1 / fan_in (for SELU networks)."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: limit = sqrt(3 / fan_in)."""

    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "uniform", seed)


class Orthogonal(_Random):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al.; recurrent kernels).

    The shape is flattened to (prod(shape[:-1]), shape[-1]); the Q factor of the QR
    decomposition of a normal matrix, with signs fixed by diag(R) so that the
    distribution is uniform over orthogonal matrices.
    """

    def __init__(self, gain: float = 1.0, seed=None):
        super().__init__(seed)
        self.gain = _check_number("Orthogonal", "gain", gain)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(
                f"Orthogonal: the shape must have at least 2 axes. Received: "
                f"shape={shape}"
            )
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))  # makes Q unique (Haar-distributed)
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0):
        self.gain = _check_number("Identity", "gain", gain)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity: expected a 2-D shape. Received: shape={shape}")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain}


_CLASSES = {
    cls.__name__: cls
    for cls in (
        Zeros,
        Ones,
        Constant,
        RandomNormal,
        RandomUniform,
        TruncatedNormal,
        VarianceScaling,
        GlorotUniform,
        GlorotNormal,
        HeNormal,
        HeUniform,
        LecunNormal,
        LecunUniform,
        Orthogonal,
        Identity,
    )
}
_ALIASES = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "xavier_uniform": GlorotUniform,
    "xavier_normal": GlorotNormal,
    "he_normal": HeNormal,
    "he_uniform": HeUniform,
    "lecun_normal": LecunNormal,
    "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal,
    "identity": Identity,
}

# Keras's lowercase names alias the classes: initializers.glorot_uniform(seed=0)
zeros = Zeros
ones = Ones
constant = Constant
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
xavier_uniform = GlorotUniform
xavier_normal = GlorotNormal
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
orthogonal = Orthogonal
identity = Identity


def serialize(initializer) -> dict | str:
    """JSON-friendly form: ``{"class_name": ..., "config": {...}}``."""
    return _registry.serialize(initializer, Initializer, _CLASSES, "initializers")


def get(identifier):
    """Resolve an initializer: a name, a serialised dict, an Initializer or a callable.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if isinstance(identifier, Initializer) or (
        callable(identifier) and not isinstance(identifier, type)
    ):
        return identifier
    if isinstance(identifier, dict) and identifier.get("class_name") not in _CLASSES:
        identifier = identifier.get("class_name")  # e.g. {"class_name": "he_normal"}
    found = _registry.resolve(identifier, _CLASSES, _ALIASES)
    if found is not None:
        return found
    raise ValueError(
        f"invalid value for argument 'initializer'. Expected one of "
        f"{sorted(_ALIASES)}, an Initializer or a callable(shape, dtype). "
        f"Received: initializer={identifier!r}"
    )
