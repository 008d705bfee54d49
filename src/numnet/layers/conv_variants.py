"""Conv1DTranspose, Conv3DTranspose, DepthwiseConv1D and SeparableConv1D.

Keras names, arguments and weight layouts; they wrap
:mod:`numnet.functional.conv_transpose_nd`, which builds them on the 2-D ops.

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> up = layers.Conv1DTranspose(4, 3, strides=2, padding="same")
    >>> up(np.zeros((2, 10, 3), np.float32)).shape
    (2, 20, 4)
    >>> up.kernel.shape   # (K, filters, C_in), as in Keras
    (3, 4, 3)
"""

from __future__ import annotations

import numnet.functional as F
from numnet.functional import conv_transpose_nd as T
from numnet.layers import _utils as U
from numnet.layers._conv_base import run_op
from numnet.layers.base import Layer
from numnet.layers.conv_nd import _ConvND


class _ConvNDTranspose(_ConvND):
    """Conv1DTranspose / Conv3DTranspose: kernel (k..., filters, C_in)."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        **kwargs,
    ):
        super().__init__(
            filters, kernel_size, strides, padding, data_format, dilation_rate, **kwargs
        )
        owner = type(self).__name__
        self.padding = U.padding_mode(owner, padding)
        if self.dilation_rate != (1,) * self.rank:
            raise ValueError(
                f"{owner}: invalid value for argument 'dilation_rate'. Only 1 is "
                f"supported. Received: dilation_rate={dilation_rate!r}"
            )
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = U.int_tuple(
                owner, "output_padding", output_padding, self.rank, allow_zero=True
            )
            if any(
                p >= s for p, s in zip(self.output_padding, self.strides, strict=True)
            ):
                raise ValueError(
                    f"{owner}: invalid value for argument 'output_padding'. Expected "
                    f"values smaller than strides={self.strides}. "
                    f"Received: output_padding={output_padding!r}"
                )

    def build(self, input_shape) -> None:
        U.check_input(self, input_shape, ndim=self.rank + 2)
        self.in_channels = int(input_shape[-1])
        shape = self.kernel_size + (self.filters, self.in_channels)  # Keras layout
        self.kernel = U.add_weight(self, "kernel", shape, self._kernel_args)
        if self.use_bias:
            self.bias = U.add_weight(self, "bias", (self.filters,), self._bias_args)
        self.built = True

    def call(self, x):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=self.rank + 2, axes={-1: self.in_channels})
        op = T.conv1d_transpose if self.rank == 1 else T.conv3d_transpose
        strides, extra = self.strides, self.output_padding
        if self.rank == 1:
            strides, extra = strides[0], None if extra is None else extra[0]
        y = run_op(self, op, x, self.kernel, self.bias, strides, self.padding, extra)
        return U.apply_activation(self.activation, y)

    def get_config(self) -> dict:
        extra = self.output_padding
        return {
            **super().get_config(),
            "output_padding": None if extra is None else list(extra),
        }


class Conv1DTranspose(_ConvNDTranspose):
    """Transposed 1-D convolution: upsamples sequences, the adjoint of Conv1D.

    Args:
        filters, kernel_size, strides, padding ("valid" or "same"),
        output_padding (None or an int smaller than strides), data_format,
        dilation_rate (only 1), activation, use_bias, kernel_*, bias_*: as in
        Keras.

    Weights: kernel (K, filters, C_in) (Keras layout), bias (filters,).

    Shape:
        input (N, W, C_in) -> (N, OW, filters); OW = W*s ("same") or
        (W-1)*s + max(K, s) ("valid").
    """

    rank = 1


class Conv3DTranspose(_ConvNDTranspose):
    """Transposed 3-D convolution: upsamples volumes, the adjoint of Conv3D.

    Args: as :class:`Conv1DTranspose` with triples for kernel_size, strides and
    output_padding.

    Weights: kernel (KD, KH, KW, filters, C_in) (Keras layout), bias (filters,).

    Shape:
        input (N, D, H, W, C_in) -> (N, OD, OH, OW, filters), each axis as
        Conv1DTranspose's.
    """

    rank = 3


class DepthwiseConv1D(Layer):
    """Depthwise 1-D convolution: each channel gets ``depth_multiplier`` filters.

    Args:
        kernel_size, strides, padding ("valid" or "same"), depth_multiplier,
        data_format, dilation_rate, activation, use_bias, depthwise_initializer,
        bias_initializer, depthwise_regularizer, bias_regularizer,
        depthwise_constraint, bias_constraint: as in Keras.

    Weights: kernel (K, C_in, depth_multiplier), bias (C_in * depth_multiplier,).

    Shape:
        input (N, W, C_in) -> (N, OW, C_in * depth_multiplier).
    """

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
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
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.kernel_size = U.int_tuple(owner, "kernel_size", kernel_size, 1)
        self.strides = U.int_tuple(owner, "strides", strides, 1)
        self.padding = U.padding_mode(owner, padding)
        self.depth_multiplier = U.positive_int(
            owner, "depth_multiplier", depth_multiplier
        )
        self.data_format = U.channels_last(owner, data_format)
        self.dilation_rate = U.int_tuple(owner, "dilation_rate", dilation_rate, 1)
        self.activation = U.get_activation_checked(owner, activation)
        self.use_bias = U.boolean(owner, "use_bias", use_bias)
        self._depthwise_args = U.weight_args(
            owner, "depthwise", depthwise_initializer, depthwise_regularizer,
            depthwise_constraint,
        )  # fmt: skip
        self._bias_args = U.weight_args(
            owner, "bias", bias_initializer, bias_regularizer, bias_constraint
        )
        self.kernel = self.bias = None

    def _build_depthwise(self, input_shape, name: str) -> int:
        """Check the input, add the (K, C_in, M) kernel; return C_in * M."""
        U.check_input(self, input_shape, ndim=3)
        self.in_channels = int(input_shape[-1])
        shape = self.kernel_size + (self.in_channels, self.depth_multiplier)
        self.kernel = U.add_weight(self, name, shape, self._depthwise_args)
        return self.in_channels * self.depth_multiplier

    def _add_bias(self, size: int) -> None:
        if self.use_bias:
            self.bias = U.add_weight(self, "bias", (size,), self._bias_args)

    def build(self, input_shape) -> None:
        self._add_bias(self._build_depthwise(input_shape, "kernel"))
        self.built = True

    def _depthwise(self, x, bias):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=3, axes={-1: self.in_channels})
        return run_op(
            self, T.depthwise_conv1d, x, self.kernel, bias, self.strides[0],
            self.padding, self.dilation_rate[0],
        )  # fmt: skip

    def call(self, x):
        return U.apply_activation(self.activation, self._depthwise(x, self.bias))

    def get_config(self) -> dict:
        owner = type(self).__name__
        return {
            **super().get_config(),
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "depth_multiplier": self.depth_multiplier,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": U.activation_name(self.activation),
            "use_bias": self.use_bias,
            **U.weight_config(owner, "depthwise", *self._depthwise_args),
            **U.weight_config(owner, "bias", *self._bias_args),
        }


class SeparableConv1D(DepthwiseConv1D):
    """Depthwise 1-D convolution followed by a pointwise (kernel size 1) one.

    Args:
        filters: output channels of the pointwise step.
        pointwise_initializer, pointwise_regularizer, pointwise_constraint: for
            the pointwise kernel; other arguments as :class:`DepthwiseConv1D`.

    Weights: ``depthwise_kernel`` (K, C_in, M), ``pointwise_kernel``
    (1, C_in*M, filters), ``bias`` (filters,) (Keras's names and order).

    Shape:
        input (N, W, C_in) -> (N, OW, filters).
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        pointwise_initializer="glorot_uniform",
        pointwise_regularizer=None,
        pointwise_constraint=None,
        **kwargs,
    ):
        super().__init__(
            kernel_size, strides, padding, depth_multiplier, data_format,
            dilation_rate, **kwargs,
        )  # fmt: skip
        owner = type(self).__name__
        self.filters = U.positive_int(owner, "filters", filters)
        self._pointwise_args = U.weight_args(
            owner, "pointwise", pointwise_initializer, pointwise_regularizer,
            pointwise_constraint,
        )  # fmt: skip
        self.pointwise_kernel = None

    @property
    def depthwise_kernel(self):
        """The depthwise kernel (K, C_in, depth_multiplier)."""
        return self.kernel

    def build(self, input_shape) -> None:
        size = self._build_depthwise(input_shape, "depthwise_kernel")
        self.pointwise_kernel = U.add_weight(
            self, "pointwise_kernel", (1, size, self.filters), self._pointwise_args
        )
        self._add_bias(self.filters)  # Keras order: depthwise, pointwise, bias
        self.built = True

    def call(self, x):
        y = self._depthwise(x, None)
        pointwise = F.reshape(self.pointwise_kernel, self.pointwise_kernel.shape[1:])
        y = F.linear(y, pointwise, self.bias)  # a size-1 convolution is a matmul
        return U.apply_activation(self.activation, y)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            **U.weight_config(type(self).__name__, "pointwise", *self._pointwise_args),
        }
