"""Dense, Activation, Flatten, Reshape, Dropout, SpatialDropout2D."""

from __future__ import annotations

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

import numnet
from numnet import constraints, layers, regularizers


@pytest.mark.parametrize("activation", [None, "tanh", "softmax", "sigmoid", "relu"])
def test_dense_standard_checks(activation):
    run_layer_test(
        lambda: layers.Dense(3, activation=activation),
        input_shape=(4, 5),
        expected_output_shape=(4, 3),
        expected_trainable_params=5 * 3 + 3,
        expected_non_trainable_params=0,
    )


def test_dense_on_3d_input_without_bias():
    layer = run_layer_test(
        lambda: layers.Dense(2, use_bias=False, kernel_initializer="he_normal"),
        input_shape=(2, 3, 4),
        expected_output_shape=(2, 3, 2),
        expected_trainable_params=8,
    )
    assert layer.bias is None and [w.name for w in layer.weights] == [
        f"{layer.name}/kernel"
    ]


def test_dense_computes_x_kernel_plus_bias(rng):
    layer = layers.Dense(3, bias_initializer="ones")
    x = rng.normal(size=(4, 2)).astype(np.float32)
    y = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (2, 3) and bias.shape == (3,)  # Keras layout
    np.testing.assert_allclose(y.data, x @ kernel + 1, rtol=1e-6)


def test_dense_is_built_lazily_from_the_first_input():
    layer = layers.Dense(3)
    assert not layer.built and layer.weights == []
    layer(np.zeros((1, 7), np.float32))
    assert layer.built and layer.kernel.shape == (7, 3)


def test_softmax_and_sigmoid_outputs_carry_their_logits(rng):
    x = rng.normal(size=(2, 4)).astype(np.float32)
    for activation in ("softmax", "sigmoid"):
        layer = layers.Dense(3, activation=activation)
        y = layer(x)
        z = x @ layer.kernel.data + layer.bias.data
        np.testing.assert_allclose(y._logits.data, z, rtol=1e-6)
        assert y._logits_activation == activation
    act = layers.Activation("softmax")(numnet.tensor(x))
    np.testing.assert_allclose(act._logits.data, x)
    assert not hasattr(layers.Dense(3, activation="relu")(x), "_logits")


def test_dense_regularizers_and_constraints_are_wired(rng):
    layer = layers.Dense(
        2,
        kernel_regularizer=regularizers.L2(0.1),
        bias_regularizer="l1",
        kernel_constraint="non_neg",
        bias_initializer="ones",
    )
    layer(rng.normal(size=(3, 4)).astype(np.float32))
    kernel = layer.kernel.data
    expected = 0.1 * np.sum(kernel**2) + 0.01 * 2
    np.testing.assert_allclose(layer.regularization_loss().item(), expected, rtol=1e-6)
    assert isinstance(layer.kernel.constraint, constraints.NonNeg)
    assert layer.bias.constraint is None


def test_dense_trainable_false_freezes_the_weights():
    layer = layers.Dense(3)
    layer(np.zeros((1, 2), np.float32))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert layer.count_params() == 9


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": -3}, r"Dense: invalid value for argument 'units'.*units=-3"),
        ({"units": 0}, "units=0"),
        ({"units": 2.5}, "units=2.5"),
        ({"units": True}, "units=True"),
        ({"units": 3, "activation": "relux"}, r"'relu'.*activation='relux'"),
        (
            {"units": 3, "kernel_initializer": "glorot"},
            r"kernel_initializer.*'he_normal'",
        ),
        ({"units": 3, "kernel_regularizer": "l3"}, r"kernel_regularizer.*'l1'"),
        ({"units": 3, "bias_constraint": "positive"}, r"bias_constraint.*'non_neg'"),
    ],
)
def test_dense_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.Dense(**kwargs)


def test_dense_wrong_input_shape_names_layer_and_shapes():
    layer = layers.Dense(4, name="dense_2")
    layer(np.zeros((32, 16), np.float32))
    expected = (
        "Input 0 of layer 'dense_2' is incompatible with the layer: expected axis -1 "
        "of input shape to have value 16, but received input with shape (32, 64)"
    )
    with pytest.raises(ValueError) as info:
        layer(np.zeros((32, 64), np.float32))
    assert str(info.value) == expected
    with pytest.raises(ValueError, match=r"expected min_ndim=2, found ndim=1"):
        layers.Dense(4)(np.zeros(5, np.float32))


def test_custom_activation_works_but_cannot_be_serialised():
    layer = layers.Dense(2, activation=lambda t: t * 2)
    layer(np.ones((1, 2), np.float32))
    with pytest.raises(ValueError, match="custom activation"):
        layer.get_config()


@pytest.mark.parametrize("activation", ["relu", "tanh", "softmax", "elu"])
def test_activation_layer(activation):
    run_layer_test(
        lambda: layers.Activation(activation),
        input_shape=(3, 4),
        expected_output_shape=(3, 4),
        expected_trainable_params=0,
    )


def test_activation_layer_rejects_unknown_name():
    with pytest.raises(ValueError, match=r"Activation: .*activation='swishy'"):
        layers.Activation("swishy")


@pytest.mark.parametrize(
    "shape, out", [((2, 3, 4, 2), (2, 24)), ((3, 5), (3, 5)), ((4,), (4, 1))]
)
def test_flatten(shape, out):
    run_layer_test(lambda: layers.Flatten(), shape, expected_output_shape=out)


def test_flatten_rejects_channels_first():
    with pytest.raises(ValueError, match="channels_last"):
        layers.Flatten(data_format="channels_first")


@pytest.mark.parametrize("target", [(3, 4), (-1, 2), (2, 3, 2)])
def test_reshape(target):
    expected = (2,) + tuple(6 if d == -1 else d for d in target)
    run_layer_test(
        lambda: layers.Reshape(target), (2, 12), expected_output_shape=expected
    )


@pytest.mark.parametrize("target", [(-1, -1), (0, 3), "3", (2.0,)])
def test_reshape_rejects_bad_target_shape(target):
    with pytest.raises(ValueError, match="Reshape: invalid value for argument"):
        layers.Reshape(target)


def test_reshape_incompatible_input_names_the_layer():
    layer = layers.Reshape((5, 5), name="to_square")
    with pytest.raises(ValueError, match=r"'to_square'.*\(12,\).*\(5, 5\).*\(2, 12\)"):
        layer(np.zeros((2, 12), np.float32))


def test_dropout_standard_checks():
    run_layer_test(
        lambda: layers.Dropout(0.5),
        input_shape=(6, 8),
        expected_output_shape=(6, 8),
        train_differs=True,
    )


def test_dropout_identity_at_inference_scaled_at_training(rng):
    x = rng.normal(size=(50, 40)).astype(np.float32) + 3
    layer = layers.Dropout(0.2)
    np.testing.assert_array_equal(layer(x).data, x)  # layers start in eval mode
    y = layer(x, training=True).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.8, rtol=1e-6)
    assert abs(1 - kept.mean() - 0.2) < 0.03
    layer.train()
    assert (layer(x).data == 0).any()  # the layer's flag now selects training


def test_dropout_seed_gives_a_reproducible_sequence():
    x = np.ones((4, 10), np.float32)
    a, b = layers.Dropout(0.5, seed=1), layers.Dropout(0.5, seed=1)
    first = a(x, training=True).data
    np.testing.assert_array_equal(first, b(x, training=True).data)
    assert not np.array_equal(first, a(x, training=True).data)


def test_dropout_rate_zero_is_identity_in_training():
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(layers.Dropout(0.0)(x, training=True).data, x)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 2, "0.5", None])
def test_dropout_rejects_bad_rate(rate):
    with pytest.raises(ValueError, match=r"Dropout: invalid value for argument 'rate'"):
        layers.Dropout(rate)


def test_dropout_noise_shape_and_spatial_dropout():
    x = np.ones((4, 3, 3, 8), np.float32)
    for layer in (
        layers.Dropout(0.5, noise_shape=(None, 1, 1, None)),
        layers.SpatialDropout2D(0.5),
    ):
        y = layer(x, training=True).data.reshape(4, 9, 8)
        assert np.all(y.min(axis=1) == y.max(axis=1))  # whole maps kept or dropped
    with pytest.raises(ValueError, match="noise_shape"):
        layers.Dropout(0.5, noise_shape=(None, 0))
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=2"):
        layers.SpatialDropout2D(0.5)(np.ones((2, 3), np.float32), training=True)
    run_layer_test(
        lambda: layers.SpatialDropout2D(0.3), (2, 3, 3, 4), train_differs=True
    )


def test_layer_dtype_argument_sets_the_weight_dtype():
    layer = layers.Dense(2, dtype="float64")
    y = layer(np.ones((1, 3)))
    assert layer.kernel.dtype == layer.bias.dtype == y.dtype == np.float64


@pytest.mark.parametrize(
    "layer, shape",
    [
        (lambda: layers.Dense(3), (2, 4)),
        (lambda: layers.Conv2D(2, 3), (1, 5, 5, 1)),
        (lambda: layers.MaxPooling2D(), (1, 4, 4, 2)),
        (lambda: layers.BatchNormalization(), (3, 2)),
        (lambda: layers.Activation("relu"), (3, 2)),
    ],
)
def test_integer_inputs_are_cast_to_the_layer_dtype(layer, shape):
    x = np.arange(np.prod(shape)).reshape(shape) % 7  # int64, like raw labels/pixels
    assert layer()(x.astype(np.uint8)).dtype == np.float32
    assert layer()(x).dtype == np.float32  # int64 must not leak float64
