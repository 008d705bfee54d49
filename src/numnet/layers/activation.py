"""Activation layers with parameters: ReLU, LeakyReLU, PReLU, ELU, Softmax (Keras
names).

(``layers.Activation("relu")`` covers the parameter-free activations.)

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> x = np.array([[-2.0, 0.5, 9.0]], np.float32)
    >>> layers.ReLU(max_value=6.0)(x).data
    array([[0. , 0.5, 6. ]], dtype=float32)
    >>> layers.LeakyReLU(negative_slope=0.1)(x).data
    array([[-0.2,  0.5,  9. ]], dtype=float32)
"""

from __future__ import annotations

import math
import numbers

import numnet.functional as F
from numnet.layers import _utils as U
from numnet.layers.base import Layer


def _real(owner: str, name: str, value, minimum=None, allow_none=False):
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and math.isfinite(value) and (minimum is None or value >= minimum):
        return float(value)
    bound = "" if minimum is None else f" >= {minimum}"
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected a finite number{bound}"
        f"{' or None' if allow_none else ''}. Received: {name}={value!r}"
    )


class ReLU(Layer):
    """Rectified linear unit with Keras's options.

    ``f(x) = max_value`` for x >= max_value, ``x`` for threshold <= x < max_value,
    ``negative_slope * (x - threshold)`` otherwise.

    Args:
        max_value: upper bound (None: unbounded; 6.0 gives ReLU6).
        negative_slope: slope below the threshold (0: plain ReLU).
        threshold: where the function switches.

    Shape:
        input: any; output: the same shape.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _real("ReLU", "max_value", max_value, 0.0, allow_none=True)
        self.negative_slope = _real("ReLU", "negative_slope", negative_slope, 0.0)
        self.threshold = _real("ReLU", "threshold", threshold)

    def call(self, x):
        x = U.float_input(self, x)
        if self.negative_slope == 0 and self.threshold == 0:
            y = F.relu(x)
        else:
            below = (x - self.threshold) * self.negative_slope
            y = F.where(x.data >= self.threshold, x, below)
        return y if self.max_value is None else F.minimum(y, self.max_value)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(Layer):
    """``x`` for x > 0, ``negative_slope * x`` otherwise (Keras default 0.3).

    ``alpha=`` is accepted as Keras 2's name of ``negative_slope``.

    Shape:
        input: any; output: the same shape.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        negative_slope = kwargs.pop("alpha", negative_slope)  # Keras 2 spelling
        super().__init__(**kwargs)
        self.negative_slope = _real("LeakyReLU", "negative_slope", negative_slope, 0.0)

    def call(self, x):
        x = U.float_input(self, x)
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


def _shared_axes(value):
    """None, an axis >= 1 or a list of them -> None or a list (Keras's form)."""
    axes = [value] if U._is_int(value) else value
    if value is None:
        return None
    if isinstance(axes, (list, tuple)) and all(U._is_int(a) and a >= 1 for a in axes):
        return [int(a) for a in axes]
    raise ValueError(
        "PReLU: invalid value for argument 'shared_axes'. Expected None, an axis "
        f">= 1 or a list of them (axis 0 is the batch axis). "
        f"Received: shared_axes={value!r}"
    )


class PReLU(Layer):
    """Parametric ReLU: ``x`` for x >= 0, ``alpha * x`` otherwise, with a learned
    ``alpha``, computed as Keras does: ``relu(x) - alpha * relu(-x)``.

    Args:
        alpha_initializer: the initializer of alpha (Keras default zeros: the
            layer starts as a ReLU).
        alpha_regularizer, alpha_constraint: as for Dense's kernel.
        shared_axes: axes (>= 1) along which alpha is shared, e.g. ``[1, 2]``
            after a Conv2D for one slope per channel.

    Weights (Keras layout): ``alpha``, the input shape without the batch axis,
    with the shared axes set to 1.

    Shape:
        input: any with at least 2 axes; output: the same shape.
    """

    supports_masking = True  # keeps the time axis: sequence masks pass through

    def __init__(
        self,
        alpha_initializer="zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._alpha_args = U.weight_args(
            "PReLU", "alpha", alpha_initializer, alpha_regularizer, alpha_constraint
        )
        self.shared_axes = _shared_axes(shared_axes)
        self.alpha = None

    def build(self, input_shape) -> None:
        U.check_input(self, input_shape, min_ndim=2)
        shared = self.shared_axes or []
        too_big = [a for a in shared if a >= len(input_shape)]
        if too_big:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                f"shared_axes={shared} names axis {too_big[0]} of an input with "
                f"{len(input_shape)} axes. Full shape received: {tuple(input_shape)}"
            )
        shape = tuple(
            1 if i in shared else int(d) for i, d in enumerate(input_shape) if i
        )
        self._ndim = len(input_shape)
        self._sizes = {i: d for i, d in enumerate(input_shape) if i and i not in shared}
        self.alpha = U.add_weight(self, "alpha", shape, self._alpha_args)
        self.built = True

    def call(self, x):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=self._ndim, axes=self._sizes)
        # dy/dx = 1 for x > 0, alpha for x < 0 (0 at the kink); dy/dalpha = -relu(-x)
        return F.relu(x) - self.alpha * F.relu(-x)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            **U.weight_config("PReLU", "alpha", *self._alpha_args),
            "shared_axes": self.shared_axes,
        }


class ELU(Layer):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise.

    Shape:
        input: any; output: the same shape.
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _real("ELU", "alpha", alpha)

    def call(self, x):
        x = U.float_input(self, x)
        return F.elu(x, self.alpha)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """Softmax along ``axis``; over the last axis the output keeps its logits for
    the cross-entropy losses' stable fused path (as ``Activation("softmax")``).

    Shape:
        input: any; output: the same shape.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not U._is_int(axis):
            raise ValueError(
                f"Softmax: invalid value for argument 'axis'. Expected an int. "
                f"Received: axis={axis!r}"
            )
        self.axis = int(axis)

    def call(self, x, mask=None):
        """Softmax of ``x``; with ``mask`` (booleans broadcastable to ``x``, True =
        keep) masked entries get probability 0 (a fully masked slice gets 0s)."""
        x = U.float_input(self, x)
        U.check_input(self, x.shape, min_ndim=max(1, -self.axis, self.axis + 1))
        if x.shape[self.axis] == 0:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: the "
                f"softmax axis {self.axis} has size 0. Full shape received: {x.shape}"
            )
        if mask is not None:
            return F.masked_softmax(x, mask, axis=self.axis)
        if self.axis in (-1, x.ndim - 1):
            return U.apply_activation(F.softmax, x)
        return F.softmax(x, axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
