"""Image preprocessing layers (Keras 3 names and arguments, channels-last).

``Resizing`` and ``CenterCrop`` are deterministic and differentiable (two
matmuls or a slice, :func:`numnet.functional.resize`). ``RandomContrast`` and
``RandomBrightness`` act in training only, draw one factor per image like the
other random layers (seeded, on the host) and carry no gradient. Every layer
takes a batch (N, H, W, C) or a single image (H, W, C).

Example:
    >>> import numpy as np
    >>> from numnet import layers
    >>> layers.Resizing(32, 32)(np.zeros((2, 28, 28, 1), np.uint8)).shape
    (2, 32, 32, 1)
    >>> layers.CenterCrop(24, 24)(np.zeros((28, 28, 3), np.float32)).shape
    (24, 24, 3)
"""

from __future__ import annotations

import numpy as np

from numnet import functional as F
from numnet.data._transform import Transform, like
from numnet.data.augment import RandomContrast as _ContrastTransform
from numnet.data.augment import _clip as clip_to
from numnet.functional.image import INTERPOLATIONS
from numnet.layers import _utils as U
from numnet.layers.augmentation import _RandomImageLayer
from numnet.layers.base import Layer


def _images(layer, x):
    """(float batch, whether x was a single image); other ranks are refused."""
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{type(layer).__name__} (layer {layer.name!r}): expected a batch of "
            f"images (N, H, W, C) or one image (H, W, C), channels-last. "
            f"Received: shape={x.shape}"
        )
    x = U.float_input(layer, x)
    single = x.ndim == 3
    return (F.reshape(x, (1, *x.shape)) if single else x), single


def _unbatch(y, single: bool):
    return F.reshape(y, y.shape[1:]) if single else y


def _aspect_crop(x, height: int, width: int):
    """The largest centred window of aspect height:width (Keras's smart_resize)."""
    H, W = x.shape[1:3]
    crop_h = max(min(H, int(W * height / width)), 1)
    crop_w = max(min(W, int(H * width / height)), 1)
    top, left = (H - crop_h) // 2, (W - crop_w) // 2
    return x[:, top : top + crop_h, left : left + crop_w]


def _only(owner: str, name: str, value, default) -> None:
    """Keras arguments numnet accepts only at their default value."""
    if value != default:
        raise ValueError(
            f"{owner}: argument '{name}' is not supported; expected {default!r}. "
            f"Received: {name}={value!r}"
        )


class Resizing(Layer):
    """Resize images to (height, width): bilinear or nearest, half-pixel centres.

    No antialiasing (Keras's default ``antialias=False``): shrinking reads the
    two nearest input pixels per axis, as ``tf.image.resize`` and PyTorch's
    ``interpolate(mode="bilinear", align_corners=False)`` do.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        crop_to_aspect_ratio: first crop the largest centred window with the
            target aspect ratio, so the image is not distorted.
        pad_to_aspect_ratio, fill_mode, fill_value, antialias: Keras's; only
            their defaults (False, "constant", 0.0, False) are supported.
        data_format: ``"channels_last"`` or None.

    Shape:
        (N, H, W, C) -> (N, height, width, C); (H, W, C) -> (height, width, C).
    """

    def __init__(self, height, width, interpolation="bilinear",
                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                 fill_mode="constant", fill_value=0.0, antialias=False,
                 data_format=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.height = U.positive_int(owner, "height", height)
        self.width = U.positive_int(owner, "width", width)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"{owner}: invalid value for argument 'interpolation'. Expected one "
                f"of {list(INTERPOLATIONS)}. "
                f"Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = U.boolean(
            owner, "crop_to_aspect_ratio", crop_to_aspect_ratio
        )
        _only(owner, "pad_to_aspect_ratio", pad_to_aspect_ratio, False)
        _only(owner, "fill_mode", fill_mode, "constant")
        _only(owner, "fill_value", fill_value, 0.0)
        _only(owner, "antialias", antialias, False)
        self.data_format = U.channels_last(owner, data_format)

    def call(self, x):
        x, single = _images(self, x)
        if self.crop_to_aspect_ratio:
            x = _aspect_crop(x, self.height, self.width)
        y = F.resize(x, self.height, self.width, self.interpolation)
        return _unbatch(y, single)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "data_format": self.data_format}  # fmt: skip


class CenterCrop(Layer):
    """Crop the central (height, width) window; resize images that are smaller.

    As Keras 3: when the image is at least the target size on both axes, the
    window starts at ``(H - height) // 2, (W - width) // 2``; otherwise the
    largest centred window with the target aspect ratio is resized (bilinear)
    to the target size.

    Args:
        height, width: the output size.
        data_format: ``"channels_last"`` or None.

    Shape:
        (N, H, W, C) -> (N, height, width, C); (H, W, C) -> (height, width, C).
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.height = U.positive_int(owner, "height", height)
        self.width = U.positive_int(owner, "width", width)
        self.data_format = U.channels_last(owner, data_format)

    def call(self, x):
        x, single = _images(self, x)
        H, W = x.shape[1:3]
        if H >= self.height and W >= self.width:
            top, left = (H - self.height) // 2, (W - self.width) // 2
            y = x[:, top : top + self.height, left : left + self.width]
        else:
            y = _aspect_crop(x, self.height, self.width)
            y = F.resize(y, self.height, self.width, "bilinear")
        return _unbatch(y, single)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "data_format": self.data_format}  # fmt: skip


def _value_range(owner: str, value) -> tuple[float, float]:
    ok = isinstance(value, (tuple, list)) and len(value) == 2
    ok = ok and all(isinstance(v, (int, float, np.number)) for v in value)
    if not ok or value[0] >= value[1]:
        raise ValueError(
            f"{owner}: invalid value for argument 'value_range'. Expected a "
            f"(low, high) pair with low < high. Received: value_range={value!r}"
        )
    return float(value[0]), float(value[1])


def _factor(owner: str, value, low: float, high: float, symmetric: bool):
    """A number f -> (-f, f) if symmetric else (f, f); a pair is kept; both
    bounds must lie in [low, high]."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        pair = (-float(value), float(value)) if symmetric else (float(value),) * 2
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        pair = float(value[0]), float(value[1])
    else:
        pair = (np.nan, np.nan)
    if not all(low <= v <= high for v in pair):
        raise ValueError(
            f"{owner}: invalid value for argument 'factor'. Expected a number or a "
            f"(lower, upper) pair with values in [{low}, {high}]. "
            f"Received: factor={value!r}"
        )
    return pair


class _RandomPixelLayer(_RandomImageLayer):
    """A random photometric layer: batches or single images, training only."""

    def call(self, x, training: bool = False):
        if x.ndim not in (3, 4):
            _images(self, x)  # raises the message naming the layer
        if not training:
            return x
        if x.ndim == 4:
            return super().call(x, training=True)
        x = self._without_gradient(U.float_input(self, x))
        y = super().call(F.reshape(x, (1, *x.shape)), training=True)
        return F.reshape(y, y.shape[1:])

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}  # fmt: skip


class RandomContrast(_RandomPixelLayer):
    """Scale each image's contrast by a random factor (training only), as Keras.

    ``y = clip((x - mean) * a + mean, *value_range)`` with ``mean`` per image
    and channel and ``a`` drawn per image in ``[1 - lower, 1 + upper]``.

    Args:
        factor: ``f`` (lower = upper = f) or ``(lower, upper)``, in [0, 1].
        value_range: the ``(low, high)`` range of the pixels (output clipped).
        seed: an int for reproducible factors.

    Shape:
        same as the input: (N, H, W, C) or (H, W, C).
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        self.factor = _factor("RandomContrast", factor, 0.0, 1.0, symmetric=False)
        self.value_range = _value_range("RandomContrast", value_range)
        lower, upper = self.factor
        self.transform = _ContrastTransform(
            (1.0 - lower, 1.0 + upper), self.value_range, seed
        )


class _BrightnessShift(Transform):
    """Add ``delta * (high - low)`` to each image, delta uniform per image;
    clip to ``value_range`` (Keras 3's RandomBrightness)."""

    def __init__(self, factor, value_range, seed=None):
        super().__init__(seed)
        self.factor, self.value_range = factor, value_range

    def get_params(self, shape, rng):
        low, high = self.value_range
        return rng.uniform(*self.factor, size=shape[0]) * (high - low)

    def apply(self, x, params):
        shift = like(x, params, x.dtype)[:, None, None, None]
        return clip_to(x + shift, self.value_range)


class RandomBrightness(_RandomPixelLayer):
    """Shift each image's brightness by a random amount (training only), as Keras.

    ``y = clip(x + delta * (high - low), low, high)`` with ``(low, high) =
    value_range`` and ``delta`` drawn per image in ``[lower, upper]``: -1 makes
    the image black, +1 white.

    Args:
        factor: ``f`` for ``[-f, f]``, or ``(lower, upper)``, in [-1, 1].
        value_range: the ``(low, high)`` range of the pixels.
        seed: an int for reproducible shifts.

    Shape:
        same as the input: (N, H, W, C) or (H, W, C).
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        self.factor = _factor("RandomBrightness", factor, -1.0, 1.0, symmetric=True)
        self.value_range = _value_range("RandomBrightness", value_range)
        self.transform = _BrightnessShift(self.factor, self.value_range, seed)


__all__ = ["CenterCrop", "RandomBrightness", "RandomContrast", "Resizing"]
