"""Each update rule against hand-computed steps, in float64 and float32."""

from __future__ import annotations

import math

import numpy as np
import pytest

import numnet
from numnet import optimizers
from numnet.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

GRADS = [0.5, -0.2, 0.1]


def _run(opt, grads=GRADS, w0=1.0, dtype=np.float64):
    """Apply ``opt`` to one scalar weight for each gradient; return the weights."""
    w = numnet.Parameter(np.array([w0], dtype), dtype=dtype)
    out = []
    for g in grads:
        w.grad = np.array([g], dtype)
        opt.apply([w])
        out.append(float(w.data[0]))
    return out


def test_sgd_plain():
    # w = 1 - 0.1 * 0.5 = 0.95; then 0.95 + 0.1 * 0.2 = 0.97
    assert _run(SGD(0.1), GRADS[:2]) == pytest.approx([0.95, 0.97], abs=1e-15)


def test_sgd_momentum_hand_computed():
    # v1 = -0.1*0.5 = -0.05, w1 = 0.95
    # v2 = 0.9*(-0.05) - 0.1*(-0.2) = -0.025, w2 = 0.925
    # v3 = 0.9*(-0.025) - 0.1*0.1 = -0.0325, w3 = 0.8925
    got = _run(SGD(0.1, momentum=0.9))
    assert got == pytest.approx([0.95, 0.925, 0.8925], abs=1e-14)


def test_sgd_nesterov_hand_computed():
    # w1 = 1 - 0.05 + 0.9*(-0.05) = 0.905
    # w2 = 0.905 + 0.02 + 0.9*(-0.025) = 0.9025
    # w3 = 0.9025 - 0.01 + 0.9*(-0.0325) = 0.86325
    got = _run(SGD(0.1, momentum=0.9, nesterov=True))
    assert got == pytest.approx([0.905, 0.9025, 0.86325], abs=1e-14)


def test_adam_first_three_steps_hand_computed():
    # t=1: m=0.05, v=0.00025, alpha = 0.1*sqrt(1-0.999)/(1-0.9) = 0.0316227766,
    #      w = 1 - alpha*0.05/(sqrt(0.00025)+1e-7) = 0.90000063 (~ lr*sign(g): the
    #      bias-corrected first step has size lr)
    # t=2: m=0.025, v=0.00028975, alpha=0.0235316725, w=0.86544025
    # t=3: m=0.0325, v=0.00029946025, alpha=0.0202010597, w=0.82750129
    got = _run(Adam(0.1))
    expected = [0.9000006324515321, 0.8654402506933558, 0.8275012914503131]
    assert got == pytest.approx(expected, abs=1e-12)


def _adam_reference(grads, lr, b1, b2, eps, amsgrad=False, wd=0.0, w=1.0):
    m = v = v_max = 0.0
    out = []
    for t, g in enumerate(grads, 1):
        w -= lr * wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = max(v_max, v)
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        w -= alpha * m / (math.sqrt(v_max if amsgrad else v) + eps)
        out.append(w)
    return out


def test_adam_amsgrad_uses_the_max_second_moment():
    grads = [0.5, 0.01, 0.01]  # v shrinks fast with beta_2=0.5: amsgrad differs
    got = _run(Adam(0.1, beta_2=0.5, amsgrad=True), grads)
    ref = _adam_reference(grads, 0.1, 0.9, 0.5, 1e-7, amsgrad=True)
    plain = _adam_reference(grads, 0.1, 0.9, 0.5, 1e-7)
    assert got == pytest.approx(ref, abs=1e-12)
    assert abs(ref[-1] - plain[-1]) > 1e-3


def test_adamw_decays_before_the_adam_step():
    got = _run(AdamW(0.1, weight_decay=0.5))
    # t=1: w = 1 - 0.1*0.5*1 = 0.95, then the Adam step of size ~0.1: 0.85000063
    assert got[0] == pytest.approx(0.8500006324515321, abs=1e-12)
    assert got == pytest.approx(
        _adam_reference(GRADS, 0.1, 0.9, 0.999, 1e-7, wd=0.5), abs=1e-12
    )
    assert AdamW().weight_decay == 0.004


def test_rmsprop_hand_computed():
    # s1 = 0.1*0.25 = 0.025, w1 = 1 - 0.1*0.5/sqrt(0.025 + 1e-7) = 0.68377287
    # s2 = 0.9*0.025 + 0.1*0.04 = 0.0265, w2 = w1 + 0.02/sqrt(0.0265 + 1e-7)
    got = _run(RMSprop(0.1), GRADS[:2])
    assert got == pytest.approx([0.6837728664367967, 0.806631657994765], abs=1e-12)


def test_rmsprop_centered_and_momentum():
    got = _run(RMSprop(0.1, rho=0.9, momentum=0.5, centered=True), GRADS[:2])
    # s1 = 0.025, mg1 = 0.05, d1 = 0.025 - 0.0025 = 0.0225
    # step1 = 0.1*0.5/sqrt(0.0225+1e-7) = 0.33333259, u1 = step1, w1 = 1 - u1
    step1 = 0.05 / math.sqrt(0.0225 + 1e-7)
    # s2 = 0.0265, mg2 = 0.9*0.05 + 0.1*(-0.2) = 0.025, d2 = 0.0265 - 0.000625
    step2 = 0.1 * -0.2 / math.sqrt(0.025875 + 1e-7)
    u2 = 0.5 * step1 + step2
    assert got == pytest.approx([1 - step1, 1 - step1 - u2], abs=1e-12)


def test_adagrad_hand_computed():
    # a1 = 0.1 + 0.25 = 0.35, w1 = 1 - 0.1*0.5/sqrt(0.35 + 1e-7) = 0.91548459
    # a2 = 0.39, w2 = w1 + 0.02/sqrt(0.39 + 1e-7) = 0.94751021
    got = _run(Adagrad(0.1), GRADS[:2])
    assert got == pytest.approx([0.9154845866007779, 0.9475102132559461], abs=1e-12)


class _Float32Only(np.ndarray):
    """An array that fails if any ufunc touches float64 data or makes float64."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        def plain(a):
            return a.view(np.ndarray) if isinstance(a, _Float32Only) else a

        arrays = [a for a in inputs if isinstance(a, np.ndarray)]
        assert all(a.dtype == np.float32 for a in arrays), (ufunc, inputs)
        assert not any(
            isinstance(a, np.floating) and a.dtype == np.float64 for a in inputs
        )
        if "out" in kwargs:
            kwargs["out"] = tuple(plain(a) for a in kwargs["out"])
        result = getattr(ufunc, method)(*(plain(a) for a in inputs), **kwargs)
        if isinstance(result, np.ndarray):
            assert result.dtype == np.float32, ufunc
            return result.view(_Float32Only)
        return result


@pytest.mark.parametrize(
    "opt",
    [
        SGD(0.1),
        SGD(0.1, momentum=0.9, nesterov=True),
        RMSprop(centered=True, momentum=0.5),
        Adam(amsgrad=True),
        AdamW(),
        Adagrad(),
        Adam(clipnorm=0.1),
        SGD(global_clipnorm=0.1),
        SGD(clipvalue=0.01),
    ],
    ids=lambda o: type(o).__name__,
)
def test_updates_stay_float32_without_float64_temporaries(rng, opt):
    w = numnet.Parameter(rng.standard_normal((3, 4)).astype(np.float32))
    w.data = w.data.view(_Float32Only)
    before = w.data.copy().view(np.ndarray)
    for _ in range(3):
        w.grad = rng.standard_normal((3, 4)).astype(np.float32).view(_Float32Only)
        opt.apply([w])
    assert w.data.dtype == np.float32
    assert all(s.dtype == np.float32 for s in opt.variables)
    assert not np.allclose(w.data.view(np.ndarray), before)


def test_matches_the_float64_result_in_float32(rng):
    g = rng.standard_normal(5)
    w32 = numnet.Parameter(np.ones(5, np.float32))
    w64 = numnet.Parameter(np.ones(5, np.float64), dtype="float64")
    o32, o64 = Adam(0.01), Adam(0.01)
    for _ in range(5):
        w32.grad, w64.grad = g.astype(np.float32), g.copy()
        o32.apply([w32])
        o64.apply([w64])
    np.testing.assert_allclose(w32.data, w64.data, rtol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam", "adamw", "adagrad"])
def test_every_optimizer_minimises_a_quadratic(name):
    opt = optimizers.get(name)
    opt.learning_rate = 0.5 if name == "adagrad" else 0.1  # adagrad's steps shrink
    w = numnet.Parameter(np.array([3.0, -2.0]), dtype="float64")
    for _ in range(300):
        loss = (w * w).sum()
        w.grad = None
        loss.backward()
        opt.apply([w])
    assert np.abs(w.data).max() < 0.3
