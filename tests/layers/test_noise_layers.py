"""GaussianNoise, GaussianDropout, ActivityRegularization, Identity and
SpatialDropout1D/3D: the standard checks, the formulas, seeds and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

import numnet
from numnet import layers, models


@pytest.mark.parametrize(
    "factory",
    [
        lambda: layers.GaussianNoise(0.3),
        lambda: layers.GaussianDropout(0.4),
    ],
    ids=["GaussianNoise", "GaussianDropout"],
)
def test_gaussian_layers_standard_checks(factory):
    run_layer_test(
        factory,
        (4, 3, 5),
        expected_output_shape=(4, 3, 5),
        expected_trainable_params=0,
        train_differs=True,
    )


@pytest.mark.parametrize(
    "factory, shape",
    [
        (lambda: layers.SpatialDropout1D(0.5), (4, 6, 3)),
        (lambda: layers.SpatialDropout3D(0.5), (3, 2, 3, 2, 4)),
    ],
    ids=["SpatialDropout1D", "SpatialDropout3D"],
)
def test_spatial_dropout_standard_checks(factory, shape):
    run_layer_test(factory, shape, expected_output_shape=shape, train_differs=True)


@pytest.mark.parametrize(
    "factory",
    [lambda: layers.ActivityRegularization(l1=0.1, l2=0.01), layers.Identity],
    ids=["ActivityRegularization", "Identity"],
)
def test_identity_like_layers_standard_checks(factory):
    run_layer_test(factory, (3, 4), expected_output_shape=(3, 4))


def test_gaussian_noise_is_x_plus_the_generators_normal_draw(rng):
    x = rng.normal(size=(200, 100)).astype(np.float32)
    numnet.manual_seed(7)
    y = layers.GaussianNoise(0.25)(x, training=True).data
    # the formula: x + stddev * z, z the global generator's float32 standard normal
    numnet.manual_seed(7)
    z = numnet.backend.get_rng().standard_normal(x.shape, dtype=np.float32)
    np.testing.assert_allclose(y, x + np.float32(0.25) * z, rtol=1e-6, atol=1e-7)
    # 20000 draws: the mean and std are within 0.01 by more than 5 sigma
    assert abs((y - x).std() - 0.25) < 0.01 and abs((y - x).mean()) < 0.01


def test_gaussian_dropout_is_x_times_normal_noise_of_dropout_variance(rng):
    x = rng.normal(size=(200, 100)).astype(np.float32)
    rate = 0.3
    numnet.manual_seed(3)
    y = layers.GaussianDropout(rate)(x, training=True).data
    numnet.manual_seed(3)
    z = numnet.backend.get_rng().standard_normal(x.shape, dtype=np.float32)
    stddev = math.sqrt(rate / (1 - rate))
    np.testing.assert_allclose(y, x * (1 + np.float32(stddev) * z), rtol=1e-5)
    noise = y / x
    assert abs(noise.mean() - 1) < 0.01 and abs(noise.std() - stddev) < 0.01


def test_gaussian_gradients_are_one_and_the_noise(rng):
    x = numnet.tensor(rng.normal(size=(3, 4)), requires_grad=True, dtype=np.float64)
    layers.GaussianNoise(0.5)(x, training=True).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((3, 4)))
    x.grad = None
    y = layers.GaussianDropout(0.5, seed=1)(x, training=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, y.data / x.data)


@pytest.mark.parametrize(
    "cls, arg", [(layers.GaussianNoise, 0.4), (layers.GaussianDropout, 0.4)]
)
def test_gaussian_seed_gives_a_private_reproducible_generator(rng, cls, arg):
    x = rng.normal(size=(4, 5)).astype(np.float32)
    a, b = cls(arg, seed=11), cls(arg, seed=11)
    numnet.manual_seed(0)
    ya = a(x, training=True).data
    numnet.manual_seed(99)  # the global generator does not matter
    np.testing.assert_array_equal(ya, b(x, training=True).data)
    assert not np.array_equal(ya, a(x, training=True).data)  # the stream moves on
    numnet.manual_seed(5)
    g1 = cls(arg)(x, training=True).data
    numnet.manual_seed(5)
    np.testing.assert_array_equal(g1, cls(arg)(x, training=True).data)


def test_gaussian_layers_keep_float64_and_cast_integers():
    x64 = numnet.tensor(np.ones((2, 3)), dtype=np.float64)
    assert layers.GaussianNoise(0.1)(x64, training=True).dtype == np.float64
    assert layers.GaussianDropout(0.1)(x64, training=True).dtype == np.float64
    ints = np.ones((2, 3), np.int64)
    assert layers.GaussianDropout(0.1)(ints, training=True).dtype == np.float32


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: layers.GaussianNoise(1.5), r"GaussianNoise: .*'stddev'.*\[0, 1\]"),
        (lambda: layers.GaussianNoise(-0.1), r"Received: stddev=-0.1"),
        (lambda: layers.GaussianNoise("0.1"), r"GaussianNoise: .*'stddev'"),
        (lambda: layers.GaussianDropout(1.0), r"GaussianDropout: .*'rate'.*\[0, 1\)"),
        (lambda: layers.GaussianDropout(0.1, seed=-1), r"GaussianDropout: .*'seed'"),
        (lambda: layers.GaussianNoise(0.1, seed=1.5), r"GaussianNoise: .*'seed'"),
        (lambda: layers.SpatialDropout1D(2), r"SpatialDropout1D: .*'rate'"),
        (
            lambda: layers.SpatialDropout3D(0.1, data_format="channels_first"),
            r"SpatialDropout3D: .*'data_format'",
        ),
        (
            lambda: layers.ActivityRegularization(l1=-1),
            r"ActivityRegularization: .*'l1'",
        ),
        (
            lambda: layers.ActivityRegularization(l2=float("nan")),
            r"ActivityRegularization: .*'l2'",
        ),
    ],
)
def test_bad_arguments_name_the_layer_and_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_spatial_dropout_shares_the_mask_over_the_spatial_axes():
    numnet.manual_seed(0)
    y = layers.SpatialDropout1D(0.5)(np.ones((8, 5, 6), np.float32), training=True)
    kept = y.data != 0
    assert (kept == kept[:, :1, :]).all() and 0 < kept.mean() < 1
    np.testing.assert_array_equal(y.data[kept], 2.0)  # scaled by 1 / (1 - rate)
    y3 = layers.SpatialDropout3D(0.5)(np.ones((4, 2, 3, 2, 6)), training=True)
    kept3 = y3.data != 0
    assert (kept3 == kept3[:, :1, :1, :1, :]).all() and 0 < kept3.mean() < 1


def test_spatial_dropout_checks_the_rank_in_inference_too():
    with pytest.raises(ValueError, match=r"spatial_dropout1d.*expected ndim=3"):
        layers.SpatialDropout1D(0.5, name="spatial_dropout1d")(np.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="expected ndim=5"):
        layers.SpatialDropout3D(0.5)(np.ones((2, 3, 4, 5)), training=True)


def test_activity_regularization_adds_l1_l2_of_its_input(rng):
    x = rng.normal(size=(3, 4))
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    y = layer(numnet.tensor(x, dtype=np.float64))
    np.testing.assert_array_equal(y.data, x)
    (penalty,) = layer.losses
    expected = 0.1 * np.abs(x).sum() + 0.01 * (x**2).sum()
    np.testing.assert_allclose(penalty.item(), expected, rtol=1e-12)
    # the penalty is in the training loss: its gradient reaches the input
    xt = numnet.tensor(x, requires_grad=True, dtype=np.float64)
    layer(xt)
    layer.losses[0].backward()
    np.testing.assert_allclose(xt.grad, 0.1 * np.sign(x) + 0.02 * x, rtol=1e-12)


def test_activity_regularization_config_is_keras_and_fit_adds_the_penalty(rng):
    layer = layers.ActivityRegularization(l1=0.5)
    config = layer.get_config()
    assert config["l1"] == 0.5 and config["l2"] == 0.0
    assert "activity_regularizer" not in config
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = rng.normal(size=(16, 2)).astype(np.float32)

    def loss_of(l1):
        numnet.manual_seed(0)
        model = models.Sequential(
            [layers.Input((3,)), layers.Dense(2), layers.ActivityRegularization(l1)]
        )
        model.compile(optimizer="sgd", loss="mse")
        return model.evaluate(x, y, verbose=0), model

    plain, _ = loss_of(0.0)
    penalised, model = loss_of(0.5)
    out = model.predict(x, verbose=0)
    # evaluate averages batches of 32: one batch, so the penalty adds exactly
    assert penalised == pytest.approx(plain + 0.5 * np.abs(out).sum(), rel=1e-4)


def test_identity_returns_its_input_and_keeps_a_mask():
    x = numnet.tensor(np.ones((2, 3, 4), np.float32))
    x._keras_mask = np.array([[True, True, False], [True, False, False]])
    y = layers.Identity()(x)
    np.testing.assert_array_equal(y.data, x.data)
    assert y._keras_mask is x._keras_mask
