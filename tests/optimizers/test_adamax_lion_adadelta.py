"""Adamax, Lion and Adadelta: Keras 3's formulas step by step, PyTorch where its
formula agrees, names, configs and argument errors."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import optimizers


def _adamax_reference(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """keras/src/optimizers/adamax.py, written out in float64."""
    b1, b2, eps = beta_1, beta_2, epsilon
    m, u = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = m + (g - m) * (1 - b1)
        u = np.maximum(b2 * u, np.abs(g))
        w = w - lr * m / ((1 - b1**t) * (u + eps))
    return w


def _lion_reference(w, grads, lr, beta_1=0.9, beta_2=0.99):
    """keras/src/optimizers/lion.py, written out in float64."""
    b1, b2 = beta_1, beta_2
    m = np.zeros_like(w)
    for g in grads:
        w = w - lr * np.sign(m * b1 + g * (1 - b1))
        m = m * b2 + g * (1 - b2)
    return w


def _adadelta_reference(w, grads, lr, rho=0.95, epsilon=1e-7):
    """keras/src/optimizers/adadelta.py, written out in float64."""
    eps = epsilon
    a_g, a_d = np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        a_g = rho * a_g + (1 - rho) * g * g
        delta = -(np.sqrt(a_d + eps) * g) / np.sqrt(a_g + eps)
        a_d = rho * a_d + (1 - rho) * delta * delta
        w = w + lr * delta
    return w


def _run(opt, w0, grads):
    w = numnet.Parameter(w0.copy(), dtype="float64")
    for g in grads:
        w.grad = g.copy()
        opt.apply([w])
    return w.data


CASES = [
    ("adamax", {}, _adamax_reference, 0.1),
    ("adamax", {"beta_1": 0.5, "beta_2": 0.8, "epsilon": 1e-3}, _adamax_reference, 0.1),
    ("lion", {}, _lion_reference, 0.1),
    ("lion", {"beta_1": 1.0, "beta_2": 0.5}, _lion_reference, 0.1),
    ("adadelta", {}, _adadelta_reference, 1.0),
    ("adadelta", {"rho": 0.5, "epsilon": 1e-3}, _adadelta_reference, 0.1),
]


@pytest.mark.parametrize("name, kwargs, reference, lr", CASES)
def test_steps_match_keras_formulas(rng, name, kwargs, reference, lr):
    w0 = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(5)]
    grads[2][0, 0] = 0.0  # a zero gradient (Lion: sign of the momentum alone)
    opt = type(optimizers.get(name))(learning_rate=lr, **kwargs)
    expected = reference(w0, grads, lr, **kwargs)
    np.testing.assert_allclose(_run(opt, w0, grads), expected, rtol=1e-12, atol=1e-15)
    assert opt.iterations == 5


def test_first_steps_by_hand():
    # Adamax step 1: m = 0.05, u = 0.5, w = 1 - 0.1 * 0.05 / (0.1 * (0.5 + 1e-7))
    w = _run(optimizers.Adamax(0.1), np.array([1.0]), [np.array([0.5])])
    np.testing.assert_allclose(w, [1 - 0.1 * 0.05 / (0.1 * 0.5000001)], rtol=1e-14)
    # Lion: every weight moves by exactly lr, against the sign of the gradient
    w = _run(optimizers.Lion(0.1), np.array([1.0, 1.0]), [np.array([1e-9, -7.0])])
    np.testing.assert_allclose(w, [0.9, 1.1], rtol=1e-15)
    # Adadelta step 1: a_g = 0.05 * 0.25, step = sqrt(1e-7) * 0.5 / sqrt(a_g + 1e-7)
    w = _run(optimizers.Adadelta(1.0), np.array([1.0]), [np.array([0.5])])
    step = np.sqrt(1e-7) * 0.5 / np.sqrt(0.0125 + 1e-7)
    np.testing.assert_allclose(w, [1 - step], rtol=1e-14)


def test_adamax_against_torch(rng):
    torch = pytest.importorskip("torch")
    w0 = rng.standard_normal((5, 4))
    grads = [rng.standard_normal((5, 4)) for _ in range(6)]

    def torch_run(eps):
        w = torch.tensor(w0, requires_grad=True)
        opt = torch.optim.Adamax([w], lr=0.02, betas=(0.9, 0.999), eps=eps)
        for g in grads:
            w.grad = torch.tensor(g)
            opt.step()
        return w.detach().numpy()

    # torch adds eps inside the maximum (u = max(b2 u, |g| + eps)) and divides by
    # u; Keras adds it outside (m / (u + eps)). Without eps they are one formula.
    mine = _run(optimizers.Adamax(0.02, epsilon=0.0), w0, grads)
    np.testing.assert_allclose(mine, torch_run(0.0), rtol=1e-12, atol=1e-14)
    # with eps = 1e-7 the two differ by about lr * eps / |g| per step
    mine = _run(optimizers.Adamax(0.02), w0, grads)
    np.testing.assert_allclose(mine, torch_run(1e-7), rtol=1e-5, atol=1e-6)


def test_adadelta_against_torch(rng):
    torch = pytest.importorskip("torch")
    w0 = rng.standard_normal((5, 4))
    grads = [rng.standard_normal((5, 4)) for _ in range(6)]
    w = torch.tensor(w0, requires_grad=True)
    opt = torch.optim.Adadelta([w], lr=1.0, rho=0.9, eps=1e-6)
    for g in grads:  # torch's Adadelta is Keras's formula (lr 1.0 by default)
        w.grad = torch.tensor(g)
        opt.step()
    mine = _run(optimizers.Adadelta(1.0, rho=0.9, epsilon=1e-6), w0, grads)
    np.testing.assert_allclose(mine, w.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["adamax", "lion", "adadelta"])
def test_names_configs_and_state(name, rng):
    opt = optimizers.get(name)
    defaults = {
        "adamax": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999},
        "lion": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99},
        "adadelta": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    }[name]
    config = opt.get_config()
    assert {k: config[k] for k in defaults} == defaults  # Keras 3's defaults
    restored = optimizers.deserialize(optimizers.serialize(opt))
    assert type(restored) is type(opt) and restored.get_config() == config
    # the state (slots) carries over: the same next step
    w0, grads = rng.standard_normal(3), [rng.standard_normal(3) for _ in range(3)]
    p = numnet.Parameter(w0.copy(), dtype="float64")
    for g in grads[:2]:
        p.grad = g
        opt.apply([p])
    q = numnet.Parameter(p.data.copy(), dtype="float64")
    again = optimizers.deserialize(optimizers.serialize(opt))
    again.build([q])
    again.set_state(opt.get_state([p]), [q])
    again.iterations = opt.iterations
    for param, o in ((p, opt), (q, again)):
        param.grad = grads[2]
        o.apply([param])
    np.testing.assert_array_equal(p.data, q.data)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"Lion: .*'beta_1'.*\(0, 1\].*beta_1=0"):
        optimizers.Lion(beta_1=0)
    with pytest.raises(ValueError, match=r"Lion: .*'beta_1'.*beta_1=True"):
        optimizers.Lion(beta_1=True)
    assert optimizers.Lion(beta_1=np.float32(0.5)).beta_1 == 0.5
    with pytest.raises(ValueError, match=r"Lion: .*'beta_2'.*beta_2=1.0"):
        optimizers.Lion(beta_2=1.0)
    with pytest.raises(ValueError, match=r"Adamax: .*'beta_2'.*beta_2=1.5"):
        optimizers.Adamax(beta_2=1.5)
    with pytest.raises(ValueError, match=r"Adamax: .*'epsilon'.*epsilon=-1"):
        optimizers.Adamax(epsilon=-1)
    with pytest.raises(ValueError, match=r"Adadelta: .*'epsilon'.*positive.*epsilon=0"):
        optimizers.Adadelta(epsilon=0)
    with pytest.raises(ValueError, match=r"Adadelta: .*'rho'"):
        optimizers.Adadelta(rho=-0.1)
