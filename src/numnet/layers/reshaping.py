"""Image reshaping layers: ZeroPadding2D, Cropping2D, UpSampling2D (channels-last).

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> layers.ZeroPadding2D(((1, 2), (0, 1)))(np.ones((1, 3, 3, 2))).shape
    (1, 6, 4, 2)
    >>> layers.UpSampling2D(2)(np.ones((1, 3, 3, 2))).shape
    (1, 6, 6, 2)
"""

from __future__ import annotations

import numnet.functional as F
from numnet.layers import _utils as U
from numnet.layers.base import Layer


def _padding_pairs(owner: str, name: str, value) -> tuple:
    """int, (sym_h, sym_w) or ((top, bottom), (left, right)) -> 2 pairs."""
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (tuple, list)) for v in value)
    ):
        pairs = tuple(U.int_tuple(owner, name, v, allow_zero=True) for v in value)
        return pairs
    h, w = U.int_tuple(owner, name, value, allow_zero=True)
    return (h, h), (w, w)


class ZeroPadding2D(Layer):
    """Pad images with zero rows/columns.

    Args:
        padding: int (all sides), (sym_h, sym_w), or ((top, bottom), (left, right)).

    Shape:
        input: (N, H, W, C); output: (N, H + top + bottom, W + left + right, C).
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _padding_pairs("ZeroPadding2D", "padding", padding)
        self.data_format = U.channels_last("ZeroPadding2D", data_format)

    def call(self, x):
        U.check_input(self, x.shape, ndim=4)
        return F.pad(x, ((0, 0), *self.padding, (0, 0)))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "padding": [list(p) for p in self.padding],
            "data_format": self.data_format,
        }


class Cropping2D(Layer):
    """Remove rows/columns at the image borders (the inverse of ZeroPadding2D).

    Args:
        cropping: int, (sym_h, sym_w), or ((top, bottom), (left, right)).

    Shape:
        input: (N, H, W, C); output: (N, H - top - bottom, W - left - right, C).
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _padding_pairs("Cropping2D", "cropping", cropping)
        self.data_format = U.channels_last("Cropping2D", data_format)

    def call(self, x):
        U.check_input(self, x.shape, ndim=4)
        (top, bottom), (left, right) = self.cropping
        if top + bottom >= x.shape[1] or left + right >= x.shape[2]:
            raise ValueError(
                f"Layer '{self.name}' (Cropping2D): cropping {self.cropping} removes "
                f"the whole image of input shape {x.shape}"
            )
        h, w = x.shape[1], x.shape[2]
        return F.getitem(
            x,
            (slice(None), slice(top, h - bottom), slice(left, w - right), slice(None)),
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "cropping": [list(p) for p in self.cropping],
            "data_format": self.data_format,
        }


class UpSampling2D(Layer):
    """Nearest-neighbour upsampling: repeat each row ``size[0]`` times and each
    column ``size[1]`` times.

    Args:
        size: int or (sh, sw).
        interpolation: only ``"nearest"`` is supported.

    Shape:
        input: (N, H, W, C); output: (N, H * sh, W * sw, C).
    """

    def __init__(
        self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs
    ):
        super().__init__(**kwargs)
        self.size = U.int_tuple("UpSampling2D", "size", size)
        self.data_format = U.channels_last("UpSampling2D", data_format)
        if interpolation != "nearest":
            raise ValueError(
                "UpSampling2D: invalid value for argument 'interpolation'. Expected "
                f"'nearest' (the only mode implemented). "
                f"Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation

    def call(self, x):
        U.check_input(self, x.shape, ndim=4)
        return F.upsample2d(x, self.size)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "size": list(self.size),
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }
