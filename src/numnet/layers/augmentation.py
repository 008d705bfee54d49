"""Random augmentation layers (Keras names and arguments), inside the model.

They wrap :mod:`numnet.data`'s batch-vectorized transforms (one NumPy/SciPy
call per batch, no loop over images; ``cupyx.scipy.ndimage`` on CuPy arrays)
and act only in training: ``fit`` turns them on, ``evaluate``/``predict`` pass
images through unchanged (``RandomCrop`` resizes at inference, as Keras 3).
Their output carries no gradient (they sit at the input): given an input that
requires grad in training (or ``RandomCrop``'s resize at inference) they
raise, rather than leave the layers before them untrained.

Example:
    >>> import numpy as np
    >>> from numnet import layers, models
    >>> augment = models.Sequential([
    ...     layers.Input((28, 28, 1)),
    ...     layers.Rescaling(1 / 255),
    ...     layers.RandomFlip("horizontal", seed=0),
    ...     layers.RandomRotation(0.1, seed=0),
    ... ])
    >>> x = np.full((4, 28, 28, 1), 255, np.uint8)
    >>> float(augment(x).numpy().max())               # inference: rescaling only
    1.0
    >>> augment(x, training=True).shape
    (4, 28, 28, 1)
"""

from __future__ import annotations

import numpy as np

from numnet.autograd.function import is_grad_enabled
from numnet.autograd.tensor import Tensor
from numnet.data import geometric
from numnet.data._transform import ndimage_for, value_range
from numnet.layers import _utils as U
from numnet.layers.base import Layer

_CHANNELS_LAST = (
    "numnet uses channels-last (N, H, W, C); add a channel axis with x[..., None]"
)


class _RandomImageLayer(Layer):
    """Apply a numnet.data transform to (N, H, W, C) batches in training only."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed

    def call(self, x, training: bool = False):
        if x.ndim != 4:
            raise ValueError(
                f"{type(self).__name__} (layer {self.name!r}): expected images of "
                f"shape (N, H, W, C). Received: shape={x.shape}. {_CHANNELS_LAST}"
            )
        if not training:
            return x
        x = self._without_gradient(x)
        return Tensor._from_op(self.transform(x.data).astype(x.dtype, copy=False))

    def _without_gradient(self, x) -> Tensor:
        """The float input, refused when a gradient would be lost through it."""
        x = U.float_input(self, x)
        if x.requires_grad and is_grad_enabled():
            raise ValueError(
                f"{type(self).__name__} (layer {self.name!r}): the random "
                f"augmentation layers pass no gradient to their input, so the "
                f"layers before this one would not train. Place it at the model's "
                f"input, before any layer with weights. Received an input that "
                f"requires grad"
            )
        return x

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


class RandomFlip(_RandomImageLayer):
    """Flip images left-right and/or up-down with probability 1/2 each (training only).

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"``
            (Keras's default).
        seed: an int for reproducible flips.
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        self.mode = mode
        self.transform = geometric.RandomFlip(mode, seed=seed)

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


def _fill(layer: str, fill_mode: str) -> str:
    return geometric.check_option(
        fill_mode, geometric.FILL_MODES, "fill_mode", layer
    )  # fmt: skip


class RandomRotation(_RandomImageLayer):
    """Rotate images by a random angle (training only), Keras's arguments.

    Args:
        factor: a fraction of a full turn: ``0.1`` draws angles in ``[-36°, 36°]``;
            or a ``(low, high)`` pair of fractions. Positive is counter-clockwise.
        fill_mode: ``"reflect"`` (Keras's default), ``"nearest"``, ``"constant"``
            or ``"wrap"``.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        seed: an int for reproducible angles.
        fill_value: the value of ``"constant"`` filling.
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, **kwargs):  # fmt: skip
        super().__init__(seed, **kwargs)
        self.factor = value_range(factor, "factor", "RandomRotation")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)
        degrees = tuple(360.0 * f for f in self.factor)
        self.transform = geometric.RandomRotation(
            degrees, _fill("RandomRotation", fill_mode), fill_value, interpolation, seed
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": list(self.factor),
                "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}  # fmt: skip


class RandomTranslation(_RandomImageLayer):
    """Shift images by a random fraction of their size (training only).

    Args:
        height_factor: ``f`` for vertical shifts in ``[-f, f]`` of the height
            (positive moves the content down), or ``(low, high)``.
        width_factor: the same for horizontal shifts (positive: right).
        fill_mode, interpolation, seed, fill_value: as :class:`RandomRotation`.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):  # fmt: skip
        super().__init__(seed, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)
        self.transform = geometric.RandomTranslation(
            height_factor, width_factor, "fraction",
            _fill("RandomTranslation", fill_mode), fill_value, interpolation, seed,
        )  # fmt: skip

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation,
                "fill_value": self.fill_value}  # fmt: skip


class _KerasZoom(geometric.RandomZoom):
    """Keras's zoom convention on numnet's zoom warp.

    Keras draws ``d`` in ``height_factor`` and reads input pixels at ``1 + d``
    times the distance from the centre: positive ``d`` zooms *out*. numnet's
    factor ``z`` magnifies, so ``z = 1 / (1 + d)``.
    """

    def __init__(self, height_range, width_range, fill_mode, cval, interpolation,
                 seed):  # fmt: skip
        super().__init__((1.0, 1.0), False, fill_mode, cval, interpolation, seed)
        self.height_range, self.width_range = height_range, width_range

    def get_params(self, shape, rng):
        dy = rng.uniform(*self.height_range, size=shape[0])
        widths = self.width_range
        dx = dy if widths is None else rng.uniform(*widths, size=shape[0])
        return geometric.zoom_matrices(1.0 / (1.0 + dy), 1.0 / (1.0 + dx))


class RandomZoom(_RandomImageLayer):
    """Zoom images in or out by a random amount (training only), Keras's convention.

    Args:
        height_factor: ``f`` or ``(low, high)``: the vertical zoom is drawn in
            ``[1 + low, 1 + high]`` as Keras; positive values zoom *out*, negative
            zoom in (``(-0.3, -0.2)`` zooms in by 20-30%).
        width_factor: the same horizontally; None keeps the aspect ratio (the
            height's draw is used).
        fill_mode, interpolation, seed, fill_value: as :class:`RandomRotation`.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):  # fmt: skip
        super().__init__(seed, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)
        heights = value_range(height_factor, "height_factor", "RandomZoom")
        widths = None if width_factor is None else value_range(
            width_factor, "width_factor", "RandomZoom")  # fmt: skip
        if min(heights + (widths or (0.0,))) <= -1:
            raise ValueError(
                "RandomZoom: zoom factors must be greater than -1. Received: "
                f"height_factor={height_factor!r}, width_factor={width_factor!r}"
            )
        self.transform = _KerasZoom(heights, widths, _fill("RandomZoom", fill_mode),
                                    fill_value, interpolation, seed)  # fmt: skip

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation,
                "fill_value": self.fill_value}  # fmt: skip


class RandomCrop(_RandomImageLayer):
    """Crop a random ``height`` x ``width`` window in training; centre at inference.

    Keras 3 resizes at inference (the largest centred window with the target
    aspect ratio, resized to the target size); numnet does the same, with
    bilinear interpolation on half-pixel centres, in one SciPy call per batch
    (``cupyx.scipy.ndimage`` on CuPy arrays).

    Args:
        height, width: the output size.
        seed: an int for reproducible crops.

    Shape:
        input: (N, H, W, C) with H >= height and W >= width; output:
        (N, height, width, C).
    """

    def __init__(self, height, width, seed=None, **kwargs):
        super().__init__(seed, **kwargs)
        self.height, self.width = int(height), int(width)
        self.transform = geometric.RandomCrop(self.height, self.width, seed=seed)

    def call(self, x, training: bool = False):
        if x.ndim == 4 and not training:
            x = self._without_gradient(x)
            return Tensor._from_op(_center_resize(x.data, self.height, self.width))
        return super().call(x, training=training)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width}


def _center_resize(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Largest centred window of aspect height:width, resized to (height, width)."""
    N, H, W, C = x.shape
    if (H, W) == (height, width):
        return x
    xp, ndimage = ndimage_for(x)  # scipy's, or cupyx's for CuPy arrays
    crop_h = min(H, round(W * height / width))
    crop_w = min(W, round(H * width / height))
    top, left = (H - crop_h) // 2, (W - crop_w) // 2
    window = x[:, top : top + crop_h, left : left + crop_w]
    if (crop_h, crop_w) == (height, width):
        return xp.ascontiguousarray(window)
    zoom = (1, height / crop_h, width / crop_w, 1)
    out = ndimage.zoom(window, zoom, order=1, mode="nearest", grid_mode=True)
    return out.astype(x.dtype, copy=False)


__all__ = [
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
]
