"""Weight constraints, applied to a weight's values after each optimizer step.

A constraint is called on the raw array, ``constraint(w: ndarray) -> ndarray``;
the optimizer writes the result back (``w.data[...] = w.constraint(w.data)``).
``axis`` follows Keras: the axis (or axes) along which the norm is taken, so the
default ``axis=0`` constrains each output unit's incoming weight vector of a
Dense kernel (D_in, D_out); use ``axis=[0, 1, 2]`` for a conv kernel
(KH, KW, C_in, C_out).

Example:
    >>> import numpy as np
    >>> from numnet import constraints
    >>> w = np.array([[3.0, 0.1], [4.0, 0.1]])
    >>> constraints.MaxNorm(1.0)(w).round(3)
    array([[0.6, 0.1],
           [0.8, 0.1]])
"""

from __future__ import annotations

import math

import numpy as np

from numnet import _registry

_EPSILON = 1e-7  # Keras's backend epsilon, keeps the division finite for w = 0


def _axis(owner: str, axis):
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return int(axis)
    if isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis):
        return tuple(axis)
    raise ValueError(
        f"{owner}: invalid value for argument 'axis'. Expected an int or a list of "
        f"ints. Received: axis={axis!r}"
    )


def _norms(w: np.ndarray, axis) -> np.ndarray:
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class: ``__call__(w: ndarray) -> ndarray`` plus ``get_config``."""

    def __call__(self, w: np.ndarray) -> np.ndarray:
        return w

    def get_config(self) -> dict:
        """The constructor arguments (JSON-friendly)."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        """Rebuild from :meth:`get_config` output."""
        if "axis" in config and isinstance(config["axis"], list):
            config = {**config, "axis": tuple(config["axis"])}
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescale each weight vector whose L2 norm exceeds ``max_value`` down to it."""

    def __init__(self, max_value: float = 2.0, axis=0):
        ok = isinstance(max_value, (int, float)) and not isinstance(max_value, bool)
        if not ok or not math.isfinite(max_value) or max_value <= 0:
            raise ValueError(
                f"MaxNorm: invalid value for argument 'max_value'. Expected a positive "
                f"number. Received: max_value={max_value!r}"
            )
        self.max_value = float(max_value)
        self.axis = _axis("MaxNorm", axis)

    def __call__(self, w: np.ndarray) -> np.ndarray:
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return w * (desired / (w.dtype.type(_EPSILON) + norms))

    def get_config(self) -> dict:
        axis = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return {"max_value": self.max_value, "axis": axis}


class NonNeg(Constraint):
    """Set negative weights to zero."""

    def __call__(self, w: np.ndarray) -> np.ndarray:
        return w * (w >= 0)


class UnitNorm(Constraint):
    """Scale each weight vector (along ``axis``) to unit L2 norm."""

    def __init__(self, axis=0):
        self.axis = _axis("UnitNorm", axis)

    def __call__(self, w: np.ndarray) -> np.ndarray:
        return w / (w.dtype.type(_EPSILON) + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": list(self.axis) if isinstance(self.axis, tuple) else self.axis}


_CLASSES = {"MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm}
_ALIASES = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm}


def serialize(constraint) -> dict:
    """JSON-friendly form: ``{"class_name": ..., "config": {...}}``."""
    return _registry.serialize(constraint, Constraint, _CLASSES, "constraints")


def get(identifier):
    """Resolve a constraint: None, a name, a serialised dict, an object or callable.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    found = _registry.resolve(identifier, _CLASSES, _ALIASES)
    if found is not None:
        return found
    raise ValueError(
        f"invalid value for argument 'constraint'. Expected None, one of "
        f"{sorted(_ALIASES)}, a Constraint or a callable(array). "
        f"Received: constraint={identifier!r}"
    )
