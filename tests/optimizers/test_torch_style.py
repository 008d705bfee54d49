"""torch.optim-style optimizers (parameters at construction, zero_grad/step) and
Keras 3's ``optimizer.apply(grads, variables)``."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
import numnet.functional as F
from numnet import layers, optimizers


def _loss(model, x):
    return F.mean(model(x) ** 2)


def test_adam_with_parameters_first_trains_with_zero_grad_and_step(rng):
    model = numnet.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(1)])
    opt = optimizers.Adam(model.parameters())
    assert opt.learning_rate == pytest.approx(0.001) and opt.param_list
    sgd = optimizers.SGD(iter(model.parameters()))
    assert sgd.learning_rate == pytest.approx(0.01)  # SGD's own default
    opt.learning_rate = 0.05
    x = rng.normal(size=(16, 3)).astype(np.float32)
    first = float(_loss(model, x).data)
    for _ in range(20):
        opt.zero_grad()
        _loss(model, x).backward()
        opt.step()
    assert float(_loss(model, x).data) < 0.5 * first
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_step_without_any_parameter_raises():
    with pytest.raises(RuntimeError, match="no parameters to update"):
        optimizers.Adam(learning_rate=0.1).step()
    with pytest.raises(ValueError, match="list of parameters"):
        optimizers.Adam([1.0, 2.0])


def test_apply_with_gradients_and_variables(rng):
    w = numnet.Parameter(np.ones(3, np.float32))
    grads = [numnet.tensor([1.0, 2.0, 3.0])]
    optimizers.SGD(learning_rate=0.5).apply(grads, [w])
    np.testing.assert_allclose(w.data, [0.5, 0.0, -0.5])
    with pytest.raises(ValueError, match="1 gradients for 2 variables"):
        optimizers.SGD().apply(grads, [w, w])


def test_apply_with_gradients_alone_uses_the_known_variables():
    w = numnet.Parameter(np.ones(2, np.float32))
    opt = optimizers.SGD([w])
    opt.learning_rate = 0.5
    opt.apply([np.array([1.0, -1.0], np.float32)])
    np.testing.assert_allclose(w.data, [0.5, 1.5])
    with pytest.raises(ValueError, match="no variables"):
        optimizers.SGD().apply([np.ones(2, np.float32)])
