"""Pooling layers on channels-last images (Keras names and defaults).

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> layers.MaxPooling2D((2, 2))(np.zeros((1, 28, 28, 8), np.float32)).shape
    (1, 14, 14, 8)
    >>> layers.GlobalAveragePooling2D()(np.zeros((1, 7, 7, 8), np.float32)).shape
    (1, 8)
"""

from __future__ import annotations

import numnet.functional as F
from numnet.layers import _utils as U
from numnet.layers._relu_move import relu_fused
from numnet.layers.base import Layer


class _Pooling2D(Layer):
    """Shared arguments of MaxPooling2D and AveragePooling2D."""

    _op_name = ""  # the numnet.functional op, looked up at call time

    def __init__(
        self,
        pool_size=(2, 2),
        strides=None,
        padding="valid",
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.pool_size = U.int_tuple(owner, "pool_size", pool_size)
        self.strides = (
            self.pool_size
            if strides is None
            else U.int_tuple(owner, "strides", strides)
        )
        self.padding = U.padding_mode(owner, padding)
        self.data_format = U.channels_last(owner, data_format)

    def call(self, x):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=4)
        if self.padding == "valid" and (
            x.shape[1] < self.pool_size[0] or x.shape[2] < self.pool_size[1]
        ):
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): the input of shape "
                f"{x.shape} is smaller than pool_size={self.pool_size} with "
                f"padding='valid'"
            )
        # max_pool2d_relu while a model runs the ReLU before this pool after it
        op = getattr(F, self._op_name + ("_relu" if relu_fused(self) else ""))
        return op(x, self.pool_size, self.strides, self.padding)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling2D(_Pooling2D):
    """Maximum over ``pool_size`` windows moved by ``strides``.

    Args:
        pool_size: int or (ph, pw) (default (2, 2)).
        strides: int, pair, or None for ``pool_size`` (non-overlapping windows).
        padding: ``"valid"`` or ``"same"``.

    The gradient goes to the window's maximum (one winner on ties).

    Shape:
        input: (N, H, W, C); output: (N, OH, OW, C), OH = floor((H - ph) / sh) + 1
        ("valid") or ceil(H / sh) ("same").
    """

    _op_name = "max_pool2d"


class AveragePooling2D(_Pooling2D):
    """Mean over ``pool_size`` windows moved by ``strides`` (arguments as
    MaxPooling2D; with "same" padding only the cells inside the image count).

    Shape:
        input: (N, H, W, C); output: (N, OH, OW, C).
    """

    _op_name = "avg_pool2d"


class _GlobalPooling2D(Layer):
    """Global pooling over the ``rank`` spatial axes (2: images, 3: volumes)."""

    _op_name = ""  # the numnet.functional op, looked up at call time
    rank = 2

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = U.channels_last(type(self).__name__, data_format)
        self.keepdims = U.boolean(type(self).__name__, "keepdims", keepdims)

    def call(self, x):
        x = U.float_input(self, x)
        U.check_input(self, x.shape, ndim=self.rank + 2)
        if not all(x.shape[1:-1]):  # a mean/max over no pixel
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: "
                f"expected an image of at least {'x'.join('1' * self.rank)} pixels. "
                f"Full shape received: {x.shape}"
            )
        y = getattr(F, self._op_name)(x)
        if self.keepdims:
            return F.reshape(y, (y.shape[0],) + (1,) * self.rank + (y.shape[1],))
        return y

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "data_format": self.data_format,
            "keepdims": self.keepdims,
        }


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over the spatial axes: one value per channel.

    Args:
        keepdims: keep the spatial axes as size 1.

    Shape:
        input: (N, H, W, C); output: (N, C), or (N, 1, 1, C) with keepdims.
    """

    _op_name = "global_avg_pool2d"


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Maximum over the spatial axes: one value per channel.

    Args:
        keepdims: keep the spatial axes as size 1.

    Shape:
        input: (N, H, W, C); output: (N, C), or (N, 1, 1, C) with keepdims.
    """

    _op_name = "global_max_pool2d"


class GlobalAveragePooling3D(_GlobalPooling2D):
    """Mean over depth, rows and columns: one value per channel.

    Args:
        keepdims: keep the spatial axes as size 1.

    Shape:
        input: (N, D, H, W, C); output: (N, C), or (N, 1, 1, 1, C) with keepdims.
    """

    _op_name = "global_avg_pool3d"
    rank = 3


class GlobalMaxPooling3D(_GlobalPooling2D):
    """Maximum over depth, rows and columns: one value per channel.

    Args:
        keepdims: keep the spatial axes as size 1.

    Shape:
        input: (N, D, H, W, C); output: (N, C), or (N, 1, 1, 1, C) with keepdims.
    """

    _op_name = "global_max_pool3d"
    rank = 3
