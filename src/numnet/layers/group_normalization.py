"""Per-sample normalization layers: GroupNormalization and UnitNormalization.

GroupNormalization runs the fused op of ``numnet.functional.group_norm``;
UnitNormalization is composed from differentiable ops.

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> x = np.random.default_rng(0).normal(3.0, 2.0, (2, 4, 4, 6))
    >>> gn = layers.GroupNormalization(groups=3)
    >>> y = gn(x)
    >>> [w.shape for w in gn.get_weights()]          # gamma, beta (Keras order)
    [(6,), (6,)]
    >>> bool(abs(y.data.reshape(2, 16, 3, 2).mean(axis=(1, 3))).max() < 1e-6)
    True
    >>> u = layers.UnitNormalization()(np.array([[3.0, 4.0]], np.float32))
    >>> u.data
    array([[0.6, 0.8]], dtype=float32)
"""

from __future__ import annotations

import numnet.functional as F
from numnet.layers import _utils as U
from numnet.layers.base import Layer
from numnet.layers.normalization import (
    _add_gamma_beta,
    _affine_config,
    _axis_arg,
    _resolve_axes,
    _set_affine_args,
)

#: Keras's floor on the squared norm: rsqrt(max(sum(x^2), 1e-12))
_UNIT_NORM_FLOOR = 1e-12


class GroupNormalization(Layer):
    """Normalize each sample within groups of channels (Wu & He, 2018).

    The C channels along ``axis`` are split into ``groups`` contiguous groups;
    each group of each sample is normalized over its channels and every other
    non-batch axis: ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``
    (biased variance; gamma, beta per channel). ``groups=1`` normalizes the
    whole sample (layer norm over all features); ``groups=-1`` (or C) one
    channel at a time (instance norm). Train and inference behave the same.

    Args:
        groups: the number of groups, a positive divisor of C, or -1 for C.
        axis: the channel axis (default -1, channels-last).
        epsilon: added to the variance (Keras 1e-3).
        center, scale: whether to learn beta / gamma.
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: as for BatchNormalization.

    Weights (Keras layout and order): gamma (C,), beta (C,).

    Shape:
        input: (N, ..., C); output: the same shape.
    """

    supports_masking = True  # keeps the time axis: sequence masks pass through

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = "GroupNormalization"
        if not (U._is_int(groups) and groups == -1):
            groups = U.positive_int(owner, "groups", groups)
        self.groups = groups
        self.axis = _axis_arg(owner, axis, allow_list=False)
        _set_affine_args(
            self,
            owner,
            epsilon,
            center,
            scale,
            (gamma_initializer, gamma_regularizer, gamma_constraint),
            (beta_initializer, beta_regularizer, beta_constraint),
        )
        self.gamma = self.beta = None

    def build(self, input_shape) -> None:
        U.check_input(self, input_shape, min_ndim=2)
        (axis,) = _resolve_axes(self, input_shape, (self.axis,))
        C = int(input_shape[axis])
        if self.groups == -1:
            self.groups = C  # as Keras: the config then names the count
        if C < self.groups or C % self.groups:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                f"expected axis {self.axis} of size a multiple of groups="
                f"{self.groups}, but received input with shape {tuple(input_shape)}"
            )
        self._ndim, self._sizes = len(input_shape), {self.axis: C}
        self._axis = axis
        _add_gamma_beta(self, (C,))
        self.built = True

    def call(self, x):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=self._ndim, axes=self._sizes)
        return F.group_norm(
            x, self.gamma, self.beta, self.groups, self._axis, self.epsilon
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            **_affine_config(self, "GroupNormalization"),
        }


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm along ``axis``.

    ``y = x / sqrt(max(sum(x²), 1e-12))`` over ``axis``, Keras's formula: an
    all-zero slice stays zero instead of becoming NaN.

    Args:
        axis: an int or a list of ints, the axes of the norm (default -1).

    Shape:
        input: any; output: the same shape.
    """

    supports_masking = True  # keeps the time axis: sequence masks pass through

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_arg("UnitNormalization", axis, allow_list=True)

    def call(self, x):
        x = U.float_input(self, x)
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        bad = [a for a in axes if not -x.ndim <= a < x.ndim]
        if bad:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                f"axis={bad[0]} is out of range for an input with shape {x.shape}"
            )
        square_sum = F.sum(x * x, axis=axes, keepdims=True)
        return x / F.sqrt(F.maximum(square_sum, _UNIT_NORM_FLOOR))

    def get_config(self) -> dict:
        axis = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return {**super().get_config(), "axis": axis}
