"""Normalization layers: BatchNormalization and LayerNormalization.

Both run the fused ``_Normalize`` op of ``numnet.functional.normalization`` (one
forward, one backward over all the statistics), in train mode. BatchNormalization keeps
moving statistics as non-trainable state, Keras style:

    moving = momentum * moving + (1 - momentum) * batch        (momentum 0.99)

with the *biased* batch variance (divide by m, the same variance used to
normalize the batch), as Keras does; PyTorch stores the unbiased m/(m-1) one.

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> bn = layers.BatchNormalization()
    >>> y = bn(np.random.default_rng(0).normal(3, 2, (8, 4)), training=True)
    >>> [w.shape for w in bn.get_weights()]   # gamma, beta, moving mean, variance
    [(4,), (4,), (4,), (4,)]
    >>> bool(abs(y.data.mean()) < 1e-5)
    True
"""

from __future__ import annotations

import numbers

import numnet.functional as F
from numnet.layers import _utils as U
from numnet.layers.base import Layer


def _number(owner: str, name: str, value, low: float, high: float | None) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and low <= value and (high is None or value <= high):
        return float(value)
    expected = (
        f"a number in [{low}, {high}]" if high is not None else f"a number >= {low}"
    )
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected {expected}. "
        f"Received: {name}={value!r}"
    )


def _axis_arg(owner: str, axis, allow_list: bool):
    if U._is_int(axis):
        return int(axis)
    if (
        allow_list
        and isinstance(axis, (list, tuple))
        and axis
        and all(U._is_int(a) for a in axis)
        and len(set(axis)) == len(axis)
    ):
        return tuple(int(a) for a in axis)
    expected = "an int or a list of distinct ints" if allow_list else "an int"
    raise ValueError(
        f"{owner}: invalid value for argument 'axis'. Expected {expected}. "
        f"Received: axis={axis!r}"
    )


def _resolve_axes(layer, input_shape, axes: tuple[int, ...]) -> tuple[int, ...]:
    ndim = len(input_shape)
    bad = [a for a in axes if not -ndim <= a < ndim or a % ndim == 0]
    if bad:
        raise ValueError(
            f"Input 0 of layer '{layer.name}' is incompatible with the layer: "
            f"axis={bad[0]} is not a feature axis of an input with shape "
            f"{tuple(input_shape)} (axis 0 is the batch axis)"
        )
    return tuple(sorted(a % ndim for a in axes))


def _set_affine_args(layer, owner: str, epsilon, center, scale, gamma, beta) -> None:
    """epsilon, center, scale and the gamma/beta weight arguments of a norm layer;
    ``gamma`` and ``beta`` are (initializer, regularizer, constraint)."""
    # epsilon = 0 gives NaN on constant features, inf gives zeros
    layer.epsilon = U.real_number(owner, "epsilon", epsilon, positive=True)
    layer.center = U.boolean(owner, "center", center)
    layer.scale = U.boolean(owner, "scale", scale)
    layer._gamma_args = U.weight_args(owner, "gamma", *gamma)
    layer._beta_args = U.weight_args(owner, "beta", *beta)


def _add_gamma_beta(layer, shape) -> None:
    """The learned scale (``scale=True``) and shift (``center=True``)."""
    if layer.scale:
        layer.gamma = U.add_weight(layer, "gamma", shape, layer._gamma_args)
    if layer.center:
        layer.beta = U.add_weight(layer, "beta", shape, layer._beta_args)


def _affine_config(layer, owner: str) -> dict:
    """The config entries written by :func:`_set_affine_args`."""
    return {
        "epsilon": layer.epsilon,
        "center": layer.center,
        "scale": layer.scale,
        **U.weight_config(owner, "gamma", *layer._gamma_args),
        **U.weight_config(owner, "beta", *layer._beta_args),
    }


class BatchNormalization(Layer):
    """Normalize each channel with batch statistics (train) or moving ones (eval).

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta`` per channel, the
    statistics taken over every axis but ``axis``: after Dense (N, D) that is
    the batch; after Conv2D (N, H, W, C) it is the batch and the image.

    Args:
        axis: the channel axis (-1 for channels-last).
        momentum: weight of the old value in the moving averages (Keras 0.99).
        epsilon: added to the variance (Keras 1e-3).
        center, scale: whether to learn beta / gamma.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: initializers (zeros, ones, zeros, ones).
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint:
            as for Dense.

    Training vs inference: ``training=True`` normalizes with the batch mean and
    biased variance and updates the moving statistics; ``training=False`` uses
    the moving statistics. Setting ``layer.trainable = False`` freezes gamma and
    beta *and* makes the layer run in inference mode (Keras's transfer-learning
    behaviour), so its statistics are not updated either.

    Weights (Keras order): gamma, beta (trainable), moving_mean,
    moving_variance (non-trainable), each of shape (C,).

    Shape:
        input: (N, ..., C, ...); output: the same shape.
    """

    supports_masking = True  # keeps the time axis: sequence masks pass through

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = "BatchNormalization"
        self.axis = _axis_arg(owner, axis, allow_list=False)
        self.momentum = _number(owner, "momentum", momentum, 0.0, 1.0)
        _set_affine_args(
            self,
            owner,
            epsilon,
            center,
            scale,
            (gamma_initializer, gamma_regularizer, gamma_constraint),
            (beta_initializer, beta_regularizer, beta_constraint),
        )
        self._moving_inits = (
            U.resolve(
                U.initializers,
                owner,
                "moving_mean_initializer",
                moving_mean_initializer,
            ),
            U.resolve(
                U.initializers,
                owner,
                "moving_variance_initializer",
                moving_variance_initializer,
            ),
        )
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape) -> None:
        (self._channel_axis,) = _resolve_axes(self, input_shape, (self.axis,))
        self._ndim = len(input_shape)
        self.channels = c = input_shape[self._channel_axis]
        _add_gamma_beta(self, (c,))
        mean_init, var_init = self._moving_inits
        self.moving_mean = self.add_weight(
            "moving_mean", (c,), mean_init, trainable=False
        )
        self.moving_variance = self.add_weight(
            "moving_variance", (c,), var_init, trainable=False
        )
        self.built = True

    def call(self, x, training=False):
        x = U.float_input(self, x)
        U.check_input(
            self, x.shape, ndim=self._ndim, axes={self._channel_axis: self.channels}
        )
        return F.batch_norm(
            x,
            self.gamma,
            self.beta,
            self.moving_mean,
            self.moving_variance,
            training=bool(training) and self.trainable,
            momentum=self.momentum,
            epsilon=self.epsilon,
            axis=self._channel_axis,
        )

    def get_config(self) -> dict:
        owner = "BatchNormalization"
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            **_affine_config(self, owner),
            "moving_mean_initializer": U.initializers.serialize(self._moving_inits[0]),
            "moving_variance_initializer": U.initializers.serialize(
                self._moving_inits[1]
            ),
        }


class LayerNormalization(Layer):
    """Normalize each sample over ``axis`` (the features), then scale and shift.

    Statistics are per sample, so train and inference behave the same and the
    batch size does not matter (Transformers, RNNs).

    Args:
        axis: the feature axis or axes (default -1).
        epsilon: added to the variance (Keras 1e-3).
        center, scale: whether to learn beta / gamma.
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: as for BatchNormalization.

    Weights: gamma, beta with the shape of the normalized axes.

    Shape:
        input: (N, ...); output: the same shape.
    """

    supports_masking = True  # keeps the time axis: sequence masks pass through

    def __init__(
        self,
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
        owner = "LayerNormalization"
        self.axis = _axis_arg(owner, axis, allow_list=True)
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
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        self._axes = _resolve_axes(self, input_shape, axes)
        self._ndim = len(input_shape)
        self._sizes = {a: input_shape[a] for a in self._axes}
        shape = tuple(self._sizes.values())
        _add_gamma_beta(self, shape)
        self.built = True

    def call(self, x):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=self._ndim, axes=self._sizes)
        return F.layer_norm(
            x, self.gamma, self.beta, axis=self._axes, epsilon=self.epsilon
        )

    def get_config(self) -> dict:
        owner = "LayerNormalization"
        axis = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return {
            **super().get_config(),
            "axis": axis,
            **_affine_config(self, owner),
        }
