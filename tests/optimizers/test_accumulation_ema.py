"""gradient_accumulation_steps and use_ema on every optimizer (Keras 3's base
class options): exact equalities in float64, state saving, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import numnet
from numnet import optimizers
from numnet.optimizers import schedules

ALL = {
    "sgd": lambda **kw: optimizers.SGD(0.1, **kw),
    "sgd_nesterov": lambda **kw: optimizers.SGD(0.1, momentum=0.9, nesterov=True, **kw),
    "adam": lambda **kw: optimizers.Adam(0.01, **kw),
    "adam_amsgrad_clip": lambda **kw: optimizers.Adam(
        0.01, amsgrad=True, clipnorm=0.5, **kw
    ),
    "adamw": lambda **kw: optimizers.AdamW(0.01, **kw),
    "rmsprop": lambda **kw: optimizers.RMSprop(0.01, momentum=0.5, centered=True, **kw),
    "adagrad": lambda **kw: optimizers.Adagrad(0.1, **kw),
    "nadam": lambda **kw: optimizers.Nadam(0.01, **kw),
    "adamax": lambda **kw: optimizers.Adamax(0.01, **kw),
    "lion": lambda **kw: optimizers.Lion(0.001, weight_decay=0.1, **kw),
    "adadelta": lambda **kw: optimizers.Adadelta(1.0, **kw),
    "sgd_schedule": lambda **kw: optimizers.SGD(
        schedules.ExponentialDecay(0.1, 1, 0.5), global_clipnorm=1.0, **kw
    ),
}


@pytest.fixture(autouse=True)
def _float64(float64):
    """Every weight, slot and gradient in float64 (exact comparisons)."""


def _weights(rng, n=2):
    return [
        numnet.Parameter(rng.standard_normal(shape)) for shape in [(3, 4), (4,)][:n]
    ]


@pytest.mark.parametrize("name", sorted(ALL))
def test_n_accumulated_calls_equal_one_call_with_the_mean(name, rng):
    n = 3
    acc_w, ref_w = _weights(rng), _weights(rng)
    for a, b in zip(acc_w, ref_w, strict=True):
        b.data[...] = a.data
    acc, ref = ALL[name](gradient_accumulation_steps=n), ALL[name]()
    for window in range(3):
        grads = [[rng.standard_normal(w.shape) for w in acc_w] for _ in range(n)]
        before = [w.data.copy() for w in acc_w]
        for call, gs in enumerate(grads):
            acc.apply(gs, acc_w)
            if call < n - 1:  # the window is open: nothing moves
                assert acc.iterations == window
                for w, b in zip(acc_w, before, strict=True):
                    np.testing.assert_array_equal(w.data, b)
        means = [(g0 + g1 + g2) / n for g0, g1, g2 in zip(*grads, strict=True)]
        ref.apply(means, ref_w)
        assert acc.iterations == ref.iterations == window + 1
        for a, b in zip(acc_w, ref_w, strict=True):  # bit for bit
            np.testing.assert_array_equal(a.data, b.data)
    for slot in ref.slot_names:
        for a, b in zip(acc_w, ref_w, strict=True):
            np.testing.assert_array_equal(
                acc._slots_of(a)[slot], ref._slots_of(b)[slot]
            )


def test_accumulation_counts_a_weight_absent_from_some_calls_as_zero(rng):
    w, v = _weights(rng)
    opt = optimizers.SGD(1.0, gradient_accumulation_steps=2)
    g = rng.standard_normal(v.shape)
    start = v.data.copy()
    opt.apply_gradients([(np.ones(w.shape), w), (g, v)])
    opt.apply_gradients([(np.ones(w.shape), w), (None, v)])
    np.testing.assert_array_equal(v.data, start - g / 2)  # mean over 2 calls
    assert opt.iterations == 1
    np.testing.assert_array_equal(opt._slots_of(v)["gradient_accumulator"], 0)


def _ema_reference(weights_after_steps, m):
    average = None
    for k, w in enumerate(weights_after_steps):
        # Keras 3: the momentum is 0 at the first step, then ema_momentum
        mk = 0.0 if k == 0 else m
        average = w.copy() if average is None else mk * average + (1 - mk) * w
    return average


@pytest.mark.parametrize("name", ["sgd", "adam", "lion"])
def test_ema_after_k_steps_is_the_formula(name, rng):
    (w,) = _weights(rng, 1)
    opt = ALL[name](use_ema=True, ema_momentum=0.9)
    history = []
    for _ in range(6):
        opt.apply([rng.standard_normal(w.shape)], [w])
        history.append(w.data.copy())
    np.testing.assert_array_equal(
        opt._slots_of(w)["average"], _ema_reference(history, 0.9)
    )
    trained = w.data.copy()
    opt.finalize_variable_values([w])
    np.testing.assert_array_equal(w.data, _ema_reference(history, 0.9))
    assert not np.array_equal(trained, w.data)


def test_ema_overwrite_frequency_writes_the_average_every_n_steps(rng):
    (w,) = _weights(rng, 1)
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=3)
    for step in range(1, 7):
        opt.apply([rng.standard_normal(w.shape)], [w])
        average = opt._slots_of(w)["average"]
        # step 1: the average is the weight anyway (momentum 0 at the first step)
        assert np.array_equal(w.data, average) == (step % 3 == 0 or step == 1), step


def test_ema_with_accumulation_moves_on_applied_steps_only(rng):
    (w,) = _weights(rng, 1)
    opt = optimizers.SGD(
        0.1, use_ema=True, ema_momentum=0.8, gradient_accumulation_steps=2
    )
    history = []
    for call in range(8):
        opt.apply([rng.standard_normal(w.shape)], [w])
        if call % 2 == 1:
            history.append(w.data.copy())
    assert opt.iterations == 4
    np.testing.assert_array_equal(
        opt._slots_of(w)["average"], _ema_reference(history, 0.8)
    )


def test_finalize_before_any_step_keeps_the_weights(rng):
    (w,) = _weights(rng, 1)
    opt = optimizers.Adam(use_ema=True)
    opt.build([w])
    before = w.data.copy()
    opt.finalize_variable_values([w])  # the average starts at the weight
    np.testing.assert_array_equal(w.data, before)


def test_config_round_trip_and_state_names():
    opt = optimizers.Adam(
        0.01, use_ema=True, ema_momentum=0.95, ema_overwrite_frequency=5,
        gradient_accumulation_steps=4,
    )  # fmt: skip
    config = json.loads(json.dumps(optimizers.serialize(opt)))
    clone = optimizers.deserialize(config)
    assert clone.get_config() == opt.get_config()
    assert (clone.use_ema, clone.ema_momentum, clone.ema_overwrite_frequency) == (
        True, 0.95, 5,
    )  # fmt: skip
    assert clone.gradient_accumulation_steps == 4
    assert clone.state_slot_names == ("m", "v", "gradient_accumulator", "average")
    assert optimizers.SGD().state_slot_names == ()


def test_state_resumes_identically_mid_window(rng):
    ws = _weights(rng)
    make = lambda: optimizers.Adam(  # noqa: E731
        0.01, use_ema=True, gradient_accumulation_steps=3
    )
    opt = make()
    grads = [[rng.standard_normal(w.shape) for w in ws] for _ in range(10)]
    for gs in grads[:4]:  # one step made, one call into the next window
        opt.apply(gs, ws)
    state = opt.get_state(ws)
    assert int(state["accumulation_calls"]) == 1
    twins = [numnet.Parameter(w.data.copy()) for w in ws]
    resumed = make()
    resumed.set_state(state, twins)
    for gs in grads[4:]:
        opt.apply(gs, ws)
        resumed.apply(gs, twins)
    assert resumed.iterations == opt.iterations == 3
    for a, b in zip(ws, twins, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(
            opt._slots_of(a)["average"], resumed._slots_of(b)["average"]
        )


def test_saved_model_resumes_identically(tmp_path, rng):
    from numnet import layers, models

    x = rng.standard_normal((10, 3)).astype(np.float32)
    y = rng.standard_normal((10, 2)).astype(np.float32)
    model = models.Sequential(
        [layers.Dense(4, "tanh", input_shape=(3,)), layers.Dense(2)]
    )
    model.compile(
        optimizers.Adam(0.01, use_ema=True, gradient_accumulation_steps=2), "mse"
    )
    for i in range(3):  # 1 step made, a window open
        model.train_on_batch(x[i : i + 5], y[i : i + 5])
    model.save(tmp_path / "m.npz")
    clone = models.load_model(tmp_path / "m.npz")
    assert clone.optimizer.get_config() == model.optimizer.get_config()
    assert clone.optimizer._accumulation.calls == 1
    for i in range(4):
        model.train_on_batch(x[i : i + 5], y[i : i + 5])
        clone.train_on_batch(x[i : i + 5], y[i : i + 5])
    for a, b in zip(model.get_weights(), clone.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.optimizer.variables, clone.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_ends_with_the_averages_in_the_weights(rng):
    from numnet import layers, models

    x = rng.standard_normal((16, 3)).astype(np.float32)
    y = rng.standard_normal((16, 1)).astype(np.float32)
    model = models.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), "mse")
    seen = []
    record = numnet.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append(
            [a.copy() for a in model.optimizer.variables]
        )
    )
    model.fit(
        x, y, batch_size=4, epochs=2, verbose=0, shuffle=False, callbacks=[record]
    )
    for w, average in zip(model.trainable_weights, seen[-1], strict=True):
        np.testing.assert_array_equal(w.data, average)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gradient_accumulation_steps": 1}, "gradient_accumulation_steps=1"),
        ({"gradient_accumulation_steps": 2.5}, "int >= 2"),
        ({"gradient_accumulation_steps": True}, "gradient_accumulation_steps=True"),
        ({"use_ema": "yes"}, "use_ema='yes'"),
        ({"use_ema": True, "ema_momentum": 1.5}, "ema_momentum=1.5"),
        ({"use_ema": True, "ema_overwrite_frequency": 0}, "ema_overwrite_frequency=0"),
        ({"ema_overwrite_frequency": 2.0}, "int >= 1 or None"),
    ],
)
def test_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optimizers.Adam(**kwargs)
