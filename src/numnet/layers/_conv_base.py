"""The base of the 2-D convolution layers of :mod:`numnet.layers.conv`: shared
arguments, input checks, weights and config."""

from __future__ import annotations

from numnet.layers import _utils as U
from numnet.layers.base import Layer


def run_op(layer, op, x, *args, **kwargs):
    """``op(x, ...)`` for a convolution layer; the op's ValueErrors (e.g. a
    kernel larger than the image) get the layer's name and the input shape."""
    try:
        return op(x, *args, **kwargs)
    except ValueError as err:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) cannot process an input "
            f"of shape {x.shape}: {err}"
        ) from None


class _Conv(Layer):
    """Shared arguments, input checks and config of the convolution layers."""

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        bias_initializer="zeros",
        bias_regularizer=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.kernel_size = U.int_tuple(owner, "kernel_size", kernel_size)
        self.strides = U.int_tuple(owner, "strides", strides)
        self.padding = U.padding_mode(owner, padding)
        self.data_format = U.channels_last(owner, data_format)
        self.dilation_rate = U.int_tuple(owner, "dilation_rate", dilation_rate)
        self.activation = U.get_activation_checked(owner, activation)
        self.use_bias = U.boolean(type(self).__name__, "use_bias", use_bias)
        self._bias_args = U.weight_args(
            owner, "bias", bias_initializer, bias_regularizer, bias_constraint
        )
        self.bias = None

    def _check(self, shape, channels=None) -> None:
        U.check_input(self, shape, ndim=4, axes={-1: channels})

    def _run(self, op, *args, **kwargs):
        """Call a functional op through :func:`run_op`."""
        return run_op(self, op, *args, **kwargs)

    def _add_bias(self, size: int) -> None:
        if self.use_bias:
            self.bias = U.add_weight(self, "bias", (size,), self._bias_args)

    def _build_kernel(self, input_shape, name, tail, args, bias_size) -> None:
        """Check the input, add the kernel (KH, KW, *tail) and the bias."""
        self._check(input_shape)
        self.in_channels = input_shape[-1]
        self.kernel = U.add_weight(self, name, self.kernel_size + tail, args)
        if bias_size is not None:  # None: the caller adds it after other weights
            self._add_bias(bias_size)

    def _convolve(self, x, op, bias, **options):
        """``op(x, kernel, bias)`` with the layer's strides and padding."""
        x = U.float_input(self, x)
        self._check(x.shape, self.in_channels)
        return self._run(
            op, x, self.kernel, bias, stride=self.strides, padding=self.padding,
            **options,
        )  # fmt: skip

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": U.activation_name(self.activation),
            "use_bias": self.use_bias,
            **U.weight_config(type(self).__name__, "bias", *self._bias_args),
        }
