"""Image augmentation on the fly: seeded, composable, vectorized over the batch.

Every transform takes a batch of NHWC images and returns the transformed batch,
drawing independent random parameters for every image in one NumPy call (no
Python loop over images); a batch of CuPy arrays is transformed on the GPU.
Geometric transforms live in
:mod:`numnet.data.geometric` and are re-exported here; this module adds the
photometric ones, :class:`Compose` and the Keras-style
:class:`ImageDataGenerator`.

Example:
    >>> import numpy as np
    >>> from numnet.data.augment import Compose, RandomCrop, RandomFlip
    >>> augment = Compose([RandomFlip("horizontal"), RandomCrop(28, 28, padding=2)],
    ...                   seed=0)
    >>> augment(np.zeros((8, 28, 28, 1), np.float32)).shape
    (8, 28, 28, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from numnet import backend
from numnet.data._transform import Transform, as_images, like
from numnet.data._transform import value_range as _parse_range
from numnet.data.geometric import (
    AffineTransform,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomShear,
    RandomTranslation,
    RandomZoom,
    warp_affine,
)
from numnet.data.loader import DataLoader


def _clip(x: np.ndarray, value_range_) -> np.ndarray:
    xp = backend.get_array_module(x)
    return x if value_range_ is None else xp.clip(x, *value_range_)


class RandomBrightness(Transform):
    """Multiply each image by a random factor (Keras' ``brightness_range``).

    Args:
        brightness_range: ``(low, high)`` factors, or ``f`` for ``[1 - f, 1 + f]``.
        value_range: optional ``(min, max)`` to clip the result to, e.g. (0, 1).
        seed: int for a reproducible private generator, or None.
    """

    def __init__(self, brightness_range, value_range=None, seed=None):
        super().__init__(seed)
        self.brightness_range = _parse_range(
            brightness_range, "brightness_range", "RandomBrightness", center=1.0
        )
        self.value_range = value_range

    def get_params(self, shape, rng):
        return rng.uniform(*self.brightness_range, size=shape[0])

    def apply(self, x, params):
        factors = like(x, params, x.dtype)[:, None, None, None]
        return _clip(x * factors, self.value_range)

    def _config(self):
        return {"brightness_range": self.brightness_range}


class RandomContrast(Transform):
    """Scale each image's deviation from its mean: ``(x - mean) * a + mean``.

    The mean is taken per image and channel (as in Keras' ``RandomContrast``).

    Args:
        factor: ``f`` for contrast factors ``a`` in ``[1 - f, 1 + f]``, or
            ``(low, high)``.
        value_range: optional ``(min, max)`` to clip the result to.
        seed: int for a reproducible private generator, or None.
    """

    def __init__(self, factor, value_range=None, seed=None):
        super().__init__(seed)
        self.factor = _parse_range(factor, "factor", "RandomContrast", center=1.0)
        self.value_range = value_range

    def get_params(self, shape, rng):
        return rng.uniform(*self.factor, size=shape[0])

    def apply(self, x, params):
        mean = x.mean(axis=(1, 2), keepdims=True)
        a = like(x, params, x.dtype)[:, None, None, None]
        return _clip((x - mean) * a + mean, self.value_range)

    def _config(self):
        return {"factor": self.factor}


class ChannelShift(Transform):
    """Add a random offset to every channel of every image (``channel_shift_range``).

    As in Keras, the result is clipped to each image's original min and max.

    Args:
        intensity: offsets are drawn from ``[-intensity, intensity]``, per image
            and per channel.
        seed: int for a reproducible private generator, or None.
    """

    def __init__(self, intensity, seed=None):
        super().__init__(seed)
        self.intensity = _parse_range(intensity, "intensity", "ChannelShift")

    def get_params(self, shape, rng):
        return rng.uniform(*self.intensity, size=(shape[0], shape[3]))

    def apply(self, x, params):
        low = x.min(axis=(1, 2, 3), keepdims=True)
        high = x.max(axis=(1, 2, 3), keepdims=True)
        shift = like(x, params, x.dtype)[:, None, None, :]
        return backend.get_array_module(x).clip(x + shift, low, high)

    def _config(self):
        return {"intensity": self.intensity}


class _FusedAffine(Transform):
    """Consecutive affine transforms resampled once: sampling matrices multiply."""

    def __init__(self, members: list[AffineTransform]):
        super().__init__()
        self.members = members

    def get_params(self, shape, rng):
        matrices = self.members[0].get_params(shape, self.members[0].resolve_rng(rng))
        for t in self.members[1:]:
            # "t1 then t2" reads output p from input M1 (M2 p).
            matrices = matrices @ t.get_params(shape, t.resolve_rng(rng))
        return matrices

    def apply(self, x, params):
        return self.members[0].apply(x, params)


def _fuse(transforms: Sequence) -> list:
    steps: list = []
    for t in transforms:
        last = steps[-1] if steps else None
        if (
            isinstance(t, AffineTransform)
            and isinstance(last, _FusedAffine)
            and (last.members[0].warp_options() == t.warp_options())
        ):
            last.members.append(t)
        elif isinstance(t, AffineTransform):
            steps.append(_FusedAffine([t]))
        else:
            steps.append(t)
    return steps


class Compose(Transform):
    """Apply transforms one after the other.

    Consecutive affine transforms with the same fill mode, ``cval`` and
    interpolation are fused into a single resampling (their matrices multiply),
    which is faster and blurs less than resampling after each of them.

    Args:
        transforms: :class:`Transform` objects or plain callables ``f(x) -> x``.
        seed: int to drive every member from one private generator (members'
            own seeds are then ignored); None lets each member use its own.
    """

    def __init__(self, transforms: Sequence[Transform | Callable], seed=None):
        super().__init__(seed)
        for t in transforms:
            if not callable(t):
                raise TypeError(
                    "Compose: invalid value in argument 'transforms'. Expected "
                    f"Transforms or callables. Received: {type(t).__name__}"
                )
        self.transforms = list(transforms)
        self._steps = _fuse(self.transforms)

    def __call__(self, x, rng=None):
        x = as_images(x, "Compose")
        rng = rng if rng is not None else self._rng  # None: members choose
        for step in self._steps:
            if isinstance(step, Transform):
                x = step.apply(x, step.get_params(x.shape, step.resolve_rng(rng)))
            else:
                x = step(x)
        return x

    def _config(self):
        return {"transforms": self.transforms}


class ImageDataGenerator(Compose):
    """The Keras ``ImageDataGenerator`` knobs, built on the composable transforms.

    The affine part (rotation, shifts, shear, zoom) is one fused resampling,
    applied in that order like Keras; then flips, channel shift, brightness and
    ``rescale``.

    Args:
        rotation_range: degrees; angles drawn from ``[-r, r]``.
        width_shift_range, height_shift_range: a fraction of the size if < 1,
            else pixels; shifts drawn from ``[-s, s]``.
        shear_range: degrees; shear angles drawn from ``[-s, s]``.
        zoom_range: ``z`` for ``[1 - z, 1 + z]`` or ``(low, high)``; height and
            width factors are drawn independently. Here a factor > 1 zooms *in*
            (Keras' is the inverse; the default symmetric range is the same).
        horizontal_flip, vertical_flip: random flips.
        fill_mode: ``"nearest"``, ``"constant"``, ``"reflect"`` or ``"wrap"``.
        cval: fill value of ``"constant"``.
        brightness_range: ``(low, high)`` multiplicative factors, or None.
        channel_shift_range: per-channel offsets drawn from ``[-c, c]``.
        rescale: a factor multiplied into the images last (e.g. ``1 / 255``).
        seed: int for reproducible augmentation; None uses numnet's global RNG.

    Example:
        >>> import numpy as np
        >>> gen = ImageDataGenerator(rotation_range=10, width_shift_range=0.1,
        ...                          horizontal_flip=True, seed=0)
        >>> x, y = np.ones((10, 8, 8, 1), np.float32), np.arange(10)
        >>> loader = gen.flow(x, y, batch_size=4, seed=0)
        >>> [xb.shape[0] for xb, yb in loader]
        [4, 4, 2]
    """

    def __init__(
        self,
        rotation_range=0.0,
        width_shift_range=0.0,
        height_shift_range=0.0,
        shear_range=0.0,
        zoom_range=0.0,
        horizontal_flip=False,
        vertical_flip=False,
        fill_mode="nearest",
        cval=0.0,
        brightness_range=None,
        channel_shift_range=0.0,
        rescale=None,
        interpolation="bilinear",
        seed=None,
    ):
        warp = {"fill_mode": fill_mode, "cval": cval, "interpolation": interpolation}
        steps: list = []
        if rotation_range:
            steps.append(RandomRotation(rotation_range, **warp))
        for shift, along_height in (
            (height_shift_range, True),
            (width_shift_range, False),
        ):
            if shift:
                unit = "fraction" if abs(shift) < 1 else "pixel"
                factors = (shift, 0.0) if along_height else (0.0, shift)
                steps.append(RandomTranslation(*factors, unit=unit, **warp))
        if shear_range:
            steps.append(RandomShear(shear_range, **warp))
        if zoom_range:
            steps.append(RandomZoom(zoom_range, independent=True, **warp))
        if horizontal_flip or vertical_flip:
            both = horizontal_flip and vertical_flip
            steps.append(
                RandomFlip(
                    "horizontal_and_vertical"
                    if both
                    else "horizontal"
                    if horizontal_flip
                    else "vertical"
                )
            )
        if channel_shift_range:
            steps.append(ChannelShift(channel_shift_range))
        if brightness_range is not None:
            steps.append(RandomBrightness(brightness_range))
        if rescale is not None:
            scale = float(rescale)
            steps.append(lambda x: x * x.dtype.type(scale))
        super().__init__(steps, seed=seed)

    def flow(self, x, y=None, batch_size=32, shuffle=True, seed=None, drop_last=False):
        """A :class:`~numnet.data.DataLoader` over ``(x, y)`` that augments each batch.

        Args:
            x: images (N, H, W, C); y: targets or None.
            batch_size, shuffle, seed, drop_last: as for ``DataLoader``.
        """
        return DataLoader((x, y), batch_size, shuffle, drop_last, seed, transform=self)


__all__ = [
    "AffineTransform",
    "ChannelShift",
    "Compose",
    "ImageDataGenerator",
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "Transform",
    "warp_affine",
]
