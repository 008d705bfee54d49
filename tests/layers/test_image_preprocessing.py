"""Resizing, CenterCrop, RandomContrast and RandomBrightness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.layers.helpers import run_layer_test

import numnet
import numnet.functional as F
from numnet import layers


def _naive_bilinear(x, height, width):
    """TensorFlow's half-pixel bilinear resize without antialias, pixel by pixel."""
    N, H, W, C = x.shape
    y = np.zeros((N, height, width, C))

    def taps(i, n_in, n_out):
        src = min(max((i + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1)
        low = int(np.floor(src))
        return low, min(low + 1, n_in - 1), src - low

    for i in range(height):
        r0, r1, a = taps(i, H, height)
        for j in range(width):
            c0, c1, b = taps(j, W, width)
            top = x[:, r0, c0] * (1 - b) + x[:, r0, c1] * b
            bottom = x[:, r1, c0] * (1 - b) + x[:, r1, c1] * b
            y[:, i, j] = top * (1 - a) + bottom * a
    return y


@pytest.mark.parametrize("size", [(9, 13), (3, 4), (2, 10), (5, 7), (1, 1)])
def test_resize_matches_naive_formula_up_and_down(rng, size):
    x = rng.standard_normal((2, 5, 7, 3))
    np.testing.assert_allclose(F.resize(x, *size).numpy(), _naive_bilinear(x, *size),
                               atol=1e-12)  # fmt: skip


@pytest.mark.parametrize("size", [(10, 14), (16, 9), (3, 4), (2, 6)])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_resize_matches_torch_interpolate(rng, size, mode):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 5, 7, 3))
    # torch's "nearest" is the legacy floor(i * scale); "nearest-exact" is the
    # half-pixel rule of TensorFlow (and Keras)
    options = ({"mode": "bilinear", "align_corners": False, "antialias": False}
               if mode == "bilinear" else {"mode": "nearest-exact"})  # fmt: skip
    ref = torch.nn.functional.interpolate(
        torch.tensor(x).permute(0, 3, 1, 2), size=size, **options
    ).permute(0, 2, 3, 1)
    np.testing.assert_allclose(F.resize(x, *size, mode).numpy(), ref.numpy(),
                               atol=1e-12)  # fmt: skip


@settings(max_examples=15, deadline=None)
@given(
    h=st.integers(1, 6), w=st.integers(1, 6), oh=st.integers(1, 7),
    ow=st.integers(1, 7), mode=st.sampled_from(["bilinear", "nearest"]),
    seed=st.integers(0, 2**16),
)  # fmt: skip
def test_resize_gradcheck(h, w, oh, ow, mode, seed):
    x = np.random.default_rng(seed).standard_normal((2, h, w, 2))
    numnet.gradcheck(lambda a: F.resize(a, oh, ow, mode), [x])


def test_resizing_layer_and_crop_to_aspect_ratio(rng):
    run_layer_test(lambda: layers.Resizing(7, 9), input_shape=(2, 5, 4, 3),
                   expected_output_shape=(2, 7, 9, 3))  # fmt: skip
    x = rng.standard_normal((2, 6, 10, 3)).astype(np.float32)
    y = layers.Resizing(4, 4, crop_to_aspect_ratio=True)(x).numpy()
    # Keras's window: the largest centred 6x6 square, columns 2..7
    np.testing.assert_allclose(y, F.resize(x[:, :, 2:8], 4, 4).numpy(), atol=1e-6)
    y = layers.Resizing(3, 12, interpolation="nearest")(x[0]).numpy()  # one image
    assert y.shape == (3, 12, 3)
    np.testing.assert_allclose(y, F.resize(x[:1], 3, 12, "nearest").numpy()[0])
    uint8 = layers.Resizing(2, 2)(np.full((1, 4, 4, 1), 200, np.uint8))
    assert uint8.dtype == np.float32 and np.all(uint8.numpy() == 200)


def test_center_crop_crops_or_resizes_like_keras(rng):
    run_layer_test(lambda: layers.CenterCrop(3, 2), input_shape=(2, 6, 5, 2),
                   expected_output_shape=(2, 3, 2, 2))  # fmt: skip
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(layers.CenterCrop(4, 3)(x).numpy(), x[:, 1:5, 1:4])
    np.testing.assert_array_equal(layers.CenterCrop(4, 3)(x[1]).numpy(), x[1, 1:5, 1:4])
    # smaller than the target on one axis: Keras resizes the largest centred
    # window of the target's aspect ratio (smart_resize)
    small = layers.CenterCrop(8, 4)(x).numpy()
    ref = layers.Resizing(8, 4, crop_to_aspect_ratio=True)(x).numpy()
    np.testing.assert_array_equal(small, ref)
    np.testing.assert_allclose(small, F.resize(x[:, :, 1:4], 8, 4).numpy(), atol=1e-6)


def _training_pair(layer, x):
    y = layer(x, training=True).numpy()
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: identity
    return y


def test_random_contrast_scales_around_the_channel_mean(rng):
    x = rng.uniform(60, 190, size=(64, 5, 5, 2)).astype(np.float64)
    layer = layers.RandomContrast((0.2, 0.3), seed=3, dtype="float64")
    y = _training_pair(layer, x)
    mean = x.mean(axis=(1, 2), keepdims=True)
    a = ((y - mean) / (x - mean))[:, 0, 0, 0]  # the factor of each image
    unclipped = (y > 0) & (y < 255)
    expect = np.clip((x - mean) * a[:, None, None, None] + mean, 0, 255)
    np.testing.assert_allclose(y, expect, rtol=1e-9, atol=1e-9)
    assert np.all((a >= 0.8 - 1e-9) & (a <= 1.3 + 1e-9)) and unclipped.any()
    assert a.std() > 0.05  # one factor per image, not one per batch
    clone = layers.RandomContrast.from_config(layer.get_config())
    np.testing.assert_array_equal(clone(x, training=True).numpy(), y)  # seeded


def test_random_brightness_shifts_by_a_fraction_of_the_range(rng):
    x = rng.uniform(0.2, 0.8, size=(64, 4, 4, 3))
    layer = layers.RandomBrightness(0.5, value_range=(0, 1), seed=0, dtype="float64")
    y = _training_pair(layer, x)
    inside = (y > 0) & (y < 1)  # pixels not clipped: they give each image's shift
    delta = np.array([(y - x)[i][inside[i]].mean() for i in range(len(x))])
    np.testing.assert_allclose(y, np.clip(x + delta[:, None, None, None], 0, 1),
                               atol=1e-12)  # fmt: skip
    assert delta.min() < -0.2 and delta.max() > 0.2 and np.all(np.abs(delta) <= 0.5)
    assert y.min() == 0.0 and y.max() == 1.0  # clipped to value_range
    one = layers.RandomBrightness((0.5, 0.5))(x[0], training=True).numpy()
    np.testing.assert_allclose(one, x[0] + 0.5 * 255, rtol=1e-6)  # single image


def test_random_pixel_layers_pass_no_gradient():
    x = numnet.tensor(np.ones((2, 3, 3, 1)), requires_grad=True)
    for layer in (layers.RandomContrast(0.1), layers.RandomBrightness(0.1)):
        with pytest.raises(ValueError, match="pass no gradient"):
            layer(x, training=True)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.Resizing(0, 4), r"Resizing: .*'height'.*height=0"),
        (lambda: layers.Resizing(4, 4, interpolation="bicubic"),
         r"Resizing: .*'interpolation'.*bicubic"),
        (lambda: layers.Resizing(4, 4, antialias=True), r"Resizing: .*'antialias'"),
        (lambda: layers.CenterCrop(4, -1), r"CenterCrop: .*'width'.*width=-1"),
        (lambda: layers.RandomContrast(1.5), r"RandomContrast: .*'factor'.*1.5"),
        (lambda: layers.RandomContrast(0.1, value_range=(1, 0)),
         r"RandomContrast: .*'value_range'"),
        (lambda: layers.RandomBrightness((-2, 0.1)),
         r"RandomBrightness: .*'factor'.*-2"),
        (lambda: layers.RandomBrightness("x"), r"RandomBrightness: .*'factor'"),
    ],
)  # fmt: skip
def test_bad_arguments_name_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "layer",
    [layers.Resizing(2, 2), layers.CenterCrop(2, 2), layers.RandomContrast(0.1),
     layers.RandomBrightness(0.1)],
)  # fmt: skip
def test_bad_inputs_name_the_layer(layer):
    with pytest.raises(ValueError, match=rf"{type(layer).__name__} .*\(4, 4\)"):
        layer(np.zeros((4, 4), np.float32), training=True)
