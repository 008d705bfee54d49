"""BatchNormalization and LayerNormalization layers."""

from __future__ import annotations

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

import numnet
from numnet import layers


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((6, 4), {}),  # after Dense
        ((3, 4, 4, 2), {}),  # after Conv2D: statistics over N, H, W
        ((2, 3, 4, 4), {"axis": 1}),  # channels-first style tensor
        ((5, 3), {"center": False}),
        ((5, 3), {"scale": False, "momentum": 0.5}),
    ],
)
def test_batch_norm_standard_checks(shape, kwargs):
    axis = kwargs.get("axis", -1)
    c = shape[axis]
    learned = int(kwargs.get("center", True)) + int(kwargs.get("scale", True))
    run_layer_test(
        lambda: layers.BatchNormalization(**kwargs),
        input_shape=shape,
        expected_output_shape=shape,
        expected_trainable_params=learned * c,
        expected_non_trainable_params=2 * c,
        train_differs=True,
        input_fn=lambda rng: rng.normal(1.0, 2.0, size=shape),
    )


def test_batch_norm_training_updates_moving_stats_keras_style(rng):
    layer = layers.BatchNormalization(momentum=0.8)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.normal(2.0, 3.0, size=(10, 5, 5, 3)).astype(np.float32)
        layer(x, training=True)
        mean = 0.8 * mean + 0.2 * x.mean(axis=(0, 1, 2))
        var = 0.8 * var + 0.2 * x.var(axis=(0, 1, 2))  # biased batch variance
    np.testing.assert_allclose(layer.moving_mean.data, mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.data, var, rtol=1e-5)


def test_batch_norm_inference_uses_moving_statistics(rng):
    layer = layers.BatchNormalization(epsilon=1e-3)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    layer(x)  # build
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    mean, var = rng.normal(size=3), rng.uniform(0.5, 2, size=3)
    layer.set_weights([gamma, beta, mean, var])
    expected = gamma * (x - mean) / np.sqrt(var + 1e-3) + beta
    np.testing.assert_allclose(layer(x, training=False).data, expected, rtol=1e-5)
    before = layer.get_weights()
    layer(x, training=False)
    for a, b in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # inference never touches the state


def test_batch_norm_frozen_runs_in_inference_mode(rng):
    layer = layers.BatchNormalization()
    x = rng.normal(5.0, 2.0, size=(8, 3)).astype(np.float32)
    layer(x)
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4
    state = [w.copy() for w in layer.get_weights()]
    y = layer(x, training=True)  # frozen: moving statistics, no update (Keras)
    np.testing.assert_allclose(y.data, x / np.sqrt(1 + 1e-3), rtol=1e-5)
    for a, b in zip(state, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    layer.trainable = True
    layer(x, training=True)
    assert not np.array_equal(layer.moving_mean.data, state[2])


def test_batch_norm_follows_the_layer_training_flag(rng):
    layer = layers.BatchNormalization()
    x = rng.normal(3.0, 1.0, size=(8, 2)).astype(np.float32)
    layer(x)
    assert np.all(layer.moving_mean.data == 0)
    layer.train()
    layer(x)
    assert np.all(layer.moving_mean.data != 0)


def test_batch_norm_weight_order_matches_keras():
    layer = layers.BatchNormalization(name="bn")
    layer(np.zeros((2, 3), np.float32))
    names = [w.name for w in layer.weights]
    assert names == ["bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"momentum": 1.5}, r"'momentum'.*\[0.0, 1.0\].*momentum=1.5"),
        ({"epsilon": -1}, r"'epsilon'.*epsilon=-1"),
        ({"axis": "channels"}, r"'axis'.*axis='channels'"),
        ({"gamma_initializer": "onez"}, "gamma_initializer"),
    ],
)
def test_batch_norm_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.BatchNormalization(**kwargs)


def test_batch_norm_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"axis=0 is not a feature axis"):
        layers.BatchNormalization(axis=0)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"axis=3 is not a feature axis"):
        layers.BatchNormalization(axis=3)(np.zeros((2, 3), np.float32))
    layer = layers.BatchNormalization(name="bn_x")
    layer(np.zeros((2, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"'bn_x'.*axis 3 .*value 3.*\(2, 4, 4, 5\)"):
        layer(np.zeros((2, 4, 4, 5), np.float32))
    with pytest.raises(ValueError, match=r"'bn_x'.*expected ndim=4, found ndim=2"):
        layer(np.zeros((2, 3), np.float32))


@pytest.mark.parametrize(
    "shape, axis, params",
    [((4, 6), -1, 12), ((2, 3, 5), -1, 10), ((2, 3, 4), [1, 2], 24), ((2, 3, 4), 1, 6)],
)
def test_layer_norm_standard_checks(shape, axis, params):
    run_layer_test(
        lambda: layers.LayerNormalization(
            axis=axis,
            gamma_initializer="random_normal",
            beta_initializer="random_normal",
        ),
        input_shape=shape,
        expected_output_shape=shape,
        expected_trainable_params=params,
    )


def test_layer_norm_normalizes_each_sample(rng):
    x = rng.normal(4.0, 3.0, size=(5, 8)).astype(np.float32)
    y = layers.LayerNormalization(epsilon=1e-6)(x).data
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=1), 1, rtol=1e-4)


def test_layer_norm_rejects_batch_axis():
    with pytest.raises(ValueError, match="axis=0 is not a feature axis"):
        layers.LayerNormalization(axis=0)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="'axis'"):
        layers.LayerNormalization(axis=[])


def test_layer_normalization_matches_torch_in_float32():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).normal(size=(4, 7, 16)).astype(np.float32)
    gy = np.random.default_rng(6).normal(size=x.shape).astype(np.float32)
    layer = layers.LayerNormalization(epsilon=1e-5)
    xt = numnet.tensor(x, requires_grad=True)
    y = layer(xt)
    y.backward(gy)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.layer_norm(tx, (16,), eps=1e-5)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xt.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
