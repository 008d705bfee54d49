"""Pooling layers and the image reshaping layers (ZeroPadding2D, Cropping2D,
UpSampling2D)."""

from __future__ import annotations

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

from numnet import layers


def distinct(shape):
    """Inputs with distinct values, so that max-pool windows have one winner."""
    return lambda rng: rng.permutation(int(np.prod(shape))).reshape(shape) / 10.0


def naive_pool(x, size, strides, reduce):
    n, h, w, c = x.shape
    oh, ow = (h - size[0]) // strides[0] + 1, (w - size[1]) // strides[1] + 1
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            window = x[
                :,
                i * strides[0] : i * strides[0] + size[0],
                j * strides[1] : j * strides[1] + size[1],
            ]
            out[:, i, j] = reduce(window, axis=(1, 2))
    return out


@pytest.mark.parametrize("cls", [layers.MaxPooling2D, layers.AveragePooling2D])
@pytest.mark.parametrize(
    "kwargs, in_shape, out_shape",
    [
        ({}, (2, 4, 4, 3), (2, 2, 2, 3)),
        ({"pool_size": 3, "strides": 1}, (1, 4, 5, 2), (1, 2, 3, 2)),  # overlapping
        ({"pool_size": (2, 3), "padding": "same"}, (1, 5, 5, 2), (1, 3, 2, 2)),
    ],
)
def test_pooling_standard_checks(cls, kwargs, in_shape, out_shape):
    run_layer_test(
        lambda: cls(**kwargs),
        input_shape=in_shape,
        expected_output_shape=out_shape,
        expected_trainable_params=0,
        input_fn=distinct(in_shape),
    )


@pytest.mark.parametrize(
    "cls, reduce", [(layers.MaxPooling2D, np.max), (layers.AveragePooling2D, np.mean)]
)
def test_pooling_matches_the_loop_definition(rng, cls, reduce):
    x = rng.normal(size=(2, 7, 6, 3))
    y = cls((3, 2), strides=(2, 1), dtype="float64")(x).data
    np.testing.assert_allclose(y, naive_pool(x, (3, 2), (2, 1), reduce), atol=1e-12)


@pytest.mark.parametrize(
    "cls, reduce",
    [(layers.GlobalAveragePooling2D, np.mean), (layers.GlobalMaxPooling2D, np.max)],
)
def test_global_pooling(cls, reduce):
    shape = (2, 3, 4, 5)
    layer = run_layer_test(
        cls, shape, expected_output_shape=(2, 5), input_fn=distinct(shape)
    )
    x = distinct(shape)(np.random.default_rng(0))
    np.testing.assert_allclose(layer(x).data, reduce(x, axis=(1, 2)), rtol=1e-6)
    run_layer_test(
        lambda: cls(keepdims=True),
        shape,
        expected_output_shape=(2, 1, 1, 5),
        input_fn=distinct(shape),
    )


def test_pooling_errors():
    with pytest.raises(ValueError, match=r"MaxPooling2D: .*'pool_size'.*pool_size=0"):
        layers.MaxPooling2D(0)
    with pytest.raises(ValueError, match=r"'padding'.*padding='full'"):
        layers.AveragePooling2D(padding="full")
    with pytest.raises(ValueError, match=r"'pool_a'.*smaller than pool_size=\(3, 3\)"):
        layers.MaxPooling2D(3, name="pool_a")(np.zeros((1, 2, 5, 1), np.float32))
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=3"):
        layers.GlobalMaxPooling2D()(np.zeros((1, 2, 5), np.float32))


@pytest.mark.parametrize(
    "padding, pairs",
    [
        (1, ((1, 1), (1, 1))),
        ((2, 0), ((2, 2), (0, 0))),
        (((1, 2), (3, 0)), ((1, 2), (3, 0))),
    ],
)
def test_zero_padding(rng, padding, pairs):
    shape = (2, 3, 4, 2)
    (t, b), (left, r) = pairs
    layer = run_layer_test(
        lambda: layers.ZeroPadding2D(padding),
        shape,
        expected_output_shape=(2, 3 + t + b, 4 + left + r, 2),
    )
    x = rng.normal(size=shape).astype(np.float32)
    expected = np.pad(x, ((0, 0), pairs[0], pairs[1], (0, 0)))
    np.testing.assert_array_equal(layer(x).data, expected)


def test_cropping(rng):
    shape = (2, 6, 5, 3)
    layer = run_layer_test(
        lambda: layers.Cropping2D(((1, 2), (0, 1))),
        shape,
        expected_output_shape=(2, 3, 4, 3),
    )
    x = rng.normal(size=shape).astype(np.float32)
    np.testing.assert_array_equal(layer(x).data, x[:, 1:4, 0:4])
    with pytest.raises(ValueError, match="removes the whole image"):
        layers.Cropping2D(3)(x)


def test_upsampling(rng):
    shape = (2, 2, 3, 2)
    layer = run_layer_test(
        lambda: layers.UpSampling2D((2, 3)), shape, expected_output_shape=(2, 4, 9, 2)
    )
    x = rng.normal(size=shape).astype(np.float32)
    np.testing.assert_array_equal(layer(x).data, x.repeat(2, axis=1).repeat(3, axis=2))
    with pytest.raises(ValueError, match=r"'interpolation'.*'bilinear'"):
        layers.UpSampling2D(interpolation="bilinear")
    with pytest.raises(ValueError, match="padding"):
        layers.ZeroPadding2D(-1)
