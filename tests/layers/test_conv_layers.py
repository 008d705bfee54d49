"""Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D layers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.layers.helpers import run_layer_test

import numnet
from numnet import layers


def naive_conv(x, k, b, stride=(1, 1), dilation=(1, 1)):
    """Valid cross-correlation by explicit loops (the course-notes definition)."""
    n, h, w, _ = x.shape
    kh, kw, _, f = k.shape
    (sh, sw), (dh, dw) = stride, dilation
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for c in range(kw):
                    out[:, i, j] += x[:, i * sh + a * dh, j * sw + c * dw] @ k[a, c]
    return out + b


@pytest.mark.parametrize(
    "kwargs, in_shape, out_shape",
    [
        ({"kernel_size": 3}, (2, 5, 5, 2), (2, 3, 3, 3)),
        (
            {"kernel_size": 3, "padding": "same", "strides": 2},
            (2, 5, 5, 2),
            (2, 3, 3, 3),
        ),
        ({"kernel_size": (2, 3), "dilation_rate": 2}, (1, 6, 7, 2), (1, 4, 3, 3)),
        ({"kernel_size": 1, "activation": "relu"}, (2, 3, 3, 4), (2, 3, 3, 3)),
        (
            {"kernel_size": 2, "padding": "same", "use_bias": False},
            (1, 4, 4, 1),
            (1, 4, 4, 3),
        ),
        (
            {"kernel_size": 3, "activation": "softmax", "padding": "same"},
            (1, 3, 3, 2),
            (1, 3, 3, 3),
        ),
    ],
)
def test_conv2d_standard_checks(kwargs, in_shape, out_shape):
    kh, kw = (
        (kwargs["kernel_size"],) * 2
        if isinstance(kwargs["kernel_size"], int)
        else (kwargs["kernel_size"])
    )
    bias = 0 if kwargs.get("use_bias") is False else 3
    run_layer_test(
        lambda: layers.Conv2D(3, **kwargs),
        input_shape=in_shape,
        expected_output_shape=out_shape,
        expected_trainable_params=kh * kw * in_shape[-1] * 3 + bias,
    )


@pytest.mark.parametrize(
    "strides, dilation", [((1, 1), (1, 1)), ((2, 1), (1, 1)), ((1, 1), (2, 2))]
)
def test_conv2d_matches_the_loop_definition(rng, strides, dilation):
    layer = layers.Conv2D(
        4,
        (3, 2),
        strides=strides,
        dilation_rate=dilation,
        bias_initializer="random_normal",
    )
    x = rng.normal(size=(2, 7, 6, 3)).astype(np.float32)
    y = layer(x).data
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 3, 4)  # (KH, KW, C_in, filters)
    np.testing.assert_allclose(
        y, naive_conv(x, kernel, bias, strides, dilation), rtol=1e-4, atol=1e-5
    )


def test_conv2d_relu_layer_runs_the_fused_op(rng):
    # Conv2D(activation="relu") = relu of the loop definition, via one autograd node
    layer = layers.Conv2D(4, 3, activation="relu", bias_initializer="random_normal")
    x = numnet.tensor(rng.normal(size=(2, 6, 5, 3)), requires_grad=True)
    y = layer(x)
    kernel, bias = layer.get_weights()
    expected = np.maximum(naive_conv(x.data, kernel, bias, (1, 1), (1, 1)), 0)
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-5)  # float32
    assert (y.data == 0).any() and type(y.creator).__name__ == "_Conv2d"
    assert y.creator.relu


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"filters": 0, "kernel_size": 3}, r"Conv2D: .*'filters'.*filters=0"),
        ({"filters": 2, "kernel_size": (0, 3)}, r"'kernel_size'.*kernel_size=\(0, 3\)"),
        ({"filters": 2, "kernel_size": (3, 3, 3)}, "kernel_size"),
        ({"filters": 2, "kernel_size": 3, "padding": "full"}, r"\['same', 'valid'\]"),
        ({"filters": 2, "kernel_size": 3, "strides": -1}, "strides=-1"),
        (
            {"filters": 2, "kernel_size": 3, "data_format": "channels_first"},
            "channels_last",
        ),
        ({"filters": 2, "kernel_size": 3, "activation": "rellu"}, "activation='rellu'"),
    ],
)
def test_conv2d_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.Conv2D(**kwargs)


def test_conv2d_rejects_bad_inputs():
    layer = layers.Conv2D(2, 3, name="conv_a")
    with pytest.raises(ValueError, match=r"'conv_a'.*expected ndim=4, found ndim=2"):
        layer(np.zeros((4, 5), np.float32))
    layer(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(
        ValueError, match=r"'conv_a'.*axis -1 .*value 3.*\(1, 5, 5, 1\)"
    ):
        layer(np.zeros((1, 5, 5, 1), np.float32))
    with pytest.raises(ValueError, match=r"Layer 'conv_a' \(Conv2D\).*\(1, 2, 2, 3\)"):
        layer(np.zeros((1, 2, 2, 3), np.float32))  # smaller than the kernel


@pytest.mark.parametrize(
    "kwargs, in_shape, out_shape",
    [
        ({"kernel_size": 3, "strides": 2}, (2, 3, 3, 2), (2, 7, 7, 3)),
        (
            {"kernel_size": 3, "strides": 2, "padding": "same"},
            (1, 3, 2, 2),
            (1, 6, 4, 3),
        ),
        (
            {"kernel_size": 2, "strides": 2, "padding": "valid", "output_padding": 1},
            (1, 2, 2, 2),
            (1, 5, 5, 3),
        ),
        ({"kernel_size": (2, 3), "activation": "tanh"}, (1, 3, 3, 1), (1, 4, 5, 3)),
    ],
)
def test_conv2d_transpose_standard_checks(kwargs, in_shape, out_shape):
    k = kwargs["kernel_size"]
    kh, kw = (k, k) if isinstance(k, int) else k
    run_layer_test(
        lambda: layers.Conv2DTranspose(3, **kwargs),
        input_shape=in_shape,
        expected_output_shape=out_shape,
        expected_trainable_params=kh * kw * 3 * in_shape[-1] + 3,
    )


def test_conv2d_transpose_is_the_adjoint_of_conv2d(rng):
    conv = layers.Conv2D(4, 3, strides=2, use_bias=False, dtype="float64")
    x = rng.normal(size=(2, 7, 7, 3))
    y = conv(x).data
    deconv = layers.Conv2DTranspose(3, 3, strides=2, use_bias=False, dtype="float64")
    g = rng.normal(size=y.shape)
    deconv(g)
    deconv.set_weights(conv.get_weights())  # same (KH, KW, 3, 4) array
    xt = deconv(g).data
    assert xt.shape == x.shape
    assert np.sum(y * g) == pytest.approx(np.sum(x * xt), rel=1e-10)


def test_conv2d_transpose_rejects_bad_arguments():
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv2DTranspose(2, 3, dilation_rate=2)
    with pytest.raises(ValueError, match=r"'output_padding'.*strides=\(2, 2\)"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)


@pytest.mark.parametrize(
    "multiplier, padding, strides", [(1, "valid", 1), (2, "same", 2)]
)
def test_depthwise_conv2d_standard_checks(multiplier, padding, strides):
    run_layer_test(
        lambda: layers.DepthwiseConv2D(
            3, strides=strides, padding=padding, depth_multiplier=multiplier
        ),
        input_shape=(2, 5, 5, 3),
        expected_trainable_params=9 * 3 * multiplier + 3 * multiplier,
    )


def test_depthwise_equals_a_block_diagonal_conv2d(rng):
    x = rng.normal(size=(2, 6, 6, 3))
    depthwise = layers.DepthwiseConv2D(
        3, depth_multiplier=2, dtype="float64", bias_initializer="random_normal"
    )
    y = depthwise(x).data
    kernel, bias = depthwise.get_weights()
    dense_kernel = np.zeros((3, 3, 3, 6))
    for c in range(3):
        dense_kernel[:, :, c, 2 * c : 2 * c + 2] = kernel[:, :, c, :]
    np.testing.assert_allclose(y, naive_conv(x, dense_kernel, bias), atol=1e-10)
    assert depthwise.depthwise_kernel is depthwise.kernel


def test_separable_conv2d(rng):
    layer = run_layer_test(
        lambda: layers.SeparableConv2D(
            4, 3, padding="same", depth_multiplier=2, activation="relu"
        ),
        input_shape=(2, 4, 4, 2),
        expected_output_shape=(2, 4, 4, 4),
        expected_trainable_params=9 * 2 * 2 + 4 * 4 + 4,
    )
    names = [w.name.split("/")[-1] for w in layer.weights]
    assert names == ["depthwise_kernel", "pointwise_kernel", "bias"]
    x = rng.normal(size=(1, 5, 5, 2))
    sep = layers.SeparableConv2D(3, 3, dtype="float64", bias_initializer="ones")
    y = sep(x).data
    dw, pw, bias = sep.get_weights()
    depthwise = layers.DepthwiseConv2D(3, dtype="float64", use_bias=False)
    depthwise(x)
    depthwise.set_weights([dw])
    mid = depthwise(x).data
    np.testing.assert_allclose(y, naive_conv(mid, pw, bias), atol=1e-10)


@given(
    h=st.integers(3, 8),
    w=st.integers(3, 8),
    c_in=st.integers(1, 3),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    sh=st.integers(1, 3),
    sw=st.integers(1, 2),
    dilation=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same"]),
)
def test_conv2d_output_shape_and_values_for_any_geometry(
    h, w, c_in, kh, kw, sh, sw, dilation, padding
):
    if padding == "valid" and (dilation * (kh - 1) >= h or dilation * (kw - 1) >= w):
        return  # the kernel does not fit: covered by the error test
    rng = np.random.default_rng(h * 100 + w)
    x = rng.normal(size=(2, h, w, c_in))
    layer = layers.Conv2D(
        2,
        (kh, kw),
        strides=(sh, sw),
        padding=padding,
        dilation_rate=dilation,
        dtype="float64",
    )
    y = layer(x).data
    if padding == "same":
        expected = (2, -(-h // sh), -(-w // sw), 2)  # ceil(H / s), as Keras
    else:
        expected = (
            2,
            (h - dilation * (kh - 1) - 1) // sh + 1,
            (w - dilation * (kw - 1) - 1) // sw + 1,
            2,
        )
    assert y.shape == expected
    if padding == "valid":
        kernel, bias = layer.get_weights()
        oracle = naive_conv(x, kernel, bias, (sh, sw), (dilation, dilation))
        np.testing.assert_allclose(y, oracle, atol=1e-10)
