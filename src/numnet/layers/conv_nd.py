"""1-D and 3-D convolution, pooling and upsampling layers (Keras names and layouts).

They wrap :mod:`numnet.functional.conv_nd`, which builds both on the 2-D ops.

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> conv = layers.Conv1D(8, 3, padding="causal")
    >>> conv(np.zeros((2, 50, 4), np.float32)).shape
    (2, 50, 8)
    >>> conv.kernel.shape   # (K, C_in, filters), as in Keras
    (3, 4, 8)
"""

from __future__ import annotations

import numnet.functional as F
from numnet import backend
from numnet.functional import conv_nd
from numnet.layers import _utils as U
from numnet.layers._conv_base import run_op
from numnet.layers.base import Layer

_PADDINGS = {1: ("valid", "same", "causal"), 3: ("valid", "same")}


def _padding(owner: str, value, rank: int) -> str:
    allowed = _PADDINGS[rank]
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    raise ValueError(
        f"{owner}: invalid value for argument 'padding'. Expected one of "
        f"{list(allowed)}. Received: padding={value!r}"
    )


class _ConvND(Layer):
    """Conv1D / Conv3D: arguments, weights and config; ``rank`` spatial axes."""

    rank = 1

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
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
        owner, n = type(self).__name__, self.rank
        self.filters = U.positive_int(owner, "filters", filters)
        self.kernel_size = U.int_tuple(owner, "kernel_size", kernel_size, n)
        self.strides = U.int_tuple(owner, "strides", strides, n)
        self.padding = _padding(owner, padding, n)
        self.data_format = U.channels_last(owner, data_format)
        self.dilation_rate = U.int_tuple(owner, "dilation_rate", dilation_rate, n)
        self.activation = U.get_activation_checked(owner, activation)
        self.use_bias = bool(use_bias)
        self._kernel_args = U.weight_args(
            owner, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint
        )
        self._bias_args = U.weight_args(
            owner, "bias", bias_initializer, bias_regularizer, bias_constraint
        )
        self.kernel = self.bias = None

    def build(self, input_shape) -> None:
        U.check_input(self, input_shape, ndim=self.rank + 2)
        self.in_channels = int(input_shape[-1])
        shape = self.kernel_size + (self.in_channels, self.filters)
        self.kernel = U.add_weight(self, "kernel", shape, self._kernel_args)
        if self.use_bias:
            self.bias = U.add_weight(self, "bias", (self.filters,), self._bias_args)
        self.built = True

    def call(self, x):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=self.rank + 2, axes={-1: self.in_channels})
        op = conv_nd.conv1d if self.rank == 1 else conv_nd.conv3d
        strides, dilation = self.strides, self.dilation_rate
        if self.rank == 1:
            strides, dilation = strides[0], dilation[0]
        y = run_op(self, op, x, self.kernel, self.bias, strides, self.padding, dilation)
        return U.apply_activation(self.activation, y)

    def get_config(self) -> dict:
        owner = type(self).__name__
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": U.activation_name(self.activation),
            "use_bias": self.use_bias,
            **U.weight_config(owner, "kernel", *self._kernel_args),
            **U.weight_config(owner, "bias", *self._bias_args),
        }


class Conv1D(_ConvND):
    """1-D convolution over (N, steps, channels); ``padding="causal"`` too.

    Args:
        filters, kernel_size, strides, padding ("valid", "same", "causal"),
        data_format, dilation_rate, activation, use_bias, kernel_initializer,
        bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: as in Keras.

    Weights: kernel (K, C_in, filters), bias (filters,).

    Shape:
        input (N, W, C_in) -> (N, OW, filters).
    """

    rank = 1


class Conv3D(_ConvND):
    """3-D convolution over (N, D, H, W, channels) volumes (padding "valid"/"same").

    Args: as :class:`Conv1D` with triples for kernel_size, strides, dilation_rate.

    Weights: kernel (KD, KH, KW, C_in, filters), bias (filters,).

    Shape:
        input (N, D, H, W, C_in) -> (N, OD, OH, OW, filters).
    """

    rank = 3


class _PoolingND(Layer):
    """MaxPooling/AveragePooling 1D and 3D: Keras arguments and config."""

    rank = 1
    _op = None

    def __init__(
        self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs
    ):
        super().__init__(**kwargs)
        owner, n = type(self).__name__, self.rank
        self.pool_size = U.int_tuple(owner, "pool_size", pool_size, n)
        self.strides = (
            self.pool_size
            if strides is None
            else U.int_tuple(owner, "strides", strides, n)
        )
        self.padding = U.padding_mode(owner, padding)
        self.data_format = U.channels_last(owner, data_format)

    def call(self, x):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=self.rank + 2)
        small = any(n < p for n, p in zip(x.shape[1:-1], self.pool_size, strict=True))
        if self.padding == "valid" and small:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): the input of shape "
                f"{x.shape} is smaller than pool_size={self.pool_size} with "
                f"padding='valid'"
            )
        size, strides = self.pool_size, self.strides
        if self.rank == 1:
            size, strides = size[0], strides[0]
        return type(self)._op(x, size, strides, self.padding)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling1D(_PoolingND):
    """Max over windows of steps. Shape: (N, W, C) -> (N, OW, C)."""

    rank, _op = 1, staticmethod(conv_nd.max_pool1d)


class AveragePooling1D(_PoolingND):
    """Average over windows of steps. Shape: (N, W, C) -> (N, OW, C)."""

    rank, _op = 1, staticmethod(conv_nd.avg_pool1d)


class MaxPooling3D(_PoolingND):
    """Max over (d, h, w) windows. Shape: (N, D, H, W, C) -> (N, OD, OH, OW, C)."""

    rank, _op = 3, staticmethod(conv_nd.max_pool3d)


class AveragePooling3D(_PoolingND):
    """Average over (d, h, w) windows. Shape: (N, D, H, W, C) -> (N, OD, OH, OW, C)."""

    rank, _op = 3, staticmethod(conv_nd.avg_pool3d)


class GlobalAveragePooling1D(Layer):
    """Mean over the steps; masked steps (``Embedding(mask_zero=True)``) excluded.

    Args:
        keepdims: keep the step axis (length 1).

    Shape:
        (N, W, C) -> (N, C), or (N, 1, C) with ``keepdims``.
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = U.channels_last("GlobalAveragePooling1D", data_format)
        self.keepdims = bool(keepdims)

    def call(self, x, mask=None):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=3)
        mask = getattr(x, "_keras_mask", None) if mask is None else mask
        if mask is None:
            return F.mean(x, axis=1, keepdims=self.keepdims)
        weights = U.as_mask(mask, x.dtype)[..., None]
        count = backend.get_array_module(weights).maximum(
            weights.sum(axis=1, keepdims=True), 1
        )
        return F.sum(x * (weights / count), axis=1, keepdims=self.keepdims)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "data_format": self.data_format,
            "keepdims": self.keepdims,
        }


class GlobalMaxPooling1D(GlobalAveragePooling1D):
    """Max over the steps (the gradient goes to one winner per channel).

    Shape:
        (N, W, C) -> (N, C), or (N, 1, C) with ``keepdims``.
    """

    def call(self, x, mask=None):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=3)
        return F.max(x, axis=1, keepdims=self.keepdims)


class UpSampling1D(Layer):
    """Repeat each step ``size`` times. Shape: (N, W, C) -> (N, W*size, C)."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = U.positive_int("UpSampling1D", "size", size)

    def call(self, x):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=3)
        return conv_nd.upsample1d(x, self.size)

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size}
