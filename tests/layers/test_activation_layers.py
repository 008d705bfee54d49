"""ReLU, LeakyReLU, ELU and Softmax layers."""

from __future__ import annotations

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

from numnet import layers, losses


def away_from(*kinks):
    """Inputs in [-3, 3] at least 0.05 away from every kink."""

    def make(rng):
        x = rng.uniform(-3, 3, size=(4, 5))
        for k in kinks:
            x = np.where(np.abs(x - k) < 0.05, k + 0.1, x)
        return x

    return make


@pytest.mark.parametrize(
    "kwargs, reference, kinks",
    [
        ({}, lambda x: np.maximum(x, 0), (0,)),
        ({"max_value": 1.5}, lambda x: np.clip(x, 0, 1.5), (0, 1.5)),
        (
            {"negative_slope": 0.1, "threshold": 0.5},
            lambda x: np.where(x >= 0.5, x, 0.1 * (x - 0.5)),
            (0.5,),
        ),
    ],
)
def test_relu(kwargs, reference, kinks):
    layer = run_layer_test(
        lambda: layers.ReLU(**kwargs), (4, 5), input_fn=away_from(*kinks)
    )
    x = away_from(*kinks)(np.random.default_rng(1))
    np.testing.assert_allclose(layer(x).data, reference(x), rtol=1e-6)


def test_leaky_relu_and_elu():
    x = away_from(0)(np.random.default_rng(2))
    leaky = run_layer_test(layers.LeakyReLU, (4, 5), input_fn=away_from(0))
    np.testing.assert_allclose(leaky(x).data, np.where(x > 0, x, 0.3 * x), rtol=1e-6)
    elu = run_layer_test(lambda: layers.ELU(0.5), (4, 5), input_fn=away_from(0))
    np.testing.assert_allclose(
        elu(x).data, np.where(x > 0, x, 0.5 * np.expm1(x)), rtol=1e-5
    )


@pytest.mark.parametrize("axis", [-1, 1])
def test_softmax_layer(axis):
    layer = run_layer_test(lambda: layers.Softmax(axis), (2, 3, 4))
    x = np.random.default_rng(3).normal(size=(2, 3, 4)).astype(np.float32)
    y = layer(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    np.testing.assert_allclose(y.data, e / e.sum(axis=axis, keepdims=True), rtol=1e-5)
    assert hasattr(y, "_logits") == (axis == -1)


def test_softmax_layer_output_feeds_the_fused_loss():
    z = np.array([[900.0, 0.0, -900.0]], np.float32)
    p = layers.Softmax()(z)
    value = losses.SparseCategoricalCrossentropy()(np.array([2]), p)
    assert value.item() == pytest.approx(1800.0)


@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: layers.ReLU(max_value=-1), r"ReLU: .*'max_value'.*max_value=-1"),
        (lambda: layers.ReLU(negative_slope=-0.1), "negative_slope"),
        (lambda: layers.LeakyReLU("a"), "negative_slope='a'"),
        (lambda: layers.ELU(None), "alpha=None"),
        (lambda: layers.Softmax(axis=1.0), "axis=1.0"),
        (
            lambda: layers.Softmax(axis=2)(np.zeros((2, 2), np.float32)),
            "expected min_ndim=3",
        ),
    ],
)
def test_activation_layer_errors(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()
