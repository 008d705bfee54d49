"""Reshaping layers: ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling2D/3D
(channels-last).

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


def _padding_pairs(owner: str, name: str, value, rank: int = 2) -> tuple:
    """The (before, after) pair of each of ``rank`` spatial axes.

    rank 1: int or (left, right); rank 2 and 3: int, one symmetric size per axis,
    or one (before, after) pair per axis (Keras's forms).
    """
    if rank == 1:
        return (U.int_tuple(owner, name, value, allow_zero=True),)
    if (
        isinstance(value, (tuple, list))
        and len(value) == rank
        and all(isinstance(v, (tuple, list)) for v in value)
    ):
        pairs = tuple(U.int_tuple(owner, name, v, allow_zero=True) for v in value)
        return pairs
    sizes = U.int_tuple(owner, name, value, rank, allow_zero=True)
    return tuple((s, s) for s in sizes)


def _pairs_config(pairs: tuple) -> list:
    """(before, after) pairs as JSON lists; rank 1 as one [left, right]."""
    return list(pairs[0]) if len(pairs) == 1 else [list(p) for p in pairs]


class _ZeroPadding(Layer):
    """ZeroPadding1D/2D/3D: zeros around ``rank`` spatial axes."""

    rank = 2

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.padding = _padding_pairs(owner, "padding", padding, self.rank)
        self.data_format = U.channels_last(owner, data_format)

    def call(self, x):
        U.check_input(self, x.shape, ndim=self.rank + 2)
        return F.pad(x, ((0, 0), *self.padding, (0, 0)))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "padding": _pairs_config(self.padding),
            "data_format": self.data_format,
        }


class ZeroPadding1D(_ZeroPadding):
    """Pad sequences with zero steps.

    Args:
        padding: int (both ends) or (left, right).

    Shape:
        input: (N, W, C); output: (N, W + left + right, C).
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Pad images with zero rows/columns.

    Args:
        padding: int (all sides), (sym_h, sym_w), or ((top, bottom), (left, right)).

    Shape:
        input: (N, H, W, C); output: (N, H + top + bottom, W + left + right, C).
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Pad volumes with zeros along depth, rows and columns.

    Args:
        padding: int (all sides), (sym_d, sym_h, sym_w), or three
            (before, after) pairs.

    Shape:
        input: (N, D, H, W, C); output: (N, D + d1 + d2, H + h1 + h2, W + w1 + w2, C).
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(Layer):
    """Cropping1D/2D/3D: remove borders of ``rank`` spatial axes."""

    rank = 2

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.cropping = _padding_pairs(owner, "cropping", cropping, self.rank)
        self.data_format = U.channels_last(owner, data_format)

    def call(self, x):
        U.check_input(self, x.shape, ndim=self.rank + 2)
        sizes = x.shape[1:-1]
        if any(a + b >= n for (a, b), n in zip(self.cropping, sizes, strict=True)):
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): cropping "
                f"{self.cropping} removes the whole image of input shape {x.shape}"
            )
        kept = (slice(a, n - b) for (a, b), n in zip(self.cropping, sizes, strict=True))
        return F.getitem(x, (slice(None), *kept, slice(None)))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "cropping": _pairs_config(self.cropping),
            "data_format": self.data_format,
        }


class Cropping1D(_Cropping):
    """Remove steps at both ends of sequences (the inverse of ZeroPadding1D).

    Args:
        cropping: int (both ends) or (left, right).

    Shape:
        input: (N, W, C); output: (N, W - left - right, C).
    """

    rank = 1

    def __init__(self, cropping=(1, 1), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping2D(_Cropping):
    """Remove rows/columns at the image borders (the inverse of ZeroPadding2D).

    Args:
        cropping: int, (sym_h, sym_w), or ((top, bottom), (left, right)).

    Shape:
        input: (N, H, W, C); output: (N, H - top - bottom, W - left - right, C).
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Remove borders along depth, rows and columns (the inverse of ZeroPadding3D).

    Args:
        cropping: int, (sym_d, sym_h, sym_w), or three (before, after) pairs.

    Shape:
        input: (N, D, H, W, C); output: (N, D - d1 - d2, H - h1 - h2, W - w1 - w2, C).
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


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


class UpSampling3D(Layer):
    """Nearest-neighbour upsampling of volumes: repeat each depth slice, row and
    column ``size`` times (reuses the 2-D op).

    Args:
        size: int or (sd, sh, sw).

    Shape:
        input: (N, D, H, W, C); output: (N, D * sd, H * sh, W * sw, C).
    """

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = U.int_tuple("UpSampling3D", "size", size, 3)
        self.data_format = U.channels_last("UpSampling3D", data_format)

    def call(self, x):
        U.check_input(self, x.shape, ndim=5)
        return F.upsample3d(x, self.size)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "size": list(self.size),
            "data_format": self.data_format,
        }
