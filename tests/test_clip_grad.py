"""numnet.utils.clip_grad_norm_ / clip_grad_value_ against torch.nn.utils, and on
the strict array namespace (a second device: nothing NumPy-only)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.gpu.strict_device import strict_device
from tests.strict_namespace import STRICT, StrictArray, to_numpy

import numnet
from numnet.utils import clip_grad_norm_, clip_grad_value_

SHAPES = [(3, 4), (4,), (2, 2, 3)]


def _grads(rng, scale=1.0):
    return [(rng.normal(size=s) * scale).astype(np.float32) for s in SHAPES]


def _params(grads):
    params = []
    for g in grads:
        p = numnet.Parameter(np.zeros(g.shape, np.float32))
        p.grad = g.copy()
        params.append(p)
    return params


def _torch_params(torch, grads):
    params = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros(g.shape))
        p.grad = torch.tensor(g)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, "inf", 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clipping, and a no-op
def test_clip_grad_norm_matches_torch(rng, norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads = _grads(rng)
    params, reference = _params(grads), _torch_params(torch, grads)
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(reference, max_norm, norm_type=norm_type)
    assert isinstance(total, numnet.Tensor) and total.shape == ()
    assert total.dtype == np.float32
    np.testing.assert_allclose(float(total), expected.item(), rtol=1e-6)
    for p, r in zip(params, reference, strict=True):
        np.testing.assert_allclose(p.grad, r.grad.numpy(), rtol=1e-6, atol=1e-7)
    if max_norm < float(total):  # really clipped: the new norm is max_norm
        assert float(clip_grad_norm_(params, 1e9, norm_type)) == pytest.approx(
            max_norm, rel=1e-5
        )


def test_tiny_norms_use_torchs_epsilon_as_torch_does(rng):
    torch = pytest.importorskip("torch")
    grads = _grads(rng, scale=1e-6)  # total ~ 4e-6: the 1e-6 guard matters
    params, reference = _params(grads), _torch_params(torch, grads)
    clip_grad_norm_(params, 1e-7)
    torch.nn.utils.clip_grad_norm_(reference, 1e-7)
    for p, r in zip(params, reference, strict=True):
        np.testing.assert_allclose(p.grad, r.grad.numpy(), rtol=1e-5, atol=0)


@pytest.mark.parametrize("clip_value", [0.3, 10.0])
def test_clip_grad_value_matches_torch(rng, clip_value):
    torch = pytest.importorskip("torch")
    grads = _grads(rng)
    params, reference = _params(grads), _torch_params(torch, grads)
    assert clip_grad_value_(params, clip_value) is None
    torch.nn.utils.clip_grad_value_(reference, clip_value)
    for p, r in zip(params, reference, strict=True):
        np.testing.assert_array_equal(p.grad, r.grad.numpy())


def test_a_non_finite_norm_raises_only_when_asked(rng):
    grads = _grads(rng)
    grads[1][0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite.*error_if_nonfinite=False"):
        clip_grad_norm_(_params(grads), 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(_params(grads), 1.0)
    assert math.isnan(float(total))


def test_parameters_without_gradients_are_skipped_and_one_parameter_works(rng):
    grads = _grads(rng, scale=10.0)
    params = _params(grads)
    params[0].grad = None
    total = clip_grad_norm_(params, 1.0)
    expected = math.sqrt(
        sum(float((g.astype(np.float64) ** 2).sum()) for g in grads[1:])
    )
    assert float(total) == pytest.approx(expected, rel=1e-6)
    assert params[0].grad is None
    single = _params(grads[:1])[0]
    assert float(clip_grad_norm_(single, 1.0)) == pytest.approx(
        float(np.linalg.norm(grads[0])), rel=1e-6
    )
    assert float(clip_grad_norm_([], 1.0)) == 0.0


def test_a_shared_gradient_array_is_clipped_once_per_parameter(rng):
    g = rng.normal(size=(4,)).astype(np.float32) * 10
    a, b = numnet.Parameter(np.zeros(4, np.float32)), numnet.Parameter(np.zeros(4))
    a.grad = b.grad = g  # the engine may hand one array to two tensors
    before = g.copy()
    total = float(clip_grad_norm_([a], 1.0))
    np.testing.assert_array_equal(g, before)  # rebound, not written into
    np.testing.assert_allclose(a.grad, before / (total + 1e-6), rtol=1e-6)


def test_bad_arguments_are_clear_errors():
    p = numnet.Parameter(np.zeros(2, np.float32))
    p.grad = np.ones(2, np.float32)
    for bad in (0, -1.0, "fro", None):
        with pytest.raises(ValueError, match="norm_type must be a positive number"):
            clip_grad_norm_([p], 1.0, norm_type=bad)
    with pytest.raises(TypeError, match="expected Parameters"):
        clip_grad_norm_([np.ones(2)], 1.0)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
def test_clipping_runs_on_a_second_device_without_host_copies(rng, norm_type):
    grads = _grads(rng, scale=5.0)
    host = _params(grads)
    expected_total = float(clip_grad_norm_(host, 1.0, norm_type))
    with strict_device():
        params = _params(grads)
        for p in params:
            p.data, p.grad = STRICT.asarray(p.data), STRICT.asarray(p.grad)
        total = clip_grad_norm_(params, 1.0, norm_type)
        assert isinstance(total.data, StrictArray)  # stays on the device
        assert float(total) == pytest.approx(expected_total, rel=1e-6)
        for p, h in zip(params, host, strict=True):
            assert isinstance(p.grad, StrictArray) and p.grad.dtype == np.float32
            np.testing.assert_allclose(to_numpy(p.grad), h.grad, rtol=1e-6)
        clip_grad_value_(params, 0.01)
        assert all(isinstance(p.grad, StrictArray) for p in params)
        assert max(float(np.abs(to_numpy(p.grad)).max()) for p in params) <= 0.01


def test_a_pytorch_style_loop_clips_before_the_step(rng):
    from numnet import layers, models, optimizers

    net = models.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(1)])
    opt = optimizers.SGD(net.parameters(), lr=0.1)
    x = rng.normal(size=(8, 4)).astype(np.float32) * 100
    opt.zero_grad()
    numnet.functional.mean(net(x) ** 2).backward()
    before = float(clip_grad_norm_(net.parameters(), max_norm=0.5))
    assert before > 0.5
    after = math.sqrt(sum(float((p.grad**2).sum()) for p in net.parameters()))
    assert after == pytest.approx(0.5, rel=1e-4)
    opt.step()
