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

from numnet import _registry
from numnet.initializers._base import (  # noqa: F401 (re-export)
    _TRUNCATED_STD,
    Constant,
    Initializer,
    Ones,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    Zeros,
    _check_number,
    _dtype,
    _Random,
    _truncated_normal,
    compute_fans,
)

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
