"""ZeroPadding1D/3D, Cropping1D/3D, UpSampling3D, GlobalAverage/MaxPooling3D:
standard checks, NumPy references, PyTorch where it has the op, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

import numnet
import numnet.functional as F
from numnet import layers


def distinct(*shape):
    """A permutation of distinct values: no max ties within eps."""
    return lambda rng: rng.permutation(np.prod(shape)).reshape(shape) / 10.0


@pytest.mark.parametrize(
    "factory, shape, out",
    [
        (lambda: layers.ZeroPadding1D(), (2, 3, 2), (2, 5, 2)),
        (lambda: layers.ZeroPadding1D((0, 2)), (2, 3, 2), (2, 5, 2)),
        (lambda: layers.ZeroPadding3D(), (2, 2, 3, 2, 2), (2, 4, 5, 4, 2)),
        (lambda: layers.ZeroPadding3D((1, 0, 2)), (1, 2, 2, 2, 3), (1, 4, 2, 6, 3)),
        (lambda: layers.Cropping1D(), (2, 5, 2), (2, 3, 2)),
        (lambda: layers.Cropping1D((0, 3)), (2, 5, 2), (2, 2, 2)),
        (lambda: layers.Cropping3D(), (2, 3, 4, 5, 2), (2, 1, 2, 3, 2)),
        (
            lambda: layers.Cropping3D(((0, 1), (1, 0), (2, 1))),
            (1, 3, 3, 4, 2),
            (1, 2, 2, 1, 2),
        ),
        (lambda: layers.UpSampling3D(), (2, 2, 1, 2, 2), (2, 4, 2, 4, 2)),
        (lambda: layers.UpSampling3D((1, 3, 2)), (1, 2, 2, 2, 3), (1, 2, 6, 4, 3)),
        (lambda: layers.GlobalAveragePooling3D(), (2, 2, 3, 2, 4), (2, 4)),
        (
            lambda: layers.GlobalAveragePooling3D(keepdims=True),
            (2, 2, 3, 2, 4),
            (2, 1, 1, 1, 4),
        ),
    ],
)
def test_nd_reshaping_and_pooling_standard_checks(factory, shape, out):
    run_layer_test(factory, shape, expected_output_shape=out)


@pytest.mark.parametrize("keepdims, out", [(False, (2, 3)), (True, (2, 1, 1, 1, 3))])
def test_global_max_pooling3d_standard_checks(keepdims, out):
    run_layer_test(
        lambda: layers.GlobalMaxPooling3D(keepdims=keepdims),
        (2, 2, 3, 2, 3),
        expected_output_shape=out,
        input_fn=distinct(2, 2, 3, 2, 3),
    )


def test_padding_and_cropping_match_numpy(rng):
    x3 = rng.normal(size=(2, 4, 3)).astype(np.float32)
    x5 = rng.normal(size=(2, 3, 4, 5, 2)).astype(np.float32)
    np.testing.assert_array_equal(
        layers.ZeroPadding1D((2, 1))(x3).data, np.pad(x3, ((0, 0), (2, 1), (0, 0)))
    )
    pads = ((1, 2), (0, 1), (3, 0))
    np.testing.assert_array_equal(
        layers.ZeroPadding3D(pads)(x5).data, np.pad(x5, ((0, 0), *pads, (0, 0)))
    )
    np.testing.assert_array_equal(layers.Cropping1D((1, 2))(x3).data, x3[:, 1:2])
    np.testing.assert_array_equal(
        layers.Cropping3D(((1, 0), (1, 2), (0, 3)))(x5).data, x5[:, 1:, 1:2, :2]
    )
    # cropping undoes padding
    np.testing.assert_array_equal(
        layers.Cropping3D(pads)(layers.ZeroPadding3D(pads)(x5)).data, x5
    )


def test_upsampling3d_and_global_pooling3d_match_numpy_and_torch(rng):
    x = rng.normal(size=(2, 2, 3, 4, 3)).astype(np.float32)
    up = layers.UpSampling3D((2, 3, 1))(x).data
    expected = x.repeat(2, axis=1).repeat(3, axis=2)
    np.testing.assert_array_equal(up, expected)
    np.testing.assert_allclose(
        layers.GlobalAveragePooling3D()(x).data, x.mean(axis=(1, 2, 3)), rtol=1e-6
    )
    np.testing.assert_array_equal(
        layers.GlobalMaxPooling3D()(x).data, x.max(axis=(1, 2, 3))
    )
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x.transpose(0, 4, 1, 2, 3))  # NDHWC -> NCDHW
    ref = torch.nn.functional.interpolate(xt, scale_factor=(2, 3, 1), mode="nearest")
    np.testing.assert_array_equal(up, ref.numpy().transpose(0, 2, 3, 4, 1))
    pad = torch.nn.functional.pad(xt, (0, 1, 2, 0, 1, 1))  # (W, H, D) pairs
    np.testing.assert_array_equal(
        layers.ZeroPadding3D(((1, 1), (2, 0), (0, 1)))(x).data,
        pad.numpy().transpose(0, 2, 3, 4, 1),
    )


def test_global_max_pooling3d_sends_the_gradient_to_the_maximum():
    x = np.zeros((1, 2, 2, 2, 1))
    x[0, 1, 0, 1, 0] = 5.0
    xt = numnet.tensor(x, requires_grad=True, dtype=np.float64)
    layers.GlobalMaxPooling3D()(xt).sum().backward()
    np.testing.assert_array_equal(xt.grad, (x == 5.0).astype(float))


def test_functional_3d_ops_gradcheck(rng):
    x = rng.normal(size=(2, 2, 2, 3, 2))
    assert numnet.gradcheck(lambda t: F.upsample3d(t, (2, 1, 2)), [x])
    assert numnet.gradcheck(F.global_avg_pool3d, [x])
    assert numnet.gradcheck(F.global_max_pool3d, [distinct(2, 2, 2, 3, 2)(rng)])


@pytest.mark.parametrize(
    "make, x_shape, match",
    [
        (lambda: layers.ZeroPadding1D(-1), None, r"ZeroPadding1D: .*'padding'"),
        (
            lambda: layers.ZeroPadding1D((1, 2, 3)),
            None,
            r"Received: padding=\(1, 2, 3\)",
        ),
        (lambda: layers.ZeroPadding3D((1, 2)), None, r"ZeroPadding3D: .*'padding'"),
        (lambda: layers.Cropping1D("a"), None, r"Cropping1D: .*'cropping'"),
        (
            lambda: layers.Cropping3D(((1, 1), (1, 1))),
            None,
            r"Cropping3D: .*'cropping'",
        ),
        (lambda: layers.UpSampling3D(0), None, r"UpSampling3D: .*'size'"),
        (
            lambda: layers.UpSampling3D(data_format="channels_first"),
            None,
            r"UpSampling3D: .*'data_format'",
        ),
        (
            lambda: layers.GlobalMaxPooling3D(keepdims=1),
            None,
            r"GlobalMaxPooling3D: .*'keepdims'",
        ),
        (lambda: layers.ZeroPadding1D(), (2, 3), r"expected ndim=3"),
        (lambda: layers.ZeroPadding3D(), (2, 3, 3, 2), r"expected ndim=5"),
        (lambda: layers.Cropping1D((2, 2)), (2, 4, 1), r"removes the whole image"),
        (lambda: layers.Cropping3D(1), (1, 3, 2, 3, 1), r"removes the whole image"),
        (lambda: layers.UpSampling3D(), (2, 3, 3, 2), r"expected ndim=5"),
        (lambda: layers.GlobalAveragePooling3D(), (2, 3, 3, 2), r"expected ndim=5"),
        (lambda: layers.GlobalAveragePooling3D(), (2, 0, 3, 2, 1), r"at least 1x1x1"),
    ],
)
def test_bad_input_names_the_layer(make, x_shape, match):
    with pytest.raises(ValueError, match=match):
        make()(np.ones(x_shape, np.float32))


def test_configs_are_keras_shaped():
    assert layers.ZeroPadding1D(2).get_config()["padding"] == [2, 2]
    assert layers.Cropping1D((0, 1)).get_config()["cropping"] == [0, 1]
    assert layers.ZeroPadding3D(1).get_config()["padding"] == [[1, 1]] * 3
    assert layers.UpSampling3D(2).get_config()["size"] == [2, 2, 2]
    # the 2-D siblings keep their forms
    assert layers.ZeroPadding2D(1).get_config()["padding"] == [[1, 1], [1, 1]]
    assert layers.Cropping2D().get_config()["cropping"] == [[0, 0], [0, 0]]
