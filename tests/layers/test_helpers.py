"""The layer-test helper must be able to fail: planted bugs are caught."""

from __future__ import annotations

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

import numnet
from numnet.autograd import Function
from numnet.layers import Dense, Layer


class _WrongSquare(Function):
    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return gy * self.x  # planted bug: the factor 2 is missing


class WrongGradLayer(Layer):
    def call(self, x):
        return _WrongSquare()(x)


class ForgetfulDense(Dense):
    def get_config(self):
        config = super().get_config()
        del config["activation"]  # planted bug: the round trip loses the activation
        return config


class LeakyDropout(Layer):
    """Claims to be dropout but is the identity in training mode too."""

    def call(self, x, training=False):
        return x


class Float64Layer(Layer):
    def call(self, x):
        return x.astype(np.float64)


def test_helper_catches_a_wrong_backward():
    with pytest.raises(numnet.GradcheckError):
        run_layer_test(WrongGradLayer, (3, 4))


def test_helper_catches_a_broken_config_round_trip():
    with pytest.raises(AssertionError):
        run_layer_test(lambda: ForgetfulDense(3, activation="tanh"), (2, 4))


def test_helper_catches_missing_train_behaviour():
    with pytest.raises(AssertionError, match="train_differs=True"):
        run_layer_test(LeakyDropout, (2, 4), train_differs=True)


def test_helper_catches_float64_leaks():
    with pytest.raises(AssertionError, match="float32"):
        run_layer_test(Float64Layer, (2, 4))


def test_helper_catches_wrong_param_counts():
    with pytest.raises(AssertionError, match="trainable params"):
        run_layer_test(lambda: Dense(3), (2, 4), expected_trainable_params=12)
