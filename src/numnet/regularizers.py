"""Weight regularizers: penalties added to the training loss (Keras definitions).

``L2(l2)(w) = l2 * sum(w ** 2)`` and ``L1(l1)(w) = l1 * sum(|w|)``; the model adds
``layer.regularization_loss()`` (the sum over all regularized weights) to the
data loss, which is the batch *mean* of the per-sample losses.

Relation to the course notes: the regularized cost there is

    J = (1/m) sum_i L_i + (lambda / (2 m)) sum ||W||^2

over a training set of m examples. Keras's data loss already carries the 1/m,
so the same objective is ``L2(l2=lambda / (2 * m))``. Its gradient is
``2 * l2 * W = (lambda / m) W``, the "weight decay" term of the notes.

Example:
    >>> import numnet
    >>> from numnet import regularizers
    >>> w = numnet.tensor([[1.0, -2.0], [3.0, 0.0]])
    >>> round(regularizers.L2(0.1)(w).item(), 6)
    1.4
    >>> round(regularizers.get("l1")(w).item(), 6)  # Keras default l1=0.01
    0.06
"""

from __future__ import annotations

import math

import numpy as np

from numnet import _registry
from numnet import functional as F
from numnet.autograd.tensor import Tensor


def _factor(owner: str, name: str, value) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0:
        raise ValueError(
            f"{owner}: invalid value for argument '{name}'. Expected a non-negative "
            f"number. Received: {name}={value!r}"
        )
    return float(value)


class Regularizer:
    """Base class: ``__call__(weight) -> scalar Tensor`` plus ``get_config``."""

    def __call__(self, w: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        """The constructor arguments (JSON-friendly)."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        """Rebuild from :meth:`get_config` output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)`` (both default to 0, as in Keras)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _factor(type(self).__name__, "l1", l1)
        self.l2 = _factor(type(self).__name__, "l2", l2)

    def __call__(self, w: Tensor) -> Tensor:
        penalty = None
        if self.l1:
            penalty = F.sum(F.abs(w)) * self.l1  # d/dw = l1 * sign(w)
        if self.l2:
            term = F.sum(w * w) * self.l2  # d/dw = 2 * l2 * w
            penalty = term if penalty is None else penalty + term
        if penalty is None:
            penalty = F.sum(w * 0.0)  # keeps the dtype and a (zero) graph
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)`` (Keras default l1 = 0.01)."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w ** 2)`` (Keras default l2 = 0.01); see the module docstring."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}
_ALIASES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}

# Keras's lowercase names are aliases of the classes: regularizers.l2(1e-4)
l1 = L1
l2 = L2


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Keras's ``l1_l2`` helper (note its defaults: both 0.01)."""
    return L1L2(l1=l1, l2=l2)


def serialize(regularizer) -> dict:
    """JSON-friendly form: ``{"class_name": ..., "config": {...}}``."""
    return _registry.serialize(regularizer, Regularizer, _CLASSES, "regularizers")


def get(identifier):
    """Resolve a regularizer: None, a name, a serialised dict, an object or callable.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    # a bare "l1_l2" takes Keras's helper defaults (0.01 and 0.01)
    make = lambda cls: l1_l2() if cls is L1L2 else cls()  # noqa: E731
    found = _registry.resolve(identifier, _CLASSES, _ALIASES, make)
    if found is not None:
        return found
    raise ValueError(
        f"invalid value for argument 'regularizer'. Expected None, one of "
        f"{sorted(_ALIASES)}, a Regularizer or a callable(weight). "
        f"Received: regularizer={identifier!r}"
    )
