"""The Optimizer machinery: slots, clipping, constraints, get(), configs, state."""

from __future__ import annotations

import json

import numpy as np
import pytest

import numnet
from numnet import optimizers
from numnet.optimizers import SGD, Adagrad, Adam, RMSprop, schedules


def _param(values, grad=None):
    p = numnet.Parameter(np.array(values, np.float64), dtype="float64")
    if grad is not None:
        p.grad = np.array(grad, np.float64)
    return p


def test_slots_are_built_lazily_and_aligned():
    opt = Adam()
    a, b = _param([1.0, 2.0], [0.1, 0.1]), _param([[1.0]], [[0.1]])
    assert opt.variables == []
    opt.apply([a, b])
    assert [v.shape for v in opt.variables] == [(2,), (2,), (1, 1), (1, 1)]
    c = _param([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    opt.apply([a, c])  # a new parameter gets slots when first seen
    assert [v.shape for v in opt.variables][-2:] == [(3,), (3,)]
    assert opt.iterations == 2


def test_params_without_grad_are_skipped():
    opt = SGD(0.1)
    a, b = _param([1.0], [1.0]), _param([5.0])
    opt.apply([a, b])
    assert a.data[0] == pytest.approx(0.9) and b.data[0] == 5.0


def test_apply_gradients_and_step():
    p = _param([1.0, 1.0])
    opt = SGD(0.5)
    opt.apply_gradients([(numnet.tensor([1.0, -1.0], dtype="float64"), p)])
    np.testing.assert_allclose(p.data, [0.5, 1.5])
    p.grad = np.array([1.0, 1.0])
    opt.step()  # the parameters built so far
    np.testing.assert_allclose(p.data, [0.0, 1.0])
    opt.zero_grad()
    assert p.grad is None


def test_gradient_shape_mismatch_names_the_parameter():
    p = _param([1.0, 1.0])
    p.name = "dense/kernel"
    with pytest.raises(ValueError, match="'dense/kernel' of shape \\(2,\\)"):
        SGD().apply_gradients([(np.ones(3), p)])


def test_clipvalue_and_clipnorm():
    p = _param([0.0, 0.0], [3.0, -4.0])  # norm 5
    SGD(1.0, clipvalue=1.0).apply([p])
    np.testing.assert_allclose(p.data, [-1.0, 1.0])
    p = _param([0.0, 0.0], [3.0, -4.0])
    SGD(1.0, clipnorm=1.0).apply([p])
    np.testing.assert_allclose(p.data, [-0.6, 0.8])
    p = _param([0.0, 0.0], [0.3, -0.4])  # already shorter than the limit
    SGD(1.0, clipnorm=1.0).apply([p])
    np.testing.assert_allclose(p.data, [-0.3, 0.4])


def test_global_clipnorm_scales_all_gradients_together():
    a, b = _param([0.0], [3.0]), _param([0.0], [4.0])
    grad_a = a.grad
    SGD(1.0, global_clipnorm=1.0).apply([a, b])
    np.testing.assert_allclose([a.data[0], b.data[0]], [-0.6, -0.8])
    assert grad_a[0] == 3.0  # gradients are never modified in place


def test_only_one_clipping_option():
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue"):
        SGD(clipnorm=1.0, clipvalue=1.0)


def test_weight_decay_for_any_optimizer():
    p = _param([2.0], [0.0])
    SGD(0.1, weight_decay=0.5).apply([p])
    assert p.data[0] == pytest.approx(2.0 - 0.1 * 0.5 * 2.0)


def test_constraint_applied_after_update():
    p = _param([1.0, 1.0], [-10.0, 0.0])
    p.constraint = lambda w: np.clip(w, 0.0, 1.5)
    SGD(1.0).apply([p])
    np.testing.assert_allclose(p.data, [1.5, 1.0])


def test_constraint_given_by_name():
    p = _param([[3.0], [4.0]], [[0.0], [0.0]])
    p.constraint = "unit_norm"
    SGD(1.0).apply([p])
    np.testing.assert_allclose(p.data, [[0.6], [0.8]], atol=1e-6)


def test_update_is_in_place_and_records_no_graph():
    p = _param([1.0], [1.0])
    data = p.data
    Adam().apply([p])
    assert p.data is data and p.creator is None


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: SGD(-1.0), "learning_rate=-1.0"),
        (lambda: SGD(momentum=1.0), "momentum=1.0"),
        (lambda: Adam(beta_1=-0.1), "beta_1=-0.1"),
        (lambda: Adam(epsilon=None), "epsilon=None"),
        (lambda: RMSprop(rho="x"), "rho='x'"),
        (lambda: SGD(clipnorm=-2), "clipnorm=-2"),
        (lambda: SGD(learning_rate=float("nan")), "learning_rate=nan"),
    ],
)
def test_bad_arguments_raise_keras_style_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_get_by_name_and_unknown_name_lists_valid_ones():
    assert isinstance(optimizers.get("Adam"), Adam)
    assert isinstance(optimizers.get("rms_prop"), RMSprop)
    assert optimizers.get("sgd").learning_rate == 0.01
    opt = Adagrad()
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match="'adagrad', 'adam'.*optimizer='adm'"):
        optimizers.get("adm")


@pytest.mark.parametrize(
    "opt",
    [
        SGD(0.05, momentum=0.8, nesterov=True, clipnorm=1.0),
        RMSprop(centered=True, momentum=0.1),
        Adam(schedules.ExponentialDecay(0.1, 10, 0.9), amsgrad=True),
        optimizers.AdamW(weight_decay=0.01, global_clipnorm=2.0),
        Adagrad(initial_accumulator_value=0.2),
    ],
    ids=lambda o: type(o).__name__,
)
def test_config_round_trip_through_json(opt):
    data = json.loads(json.dumps(optimizers.serialize(opt)))
    clone = optimizers.deserialize(data)
    assert type(clone) is type(opt)
    assert clone.get_config() == opt.get_config()


def test_deserialize_rejects_unknown_classes():
    with pytest.raises(ValueError, match="unknown optimizer 'os.system'"):
        optimizers.deserialize({"class_name": "os.system", "config": {}})


def test_schedule_drives_the_learning_rate():
    opt = SGD(schedules.PiecewiseConstantDecay([1], [1.0, 0.1]))
    p = _param([0.0])
    lrs = []
    for _ in range(3):
        lrs.append(opt.learning_rate)
        p.grad = np.array([1.0])
        opt.apply([p])
    assert lrs == [1.0, 1.0, 0.1]
    assert p.data[0] == pytest.approx(-2.1)
    with pytest.raises(TypeError, match="cannot be set to a number"):
        opt.learning_rate = 0.5


def test_learning_rate_can_be_changed_between_steps():
    opt = SGD(0.1)
    opt.learning_rate = 0.2
    assert opt.learning_rate == 0.2 and isinstance(opt.learning_rate, float)


def test_state_round_trip_resumes_exactly(rng):
    grads = [rng.standard_normal((2, 3)) for _ in range(6)]

    def run(opt, w, gs):
        for g in gs:
            w.grad = g
            opt.apply([w])

    w_ref = _param(np.ones((2, 3)))
    run(Adam(0.01, amsgrad=True), w_ref, grads)

    w = _param(np.ones((2, 3)))
    first = Adam(0.01, amsgrad=True)
    run(first, w, grads[:3])
    state = first.get_state([w])
    assert set(state) == {"iterations", "0/m", "0/v", "0/v_hat"}
    second = Adam(0.01, amsgrad=True)
    second.set_state(state, [w])
    run(second, w, grads[3:])
    np.testing.assert_array_equal(w.data, w_ref.data)


def test_set_state_rejects_wrong_shapes():
    opt = Adam()
    with pytest.raises(ValueError, match="slot '0/m' has shape \\(3,\\)"):
        opt.set_state({"iterations": 1, "0/m": np.zeros(3)}, [_param([1.0])])


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda: RMSprop(centered=True, momentum=0.5),
        lambda: Adam(amsgrad=True),
        lambda: Adagrad(),
    ],
)
def test_threaded_update_of_large_params_is_bit_identical(rng, monkeypatch, make):
    from numnet.optimizers import _parallel

    shape = (400, 400)  # above _parallel.MIN_ELEMENTS
    assert np.prod(shape) >= _parallel.MIN_ELEMENTS
    grads = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
    results = []
    for threads, minimum in (("3", _parallel.MIN_ELEMENTS), ("1", 10**9)):
        monkeypatch.setenv("NUMNET_NUM_THREADS", threads)
        monkeypatch.setattr(_parallel, "MIN_ELEMENTS", minimum)
        w = numnet.Parameter(np.ones(shape, np.float32))
        small = numnet.Parameter(np.ones(3, np.float32))
        opt = make()
        for g in grads:
            w.grad, small.grad = g, g[0, :3]
            opt.apply([w, small])
        results.append((w.data.copy(), small.data.copy(), opt.variables))
    (w1, s1, v1), (w2, s2, v2) = results
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(s1, s2)
    for a, b in zip(v1, v2, strict=True):
        np.testing.assert_array_equal(a, b)
