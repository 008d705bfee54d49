"""Core layers: Dense, Activation, Flatten, Reshape, Dropout, SpatialDropout1D/2D/3D.

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> dense = layers.Dense(4, activation="relu")
    >>> y = dense(np.ones((2, 3), np.float32))
    >>> y.shape, dense.kernel.shape, dense.bias.shape
    ((2, 4), (3, 4), (4,))
    >>> layers.Flatten()(np.ones((2, 3, 3, 2), np.float32)).shape
    (2, 18)
"""

from __future__ import annotations

import math

import numpy as np

import numnet.functional as F
from numnet.layers import _utils as U
from numnet.layers.base import Layer


class Dense(Layer):
    """Fully connected layer: ``activation(x @ kernel + bias)``.

    Args:
        units: the number of output features (a positive int).
        activation: an activation name (``"relu"``, ``"softmax"``...), a callable,
            or None for the identity. Softmax/sigmoid outputs keep their logits
            for the losses' stable fused path (see ``apply_activation``).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializer names or objects
            (Keras defaults ``"glorot_uniform"`` and ``"zeros"``).
        kernel_regularizer, bias_regularizer: penalties added to the loss.
        kernel_constraint, bias_constraint: applied after each optimizer step.
        **kwargs: ``name``, ``trainable``, ``input_shape``, ``dtype``.

    Weights (Keras layout): ``kernel`` (D_in, units), ``bias`` (units,).

    Shape:
        input: (N, ..., D_in); output: (N, ..., units).
    """

    supports_masking = True  # keeps the time axis: sequence masks pass through

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = U.positive_int("Dense", "units", units)
        self.activation = U.get_activation_checked("Dense", activation)
        self.use_bias = U.boolean("Dense", "use_bias", use_bias)
        self._kernel_args = U.weight_args(
            "Dense", "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
        )
        self._bias_args = U.weight_args(
            "Dense", "bias", bias_initializer, bias_regularizer, bias_constraint
        )
        self.kernel = self.bias = None

    def build(self, input_shape) -> None:
        U.check_input(self, input_shape, min_ndim=2)
        if not input_shape[-1]:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                f"expected a last axis of size >= 1. Full shape received: "
                f"{tuple(input_shape)}"
            )
        self.input_dim = input_shape[-1]
        shape = (self.input_dim, self.units)
        self.kernel = U.add_weight(self, "kernel", shape, self._kernel_args)
        if self.use_bias:
            self.bias = U.add_weight(self, "bias", (self.units,), self._bias_args)
        self.built = True

    def call(self, x):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, min_ndim=2, axes={-1: self.input_dim})
        return U.apply_activation(self.activation, F.linear(x, self.kernel, self.bias))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": U.activation_name(self.activation),
            "use_bias": self.use_bias,
            **U.weight_config("Dense", "kernel", *self._kernel_args),
            **U.weight_config("Dense", "bias", *self._bias_args),
        }


class Activation(Layer):
    """Apply an activation function, e.g. ``Activation("relu")``.

    Shape:
        input: any; output: the same shape.
    """

    supports_masking = True  # keeps the time axis: sequence masks pass through

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = U.get_activation_checked("Activation", activation)

    def call(self, x):
        return U.apply_activation(self.activation, U.float_input(self, x))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "activation": U.activation_name(self.activation),
        }


class Flatten(Layer):
    """Flatten each sample to one axis: (N, d1, d2, ...) -> (N, d1*d2*...).

    Shape:
        input: (N, ...); output: (N, prod(...)) ((N,) becomes (N, 1)).
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = U.channels_last("Flatten", data_format)

    def call(self, x):
        U.check_input(self, x.shape, min_ndim=1)
        # the explicit size, not -1: (0, 2, 3) flattens to (0, 6)
        return F.reshape(x, (x.shape[0], math.prod(x.shape[1:])))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (one axis may be -1).

    Shape:
        input: (N, ...); output: (N, *target_shape).
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        ok = isinstance(target_shape, (tuple, list)) and all(
            U._is_int(d) and (d > 0 or d == -1) for d in target_shape
        )
        if not ok or list(target_shape).count(-1) > 1:
            raise ValueError(
                "Reshape: invalid value for argument 'target_shape'. Expected a tuple "
                "of positive ints with at most one -1. "
                f"Received: target_shape={target_shape!r}"
            )
        self.target_shape = tuple(int(d) for d in target_shape)

    def call(self, x):
        U.check_input(self, x.shape, min_ndim=1)
        sample = x.shape[1:]
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        size = int(np.prod(sample))
        fits = size % known == 0 if -1 in self.target_shape else size == known
        if not fits:
            raise ValueError(
                f"Layer '{self.name}' (Reshape): cannot reshape a sample of shape "
                f"{sample} ({size} values) into target_shape {self.target_shape}. "
                f"Full input shape received: {x.shape}"
            )
        return F.reshape(x, (x.shape[0],) + self.target_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """Inverted dropout: at training time zero a fraction ``rate`` of the inputs
    and scale the rest by 1 / (1 - rate); at inference, the identity.

    Args:
        rate: the drop probability, in [0, 1) (keep_prob = 1 - rate).
        noise_shape: the shape of the random mask, broadcast against the input;
            None entries take the input's size, e.g. ``(None, 1, 1, None)`` drops
            whole feature maps.
        seed: an int for a reproducible layer-private generator; default
            numnet's global generator (``numnet.manual_seed``).

    Shape:
        input: any; output: the same shape.
    """

    supports_masking = True  # keeps the time axis: sequence masks pass through

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = U.rate_in_unit_interval(type(self).__name__, rate)
        if noise_shape is not None and not (
            isinstance(noise_shape, (tuple, list))
            and all(d is None or U._is_int(d) and d > 0 for d in noise_shape)
        ):
            raise ValueError(
                f"{type(self).__name__}: invalid value for argument 'noise_shape'. "
                f"Expected None or a tuple of positive ints / None. "
                f"Received: noise_shape={noise_shape!r}"
            )
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        if seed is not None and (not U._is_int(seed) or seed < 0):
            raise ValueError(
                f"{type(self).__name__}: invalid value for argument 'seed'. Expected "
                f"an int >= 0 or None. Received: seed={seed!r}"
            )
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _noise_shape(self, shape):
        if self.noise_shape is None:
            return None
        U.check_input(self, shape, ndim=len(self.noise_shape))
        return tuple(
            s if d is None else d for d, s in zip(self.noise_shape, shape, strict=True)
        )

    def call(self, x, training=False):
        if not training or self.rate == 0:
            return x
        x = U.float_input(self, x)
        return F.dropout(
            x,
            self.rate,
            training=True,
            rng=self._rng,
            noise_shape=self._noise_shape(x.shape),
        )

    def get_config(self) -> dict:
        noise = None if self.noise_shape is None else list(self.noise_shape)
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": noise,
            "seed": self.seed,
        }


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one mask value per (sample, channel) of an
    input with ``rank`` spatial axes."""

    rank = 2

    def __init__(self, rate, seed=None, **kwargs):
        noise_shape = (None,) + (1,) * self.rank + (None,)
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["noise_shape"]
        return config


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of a sequence: one mask value per (sample,
    channel), shared by every step.

    Args:
        rate: the drop probability, in [0, 1).
        seed: an int for a reproducible layer-private generator.

    Shape:
        input: (N, W, C); output: the same shape.
    """

    rank = 1

    def call(self, x, training=False):
        U.check_input(self, x.shape, ndim=3)
        return super().call(x, training=training)


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps: one mask value per (sample, channel).

    Shape:
        input: (N, H, W, C); output: the same shape.
    """


class SpatialDropout3D(_SpatialDropout):
    """Dropout of whole 3-D feature maps: one mask value per (sample, channel).

    Args:
        rate: the drop probability, in [0, 1).
        data_format: only ``"channels_last"`` (or None).
        seed: an int for a reproducible layer-private generator.

    Shape:
        input: (N, D, H, W, C); output: the same shape.
    """

    rank = 3

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = U.channels_last("SpatialDropout3D", data_format)

    def call(self, x, training=False):
        U.check_input(self, x.shape, ndim=5)
        return super().call(x, training=training)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}
