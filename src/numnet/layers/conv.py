"""Convolution layers on channels-last images (N, H, W, C), Keras names and layouts.

Conv2D, Conv2DTranspose, DepthwiseConv2D and SeparableConv2D wrap the fused ops of
``numnet.functional.conv`` (ZeroPadding2D, Cropping2D and UpSampling2D are in
``numnet.layers.reshaping``).

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> conv = layers.Conv2D(8, 3, padding="same", activation="relu")
    >>> conv(np.zeros((2, 28, 28, 1), np.float32)).shape
    (2, 28, 28, 8)
    >>> conv.kernel.shape   # (KH, KW, C_in, filters), as in Keras
    (3, 3, 1, 8)
"""

from __future__ import annotations

import numnet.functional as F
from numnet.layers import _utils as U
from numnet.layers._conv_base import _Conv
from numnet.layers._relu_move import relu_deferred


class Conv2D(_Conv):
    """2-D convolution layer: ``activation(conv2d(x, kernel) + bias)``.

    Args:
        filters: the number of output channels.
        kernel_size: int or (KH, KW).
        strides: int or (sh, sw).
        padding: ``"valid"`` (no padding) or ``"same"`` (output H, W = ceil(H/s)).
        data_format: ``"channels_last"`` (or None); channels-first is not supported.
        dilation_rate: int or (dh, dw).
        activation, use_bias, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint:
            as for Dense.
        **kwargs: ``name``, ``trainable``, ``input_shape``, ``dtype``.

    Weights: ``kernel`` (KH, KW, C_in, filters), ``bias`` (filters,).

    Shape:
        input: (N, H, W, C_in); output: (N, OH, OW, filters) with
        OH = floor((H + pad - dh*(KH-1) - 1) / sh) + 1.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
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
        super().__init__(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
            **kwargs,
        )
        self.filters = U.positive_int(type(self).__name__, "filters", filters)
        self._kernel_args = U.weight_args(
            type(self).__name__,
            "kernel",
            kernel_initializer,
            kernel_regularizer,
            kernel_constraint,
        )
        self.kernel = None

    def build(self, input_shape) -> None:
        self._check(input_shape)  # before indexing it (a 0-d input)
        tail = (input_shape[-1], self.filters)
        self._build_kernel(input_shape, "kernel", tail, self._kernel_args, self.filters)
        self.built = True

    def call(self, x):
        if self.activation is F.relu:  # one fused op: relu(conv2d(x) + b), or
            # the plain conv while a model runs the ReLU after a max pool
            op = F.conv2d if relu_deferred(self) else F.conv2d_relu
            activation = None
        else:
            op, activation = F.conv2d, self.activation
        y = self._convolve(x, op, self.bias, dilation=self.dilation_rate)
        return y if activation is None else U.apply_activation(activation, y)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            **U.weight_config(type(self).__name__, "kernel", *self._kernel_args),
        }


class Conv2DTranspose(Conv2D):
    """Transposed convolution ("deconvolution"): upsamples, the adjoint of Conv2D.

    Args:
        filters, kernel_size, strides, padding, activation, ...: as Conv2D.
        output_padding: None, or an int/pair (each smaller than the stride) of
            extra rows/columns, to pick among the output sizes a stride allows.
        dilation_rate: only (1, 1) is supported.

    Weights: ``kernel`` (KH, KW, filters, C_in) (Keras layout), ``bias`` (filters,).

    Shape:
        input: (N, H, W, C_in); output: (N, OH, OW, filters) with OH = H*sh
        ("same") or (H-1)*sh + max(KH, sh) ("valid").
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
        **kwargs,
    ):
        super().__init__(
            filters, kernel_size, strides, padding, data_format, dilation_rate, **kwargs
        )
        if self.dilation_rate != (1, 1):
            raise ValueError(
                "Conv2DTranspose: invalid value for argument 'dilation_rate'. Only "
                f"(1, 1) is supported. Received: dilation_rate={dilation_rate!r}"
            )
        self.output_padding = (
            None
            if output_padding is None
            else U.int_tuple(
                "Conv2DTranspose", "output_padding", output_padding, allow_zero=True
            )
        )
        if self.output_padding and any(
            p >= s for p, s in zip(self.output_padding, self.strides, strict=True)
        ):
            raise ValueError(
                "Conv2DTranspose: invalid value for argument 'output_padding'. "
                f"Expected values smaller than strides={self.strides}. "
                f"Received: output_padding={output_padding!r}"
            )

    def build(self, input_shape) -> None:
        self._check(input_shape)  # before indexing it (a 0-d input)
        tail = (self.filters, input_shape[-1])  # Keras: (KH, KW, filters, C_in)
        self._build_kernel(input_shape, "kernel", tail, self._kernel_args, self.filters)
        self.built = True

    def call(self, x):
        y = self._convolve(
            x, F.conv2d_transpose, self.bias, output_padding=self.output_padding
        )
        return U.apply_activation(self.activation, y)

    def get_config(self) -> dict:
        pad = None if self.output_padding is None else list(self.output_padding)
        return {**super().get_config(), "output_padding": pad}


class DepthwiseConv2D(_Conv):
    """Depthwise convolution: each input channel gets its own ``depth_multiplier``
    filters (no mixing across channels; MobileNet's first half).

    Args:
        kernel_size, strides, padding, data_format, dilation_rate, activation,
        use_bias, bias_*: as Conv2D.
        depth_multiplier: output channels per input channel.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint: for
            the kernel.

    Weights: ``kernel`` (KH, KW, C_in, depth_multiplier), ``bias`` (C_in * M,).

    Shape:
        input: (N, H, W, C_in); output: (N, OH, OW, C_in * depth_multiplier).
    """

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
            **kwargs,
        )
        owner = type(self).__name__
        self.depth_multiplier = U.positive_int(
            owner, "depth_multiplier", depth_multiplier
        )
        self._depthwise_args = U.weight_args(
            owner,
            "depthwise",
            depthwise_initializer,
            depthwise_regularizer,
            depthwise_constraint,
        )
        self.kernel = None

    @property
    def depthwise_kernel(self):
        """The kernel (KH, KW, C_in, depth_multiplier) (tf.keras's name)."""
        return self.kernel

    def build(self, input_shape) -> None:
        self._check(input_shape)  # before indexing it (a 0-d input)
        c, m = input_shape[-1], self.depth_multiplier
        self._build_kernel(input_shape, "kernel", (c, m), self._depthwise_args, c * m)
        self.built = True

    def _depthwise(self, x, bias):
        return self._convolve(x, F.depthwise_conv2d, bias, dilation=self.dilation_rate)

    def call(self, x):
        return U.apply_activation(self.activation, self._depthwise(x, self.bias))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            **U.weight_config(type(self).__name__, "depthwise", *self._depthwise_args),
        }


class SeparableConv2D(DepthwiseConv2D):
    """Depthwise convolution followed by a 1x1 (pointwise) convolution.

    Far fewer weights than Conv2D for the same receptive field (Xception,
    MobileNet).

    Args:
        filters: output channels of the pointwise step.
        pointwise_initializer, pointwise_regularizer, pointwise_constraint: for
            the 1x1 kernel; other arguments as DepthwiseConv2D.

    Weights: ``depthwise_kernel`` (KH, KW, C_in, M), ``pointwise_kernel``
    (1, 1, C_in*M, filters), ``bias`` (filters,).

    Shape:
        input: (N, H, W, C_in); output: (N, OH, OW, filters).
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        pointwise_initializer="glorot_uniform",
        pointwise_regularizer=None,
        pointwise_constraint=None,
        **kwargs,
    ):
        super().__init__(
            kernel_size,
            strides,
            padding,
            depth_multiplier,
            data_format,
            dilation_rate,
            **kwargs,
        )
        owner = type(self).__name__
        self.filters = U.positive_int(owner, "filters", filters)
        self._pointwise_args = U.weight_args(
            owner,
            "pointwise",
            pointwise_initializer,
            pointwise_regularizer,
            pointwise_constraint,
        )
        self.pointwise_kernel = None

    def build(self, input_shape) -> None:
        self._check(input_shape)  # before indexing it (a 0-d input)
        c, m = input_shape[-1], self.depth_multiplier
        self._build_kernel(
            input_shape, "depthwise_kernel", (c, m), self._depthwise_args, None
        )
        self.pointwise_kernel = U.add_weight(
            self, "pointwise_kernel", (1, 1, c * m, self.filters), self._pointwise_args
        )
        self._add_bias(self.filters)  # Keras order: depthwise, pointwise, bias
        self.built = True

    def call(self, x):
        y = self._depthwise(x, None)
        pointwise = F.reshape(self.pointwise_kernel, self.pointwise_kernel.shape[2:])
        y = F.linear(y, pointwise, self.bias)  # a 1x1 convolution is a matmul over C
        return U.apply_activation(self.activation, y)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            **U.weight_config(type(self).__name__, "pointwise", *self._pointwise_args),
        }
