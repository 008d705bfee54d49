"""Geometric augmentations of NHWC image batches: flips, crops and affine warps.

Affine transforms (rotation, translation, zoom, shear) are described by one 3×3
*sampling* matrix per image, acting on homogeneous ``(row, col, 1)`` coordinates
centred on the image centre: it maps an output pixel to the input position it is
read from. Composing "T1 then T2" multiplies the sampling matrices as
``M1 @ M2``, so :class:`~numnet.data.augment.Compose` fuses consecutive affine
transforms into one resampling (as Keras' ``ImageDataGenerator`` does: one
interpolation instead of several, hence less blur). The resampling is one
``scipy.ndimage.map_coordinates`` call over the whole batch.

Every transform also runs on CuPy arrays (on the GPU), with
``cupyx.scipy.ndimage`` in place of ``scipy.ndimage``; the random parameters
are drawn on the host either way, so a seed gives the same augmentation on
both.

Conventions (rows grow downwards, as the image is displayed): a positive angle
rotates counter-clockwise, a positive shift moves the content down/right, a zoom
factor above 1 magnifies, a positive shear tilts vertical lines
counter-clockwise.
"""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.data._transform import (
    FILL_MODES,
    INTERPOLATIONS,
    Transform,
    check_option,
    like,
    value_range,
)
from numnet.data._warp import (  # noqa: F401 (re-export: numnet.data.geometric.<name>)
    _SCIPY_MODES,
    _identity,
    rotation_matrices,
    shear_matrices,
    translation_matrices,
    warp_affine,
    zoom_matrices,
)

_NUMPY_PAD_MODES = {
    "nearest": "edge",
    "constant": "constant",
    "reflect": "symmetric",
    "wrap": "wrap",
}


class AffineTransform(Transform):
    """Base of the random affine warps; ``get_params`` returns (N, 3, 3) matrices.

    Args:
        fill_mode: ``"nearest"``, ``"constant"``, ``"reflect"`` or ``"wrap"``.
        cval: fill value of ``"constant"``.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        seed: int for a reproducible private generator, or None.
    """

    def __init__(
        self, fill_mode="nearest", cval=0.0, interpolation="bilinear", seed=None
    ):
        super().__init__(seed)
        who = type(self).__name__
        self.fill_mode = check_option(fill_mode, FILL_MODES, "fill_mode", who)
        self.interpolation = check_option(
            interpolation, INTERPOLATIONS, "interpolation", who
        )
        self.cval = float(cval)

    def warp_options(self) -> tuple:
        """The options that must agree for two affine transforms to be fused."""
        return self.fill_mode, self.cval, self.interpolation

    def apply(self, x, params):
        return warp_affine(x, params, self.fill_mode, self.cval, self.interpolation)

    def _config(self):
        return {"fill_mode": self.fill_mode, "cval": self.cval}


class _AngleTransform(AffineTransform):
    """An affine warp by a random angle in ``degrees``: ``_matrices(radians)``."""

    _matrices = None  # rotation_matrices or shear_matrices
    _limit = None  # angles must lie strictly inside (-limit, limit) when set

    def __init__(
        self,
        degrees,
        fill_mode="nearest",
        cval=0.0,
        interpolation="bilinear",
        seed=None,
    ):
        super().__init__(fill_mode, cval, interpolation, seed)
        who = type(self).__name__
        self.degrees = value_range(degrees, "degrees", who)
        limit = self._limit
        if limit is not None and max(abs(d) for d in self.degrees) >= limit:
            raise ValueError(
                f"{who}: invalid value for argument 'degrees'. Expected angles "
                f"strictly between -{limit} and {limit}. Received: degrees={degrees!r}"
            )

    def get_params(self, shape, rng):
        return self._matrices(np.deg2rad(rng.uniform(*self.degrees, size=shape[0])))

    def _config(self):
        return {"degrees": self.degrees, **super()._config()}


class RandomRotation(_AngleTransform):
    """Rotate each image by a random angle, counter-clockwise for positive angles.

    Args:
        degrees: ``d`` for angles in ``[-d, d]`` degrees, or a ``(low, high)`` pair.
        fill_mode, cval, interpolation, seed: see :class:`AffineTransform`.

    Example:
        >>> import numpy as np
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> turn = RandomRotation((90, 90))
        >>> np.allclose(turn(x)[0, ..., 0], np.rot90(x[0, ..., 0]))
        True
    """

    _matrices = staticmethod(rotation_matrices)


class RandomTranslation(AffineTransform):
    """Shift each image by a random offset (positive: down and right).

    Args:
        height_factor: ``f`` for vertical shifts in ``[-f, f]``, or ``(low, high)``;
            a fraction of the height (``unit="fraction"``) or pixels.
        width_factor: the same for horizontal shifts.
        unit: ``"fraction"`` (of the image size, as Keras) or ``"pixel"``.
        fill_mode, cval, interpolation, seed: see :class:`AffineTransform`.
    """

    def __init__(
        self,
        height_factor,
        width_factor,
        unit="fraction",
        fill_mode="nearest",
        cval=0.0,
        interpolation="bilinear",
        seed=None,
    ):
        super().__init__(fill_mode, cval, interpolation, seed)
        who = "RandomTranslation"
        self.height_factor = value_range(height_factor, "height_factor", who)
        self.width_factor = value_range(width_factor, "width_factor", who)
        self.unit = check_option(unit, ("fraction", "pixel"), "unit", who)

    def get_params(self, shape, rng):
        n, h, w = shape[:3]
        dy = rng.uniform(*self.height_factor, size=n)
        dx = rng.uniform(*self.width_factor, size=n)
        if self.unit == "fraction":
            dy, dx = dy * h, dx * w
        return translation_matrices(dy, dx)

    def _config(self):
        return {
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
            "unit": self.unit,
            **super()._config(),
        }


class RandomZoom(AffineTransform):
    """Magnify each image by a random factor (> 1 zooms in, < 1 zooms out).

    Args:
        zoom_range: ``z`` for factors in ``[1 - z, 1 + z]``, or ``(low, high)``.
        independent: draw separate height and width factors (the aspect ratio
            changes, as in Keras' ``ImageDataGenerator``); default: one factor.
        fill_mode, cval, interpolation, seed: see :class:`AffineTransform`.
    """

    def __init__(
        self,
        zoom_range,
        independent=False,
        fill_mode="nearest",
        cval=0.0,
        interpolation="bilinear",
        seed=None,
    ):
        super().__init__(fill_mode, cval, interpolation, seed)
        self.zoom_range = value_range(zoom_range, "zoom_range", "RandomZoom", 1.0, True)
        self.independent = bool(independent)

    def get_params(self, shape, rng):
        zy = rng.uniform(*self.zoom_range, size=shape[0])
        zx = rng.uniform(*self.zoom_range, size=shape[0]) if self.independent else zy
        return zoom_matrices(zy, zx)

    def _config(self):
        return {
            "zoom_range": self.zoom_range,
            "independent": self.independent,
            **super()._config(),
        }


class RandomShear(_AngleTransform):
    """Shear each image horizontally: vertical lines tilt by a random angle.

    Args:
        degrees: ``d`` for angles in ``[-d, d]`` degrees, or ``(low, high)``;
            positive angles tilt vertical lines counter-clockwise.
        fill_mode, cval, interpolation, seed: see :class:`AffineTransform`.
    """

    _matrices = staticmethod(shear_matrices)
    _limit = 90  # tan(90 degrees) is infinite


_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(Transform):
    """Flip each image with probability 1/2 (exact: an index reversal, no resampling).

    Args:
        mode: ``"horizontal"`` (left-right), ``"vertical"`` (up-down) or
            ``"horizontal_and_vertical"`` (each drawn independently).
        seed: int for a reproducible private generator, or None.
    """

    def __init__(self, mode="horizontal", seed=None):
        super().__init__(seed)
        self.mode = check_option(mode, _FLIP_MODES, "mode", "RandomFlip")

    def get_params(self, shape, rng):
        flips = rng.random((shape[0], 2)) < 0.5  # columns: horizontal, vertical
        flips[:, 0] &= self.mode != "vertical"
        flips[:, 1] &= self.mode != "horizontal"
        return flips

    def apply(self, x, params):
        xp, flips = backend.get_array_module(x), like(x, params)
        x = xp.where(flips[:, 0, None, None, None], x[:, :, ::-1], x)
        return xp.where(flips[:, 1, None, None, None], x[:, ::-1], x)

    def _config(self):
        return {"mode": self.mode}


class RandomCrop(Transform):
    """Pad each image, then cut a random ``height`` × ``width`` window out of it.

    With ``padding=4`` and the original size this is the classic "random crop
    with padding" (an integer shift of up to 4 pixels, exact, no interpolation).

    Args:
        height, width: the output size.
        padding: pixels added on every side before cropping.
        fill_mode: how the padding is filled (see :func:`warp_affine`).
        cval: fill value of ``"constant"``.
        seed: int for a reproducible private generator, or None.
    """

    def __init__(
        self, height, width, padding=0, fill_mode="constant", cval=0.0, seed=None
    ):
        super().__init__(seed)
        for name, v, low in (
            ("height", height, 1),
            ("width", width, 1),
            ("padding", padding, 0),
        ):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(
                    f"RandomCrop: invalid value for argument '{name}'. Expected an int "
                    f">= {low}. Received: {name}={v!r}"
                )
        self.height, self.width, self.padding = int(height), int(width), int(padding)
        self.fill_mode = check_option(fill_mode, FILL_MODES, "fill_mode", "RandomCrop")
        self.cval = float(cval)

    def get_params(self, shape, rng):
        n, h, w = shape[:3]
        room_y = h + 2 * self.padding - self.height
        room_x = w + 2 * self.padding - self.width
        if room_y < 0 or room_x < 0:
            raise ValueError(
                f"RandomCrop: the crop {self.height}x{self.width} is larger than the "
                f"padded image {h + 2 * self.padding}x{w + 2 * self.padding}."
            )
        return np.stack(
            [rng.integers(0, room_y + 1, n), rng.integers(0, room_x + 1, n)], 1
        )

    def apply(self, x, params):
        p = self.padding
        kw = {"constant_values": self.cval} if self.fill_mode == "constant" else {}
        padded = backend.get_array_module(x).pad(
            x, ((0, 0), (p, p), (p, p), (0, 0)), _NUMPY_PAD_MODES[self.fill_mode], **kw
        )
        rows = params[:, 0, None] + np.arange(self.height)  # (N, height)
        cols = params[:, 1, None] + np.arange(self.width)  # (N, width)
        batch = np.arange(len(x))[:, None, None]
        index = (batch, rows[:, :, None], cols[:, None, :])
        return padded[tuple(like(x, i) for i in index)]

    def _config(self):
        return {
            "height": self.height,
            "width": self.width,
            "padding": self.padding,
            "fill_mode": self.fill_mode,
        }


__all__ = [
    "AffineTransform",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "rotation_matrices",
    "shear_matrices",
    "translation_matrices",
    "warp_affine",
    "zoom_matrices",
]
