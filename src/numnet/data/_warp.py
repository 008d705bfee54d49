"""Affine resampling of NHWC batches and the sampling matrices of
:mod:`numnet.data.geometric` (rotation, translation, zoom, shear).

A sampling matrix acts on homogeneous ``(row, col, 1)`` coordinates centred on
the image centre and maps an output pixel to the input position it is read
from; :func:`warp_affine` resamples a whole batch in one
``scipy.ndimage.map_coordinates`` call (``cupyx.scipy.ndimage`` for CuPy arrays).
"""

from __future__ import annotations

import numpy as np

from numnet.data._transform import (
    FILL_MODES,
    INTERPOLATIONS,
    check_option,
    like,
    ndimage_for,
)

# numnet fill mode -> scipy.ndimage mode. "grid-" modes extend the image as a
# grid of pixels: wrap is exactly periodic, and constant blends with cval at the
# border instead of cutting off half a pixel early.
_SCIPY_MODES = {
    "nearest": "nearest",  # a a a a | a b c d | d d d d
    "constant": "grid-constant",  # k k k k | a b c d | k k k k
    "reflect": "reflect",  # d c b a | a b c d | d c b a
    "wrap": "grid-wrap",  # a b c d | a b c d | a b c d
}


def warp_affine(
    x: np.ndarray,
    matrices: np.ndarray,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation: str = "bilinear",
) -> np.ndarray:
    """Resample every image of a batch through its own affine sampling matrix.

    Args:
        x: images of shape (N, H, W, C).
        matrices: (N, 3, 3) sampling matrices on centred ``(row, col, 1)``
            coordinates (output pixel -> input position).
        fill_mode: how points outside the image are filled: ``"nearest"``,
            ``"constant"`` (with ``cval``), ``"reflect"`` or ``"wrap"``.
        cval: the fill value of ``"constant"``.
        interpolation: ``"bilinear"`` or ``"nearest"``.

    Returns:
        The warped batch, same shape and dtype as ``x``.

    Shape:
        x: (N, H, W, C); matrices: (N, 3, 3); output: (N, H, W, C).
    """
    xp, ndimage = ndimage_for(x)  # scipy's, or cupyx's for CuPy arrays
    check_option(fill_mode, FILL_MODES, "fill_mode", "warp_affine")
    order = INTERPOLATIONS[
        check_option(interpolation, INTERPOLATIONS, "interpolation", "warp_affine")
    ]
    N, H, W, C = x.shape
    cy, cx = (H - 1) / 2, (W - 1) / 2
    rows, cols = xp.meshgrid(xp.arange(H) - cy, xp.arange(W) - cx, indexing="ij")
    # (N, 2, 3, 1, 1) broadcasts over (H, W); on the images' device
    m = like(x, matrices)[:, :2, :, None, None]
    src_rows = m[:, 0, 0] * rows + m[:, 0, 1] * cols + m[:, 0, 2] + cy  # (N, H, W)
    src_cols = m[:, 1, 0] * rows + m[:, 1, 1] * cols + m[:, 1, 2] + cx
    # Channels join the batch axis: one 3-D map_coordinates over (N*C, H, W).
    # Spline order <= 1 needs no prefilter, so the integer batch coordinate
    # never mixes neighbouring images.
    planes = xp.ascontiguousarray(x.transpose(0, 3, 1, 2)).reshape(N * C, H, W)
    coords = xp.empty((3, N, C, H, W))
    coords[0] = xp.arange(N * C).reshape(N, C, 1, 1)
    coords[1] = src_rows[:, None]
    coords[2] = src_cols[:, None]
    out = ndimage.map_coordinates(
        planes,
        coords.reshape(3, N * C, H, W),
        order=order,
        mode=_SCIPY_MODES[fill_mode],
        cval=cval,
        prefilter=False,
    )
    return xp.ascontiguousarray(out.reshape(N, C, H, W).transpose(0, 2, 3, 1))


def _identity(n: int) -> np.ndarray:
    return np.tile(np.eye(3), (n, 1, 1))


def rotation_matrices(angles: np.ndarray) -> np.ndarray:
    """Sampling matrices of counter-clockwise rotations by ``angles`` (radians)."""
    # Output (r, c) reads input (r cos + c sin, c cos - r sin): the inverse rotation.
    cos, sin = np.cos(angles), np.sin(angles)
    m = _identity(len(angles))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = cos, sin, -sin, cos
    return m


def translation_matrices(shift_rows: np.ndarray, shift_cols: np.ndarray) -> np.ndarray:
    """Sampling matrices moving the content by the given pixels (down, right)."""
    m = _identity(len(shift_rows))
    m[:, 0, 2], m[:, 1, 2] = -shift_rows, -shift_cols
    return m


def zoom_matrices(zoom_rows: np.ndarray, zoom_cols: np.ndarray) -> np.ndarray:
    """Sampling matrices magnifying by the given factors (> 1 zooms in)."""
    m = _identity(len(zoom_rows))
    m[:, 0, 0], m[:, 1, 1] = 1.0 / zoom_rows, 1.0 / zoom_cols
    return m


def shear_matrices(angles: np.ndarray) -> np.ndarray:
    """Sampling matrices of x-shears tilting vertical lines by ``angles`` (radians)."""
    # Output column c at row r reads input column c - tan(a) r: the top (r < 0)
    # moves left for a > 0, i.e. vertical lines turn counter-clockwise.
    m = _identity(len(angles))
    m[:, 1, 0] = -np.tan(angles)
    return m
