"""Conv1DTranspose, Conv3DTranspose, DepthwiseConv1D and SeparableConv1D layers."""

from __future__ import annotations

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

import numnet.functional as F
from numnet import layers


@pytest.mark.parametrize(
    "kwargs, out_w",
    [({}, 7), ({"strides": 2}, 11), ({"strides": 2, "padding": "same"}, 10),
     ({"strides": 2, "output_padding": 1}, 12)],
)  # fmt: skip
def test_conv1d_transpose_layer(kwargs, out_w):
    layer = run_layer_test(
        lambda: layers.Conv1DTranspose(4, 3, activation="tanh", **kwargs),
        input_shape=(2, 5, 3),
        expected_output_shape=(2, out_w, 4),
        expected_trainable_params=3 * 4 * 3 + 4,
    )
    assert layer.kernel.shape == (3, 4, 3)  # Keras: (K, filters, C_in)


def test_conv3d_transpose_layer():
    layer = run_layer_test(
        lambda: layers.Conv3DTranspose(3, (2, 3, 2), strides=(1, 2, 2), padding="same"),
        input_shape=(2, 2, 3, 2, 2),
        expected_output_shape=(2, 2, 6, 4, 3),
        expected_trainable_params=2 * 3 * 2 * 3 * 2 + 3,
    )
    assert layer.kernel.shape == (2, 3, 2, 3, 2)


def test_depthwise_conv1d_layer():
    layer = run_layer_test(
        lambda: layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same"),
        input_shape=(2, 6, 3),
        expected_output_shape=(2, 6, 6),
        expected_trainable_params=3 * 3 * 2 + 6,
    )
    assert layer.kernel.shape == (3, 3, 2)


def test_separable_conv1d_layer_is_depthwise_then_pointwise(rng):
    layer = run_layer_test(
        lambda: layers.SeparableConv1D(4, 3, strides=2, depth_multiplier=2),
        input_shape=(2, 7, 3),
        expected_output_shape=(2, 3, 4),
        expected_trainable_params=3 * 3 * 2 + 6 * 4 + 4,
    )
    assert [w.name.split("/")[-1] for w in layer.weights] == [
        "depthwise_kernel", "pointwise_kernel", "bias"]  # fmt: skip
    x = rng.standard_normal((2, 7, 3)).astype(np.float32)
    depthwise = F.depthwise_conv1d(x, layer.depthwise_kernel, None, 2)
    pointwise = F.conv1d(depthwise, layer.pointwise_kernel, layer.bias)
    np.testing.assert_allclose(layer(x).numpy(), pointwise.numpy(), atol=1e-5)


def test_conv3d_transpose_with_depth_one_is_conv2d_transpose(rng):
    layer = layers.Conv3DTranspose(2, (1, 3, 3), strides=(1, 2, 2))
    x = rng.standard_normal((2, 1, 4, 4, 3)).astype(np.float32)
    y = layer(x).numpy()
    ref = F.conv2d_transpose(x[:, 0], layer.kernel.data[0], layer.bias, 2).numpy()
    np.testing.assert_allclose(y[:, 0], ref, atol=1e-5)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.Conv1DTranspose(2, 3, padding="causal"),
         r"Conv1DTranspose: invalid value for argument 'padding'.*causal"),
        (lambda: layers.Conv1DTranspose(2, 3, dilation_rate=2),
         r"Conv1DTranspose: invalid value for argument 'dilation_rate'"),
        (lambda: layers.Conv3DTranspose(2, 3, strides=2, output_padding=2),
         r"Conv3DTranspose: invalid value for argument 'output_padding'.*=2"),
        (lambda: layers.Conv3DTranspose(0, 3),
         r"Conv3DTranspose: invalid value for argument 'filters'"),
        (lambda: layers.DepthwiseConv1D((3, 3)),
         r"DepthwiseConv1D: invalid value for argument 'kernel_size'"),
        (lambda: layers.DepthwiseConv1D(3, depth_multiplier=0),
         r"DepthwiseConv1D: invalid value for argument 'depth_multiplier'"),
        (lambda: layers.SeparableConv1D(2, 3, padding="full"),
         r"SeparableConv1D: invalid value for argument 'padding'.*full"),
        (lambda: layers.SeparableConv1D(2, 3, data_format="channels_first"),
         r"SeparableConv1D: invalid value for argument 'data_format'"),
    ],
)  # fmt: skip
def test_bad_arguments_name_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_name_the_layer():
    with pytest.raises(ValueError, match=r"conv1d_transpose.*\(5, 3\)|Conv1DTranspose"):
        layers.Conv1DTranspose(2, 3)(np.zeros((5, 3), np.float32))
    layer = layers.DepthwiseConv1D(5)
    with pytest.raises(ValueError, match=r"'depthwise_conv1d.*\(DepthwiseConv1D\)"):
        layer(np.zeros((1, 3, 2), np.float32))
    layer = layers.SeparableConv1D(2, 3)
    layer(np.zeros((1, 6, 2), np.float32))
    with pytest.raises(ValueError, match=r"separable_conv1d|SeparableConv1D"):
        layer(np.zeros((1, 6, 3), np.float32))
