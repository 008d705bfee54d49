"""Augmentation on the GPU: every numnet.data transform and preprocessing layer
gives on CuPy arrays what it gives on NumPy arrays (same seed, same draws).

Runs only where CuPy finds a GPU (``-m gpu``); skipped elsewhere.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.gpu.gpu_guard import require_gpu

import numnet
from numnet import layers as L
from numnet.data import augment as A

pytestmark = pytest.mark.gpu


require_gpu()

import cupy  # noqa: E402

# bilinear weights are computed in float64 on both; the GPU may fuse multiply-adds
TOL = {"rtol": 1e-5, "atol": 1e-6}

TRANSFORMS = {
    "rotation": lambda: A.RandomRotation(30, seed=1),
    "rotation_constant": lambda: A.RandomRotation(
        30, fill_mode="constant", cval=0.5, seed=1
    ),
    "translation_wrap": lambda: A.RandomTranslation(0.3, 0.3, fill_mode="wrap", seed=2),
    "zoom": lambda: A.RandomZoom((0.7, 1.3), seed=3),
    "shear_reflect_nearest": lambda: A.RandomShear(
        20, fill_mode="reflect", interpolation="nearest", seed=4
    ),
    "flip": lambda: A.RandomFlip("horizontal_and_vertical", seed=5),
    "crop_reflect": lambda: A.RandomCrop(9, 11, padding=3, fill_mode="reflect", seed=6),
    "crop_constant": lambda: A.RandomCrop(8, 8, padding=2, cval=0.25, seed=6),
    "brightness": lambda: A.RandomBrightness(0.3, value_range=(0, 1), seed=7),
    "contrast": lambda: A.RandomContrast(0.4, seed=8),
    "channel_shift": lambda: A.ChannelShift(0.2, seed=9),
    "compose_fused_affine": lambda: A.Compose(
        [A.RandomRotation(10), A.RandomZoom((0.8, 1.2)), A.RandomFlip()], seed=10
    ),
}


def _images(dtype=np.float32):
    return np.random.default_rng(0).random((5, 9, 11, 3)).astype(dtype)


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_on_cupy_matches_numpy(name):
    x = _images()
    expected = TRANSFORMS[name]()(x)
    got = TRANSFORMS[name]()(cupy.asarray(x))
    assert isinstance(got, cupy.ndarray), "the batch must stay on the GPU"
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(cupy.asnumpy(got), expected, **TOL)


def test_warp_affine_every_fill_mode_on_cupy_matches_numpy():
    x = _images(np.float64)
    rng = np.random.default_rng(1)
    matrices = A.RandomRotation(40, seed=3).get_params(x.shape, rng)
    for fill_mode in ("nearest", "constant", "reflect", "wrap"):
        for interpolation in ("bilinear", "nearest"):
            args = (matrices, fill_mode, 0.5, interpolation)
            expected = A.warp_affine(x, *args)
            got = A.warp_affine(cupy.asarray(x), *args)
            got = cupy.asnumpy(got)
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


LAYERS = {
    "rotation": lambda: L.RandomRotation(0.2, seed=1),
    "zoom": lambda: L.RandomZoom(0.2, seed=2),
    "flip": lambda: L.RandomFlip(seed=3),
    "translation": lambda: L.RandomTranslation(0.2, 0.2, seed=4),
    "crop": lambda: L.RandomCrop(7, 8, seed=5),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_preprocessing_layer_on_cupy_matches_numpy(name):
    x = _images()
    expected = LAYERS[name]()(x, training=True).numpy()
    got = LAYERS[name]()(numnet.tensor(x, device="cuda"), training=True)
    assert isinstance(got.data, cupy.ndarray)
    np.testing.assert_allclose(got.numpy(), expected, **TOL)


@pytest.mark.parametrize("size", [(7, 8), (9, 5), (9, 11), (6, 6)])
def test_random_crop_inference_resize_on_cupy_matches_numpy(size):
    x = _images()
    expected = L.RandomCrop(*size)(x).numpy()
    got = L.RandomCrop(*size)(numnet.tensor(x, device="cuda"))
    assert isinstance(got.data, cupy.ndarray)
    np.testing.assert_allclose(got.numpy(), expected, **TOL)
