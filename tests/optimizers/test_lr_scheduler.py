"""numnet.optimizers.lr_scheduler against torch.optim.lr_scheduler: the rate
after construction and after each of 120+ steps, for every scheduler, with
fixed and hypothesis-drawn arguments (both on a plain SGD; numnet's equals
PyTorch's to 1e-12 relative: the same updates in the same order)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from tests.optimizers.scheduler_helpers import (
    assert_same_rates,
    numnet_optimizer,
    numnet_rates,
    torch_optimizer,
    torch_rates,
)

from numnet.optimizers import lr_scheduler

torch = pytest.importorskip("torch")

gammas = st.floats(0.05, 1.2)
factors = st.floats(0.01, 1.0)


@pytest.mark.parametrize(
    "make",
    [
        lambda m, o: m.StepLR(o, step_size=7),
        lambda m, o: m.StepLR(o, 1, gamma=0.97),
        lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 80], gamma=0.5),
        lambda m, o: m.MultiStepLR(o, [0, 50]),
        lambda m, o: m.ExponentialLR(o, gamma=0.95),
        lambda m, o: m.CosineAnnealingLR(o, T_max=30),
        lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
        lambda m, o: m.LambdaLR(o, lambda e: 1.0 / (1.0 + 0.1 * e)),
        lambda m, o: m.LambdaLR(o, [lambda e: 0.9 ** (e // 3)]),
        lambda m, o: m.MultiplicativeLR(o, lambda e: 0.99 if e % 2 else 1.01),
        lambda m, o: m.LinearLR(o),
        lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=90),
        lambda m, o: m.ConstantLR(o),
        lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=40),
        lambda m, o: m.PolynomialLR(o),
        lambda m, o: m.PolynomialLR(o, total_iters=100, power=2.0),
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10),
        lambda m, o: m.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=0.001),
        lambda m, o: m.OneCycleLR(o, 1.0, total_steps=131, cycle_momentum=False),
        lambda m, o: m.OneCycleLR(
            o,
            0.5,
            epochs=14,
            steps_per_epoch=10,
            pct_start=0.25,
            anneal_strategy="linear",
            cycle_momentum=False,
            three_phase=True,
        ),
    ],  # fmt: skip
)
def test_each_scheduler_matches_pytorch_over_130_steps(make):
    rates = assert_same_rates(make, steps=130, lr=0.1)
    assert len(np.unique(rates[:, 1])) > 1  # the rate did change


@given(st.integers(1, 30), gammas)
def test_step_lr(step_size, gamma):
    assert_same_rates(lambda m, o: m.StepLR(o, step_size, gamma))


@given(st.lists(st.integers(0, 120), max_size=6), gammas)
def test_multistep_lr(milestones, gamma):
    assert_same_rates(lambda m, o: m.MultiStepLR(o, milestones, gamma))


@given(st.floats(0.9, 1.05))
def test_exponential_lr(gamma):
    assert_same_rates(lambda m, o: m.ExponentialLR(o, gamma))


@given(st.integers(1, 60), st.floats(0.0, 0.2))
def test_cosine_annealing_lr_over_several_periods(t_max, eta_min):
    assert_same_rates(lambda m, o: m.CosineAnnealingLR(o, t_max, eta_min), steps=150)


@given(st.floats(0.01, 1.0), st.floats(0.0, 1.0), st.integers(1, 60))
def test_linear_lr(start, end, total):
    assert_same_rates(lambda m, o: m.LinearLR(o, start, end, total))


@given(factors, st.integers(1, 60))
def test_constant_lr(factor, total):
    assert_same_rates(lambda m, o: m.ConstantLR(o, factor, total))


@given(st.integers(1, 110), st.floats(0.0, 3.0))
def test_polynomial_lr(total, power):
    assert_same_rates(lambda m, o: m.PolynomialLR(o, total, power))


@given(st.integers(1, 30), st.integers(1, 3), st.floats(0.0, 0.05))
def test_cosine_annealing_warm_restarts(t_0, t_mult, eta_min):
    assert_same_rates(
        lambda m, o: m.CosineAnnealingWarmRestarts(o, t_0, t_mult, eta_min)
    )


@given(
    st.integers(100, 200),
    st.floats(0.0, 1.0),
    st.sampled_from(["cos", "linear"]),
    st.floats(1.0, 100.0),
    st.floats(1.0, 1e5),
    st.booleans(),
)
def test_one_cycle_lr(total, pct_start, anneal, div, final_div, three_phase):
    def make(m, o):
        return m.OneCycleLR(
            o, 0.3, total_steps=total, pct_start=pct_start, anneal_strategy=anneal,
            div_factor=div, final_div_factor=final_div, three_phase=three_phase,
            cycle_momentum=False,
        )  # fmt: skip

    try:  # PyTorch divides by zero when a phase has no length
        theirs = torch_rates(make, total - 1)
    except ZeroDivisionError:
        assume(False)
    ours = numnet_rates(make, total)
    np.testing.assert_allclose(ours[:-1], theirs, rtol=1e-12)
    # the last step sets the end of the last phase (PyTorch extrapolates past it)
    low = 0.3 / div / final_div
    if not three_phase or pct_start <= 0.5:  # phases in order
        assert ours[-1, 1] == pytest.approx(low, rel=1e-12, abs=1e-15)
    assert low - 1e-15 <= ours[-1, 1] <= 0.3


@pytest.mark.parametrize(
    ("kind", "torch_kind", "attribute", "read"),
    [
        ("Adam", "Adam", "beta_1", lambda o: o.param_groups[0]["betas"][0]),
        ("SGD", "SGD", "momentum", lambda o: o.param_groups[0]["momentum"]),
    ],
)
def test_one_cycle_cycles_beta_1_or_momentum_as_pytorch(
    kind, torch_kind, attribute, read
):
    kwargs = {"momentum": 0.9} if kind == "SGD" else {}
    ours = numnet_optimizer(0.1, kind, **kwargs)
    theirs = torch_optimizer(0.1, torch_kind, **kwargs)
    s_ours = lr_scheduler.OneCycleLR(ours, 0.01, total_steps=120, three_phase=True)
    s_theirs = torch.optim.lr_scheduler.OneCycleLR(
        theirs, 0.01, total_steps=120, three_phase=True
    )
    for _ in range(120):
        assert getattr(ours, attribute) == pytest.approx(read(theirs), rel=1e-12)
        assert ours.learning_rate == pytest.approx(theirs.param_groups[0]["lr"])
        ours.step(), theirs.step(), s_ours.step(), s_theirs.step()
    assert getattr(ours, attribute) == pytest.approx(read(theirs), rel=1e-12)


def test_one_cycle_phase_of_no_length_is_at_its_end():
    # pct_start * total_steps == 1: PyTorch raises ZeroDivisionError
    opt = numnet_optimizer()
    sched = lr_scheduler.OneCycleLR(
        opt, 1.0, total_steps=10, pct_start=0.1, cycle_momentum=False
    )
    assert sched.get_last_lr() == [1.0]  # step 0 ends the warm-up: the peak


metric_values = st.sampled_from([1.0, 0.99995, 0.999, 0.9, 0.5, 1.5, 2.0])


@given(
    st.lists(metric_values, min_size=120, max_size=120),
    st.sampled_from(["min", "max"]),
    st.sampled_from(["rel", "abs"]),
    st.sampled_from([0.0, 1e-4, 0.05]),
    st.integers(0, 4),
    st.integers(0, 3),
    st.sampled_from([0.0, 1e-3]),
    st.sampled_from([0.1, 0.5, 0.9]),
    st.sampled_from([1e-8, 1e-3]),
)
def test_reduce_lr_on_plateau_on_a_scripted_metric(
    metrics, mode, threshold_mode, threshold, patience, cooldown, min_lr, factor, eps
):
    def make(m, o):
        return m.ReduceLROnPlateau(
            o, mode, factor, patience, threshold, threshold_mode, cooldown,
            min_lr, eps,
        )  # fmt: skip

    assert_same_rates(make, steps=120, metrics=metrics)


def test_reduce_lr_on_plateau_reduces_down_to_min_lr():
    metrics = [1.0] * 150
    rates = assert_same_rates(
        lambda m, o: m.ReduceLROnPlateau(o, patience=2, cooldown=1, min_lr=1e-4),
        steps=150,
        metrics=metrics,
    )
    # 0.1 * 0.1**3 rounds just above min_lr; a change below eps is skipped
    assert rates[-1, 1] == pytest.approx(1e-4) and rates[5, 1] == pytest.approx(0.01)


@pytest.mark.parametrize(
    "make",
    [
        lambda m, o: m.SequentialLR(
            o, [m.LinearLR(o, 0.1, total_iters=10), m.CosineAnnealingLR(o, 100)], [10]
        ),
        lambda m, o: m.SequentialLR(
            o,
            [m.ConstantLR(o, 0.5, 5), m.ExponentialLR(o, 0.97), m.StepLR(o, 9, 0.5)],
            milestones=[20, 60],
        ),
        lambda m, o: m.SequentialLR(
            o, [m.ExponentialLR(o, 0.9), m.CosineAnnealingWarmRestarts(o, 10)], [30]
        ),
        lambda m, o: m.SequentialLR(
            o,
            [
                m.ChainedScheduler([m.ExponentialLR(o, 0.98), m.StepLR(o, 10)]),
                m.LinearLR(o, 0.2, total_iters=8),
            ],
            [50],
        ),
        lambda m, o: m.ChainedScheduler(
            [m.ConstantLR(o, factor=0.1, total_iters=2), m.ExponentialLR(o, 0.9)]
        ),
        lambda m, o: m.ChainedScheduler(
            [
                m.StepLR(o, 7, 0.7),
                m.MultiplicativeLR(o, lambda e: 0.995),
                m.LinearLR(o, 0.5, total_iters=20),
            ],
            optimizer=o,
        ),  # fmt: skip
    ],
)
@pytest.mark.filterwarnings("ignore:Detected call")  # a chain first: both warn
def test_sequential_and_chained_compositions_match_pytorch(make):
    assert_same_rates(make, steps=130)


@pytest.mark.parametrize(
    "make",
    [
        lambda m, o: m.StepLR(o, 7, 0.5),
        lambda m, o: m.MultiStepLR(o, [5, 9, 9, 40]),
        lambda m, o: m.ExponentialLR(o, 0.9),
        lambda m, o: m.CosineAnnealingLR(o, 13, 0.01),
        lambda m, o: m.LinearLR(o, 0.2, 0.9, 25),
        lambda m, o: m.ConstantLR(o, 0.3, 12),
        lambda m, o: m.PolynomialLR(o, 30, 1.5),
        lambda m, o: m.LambdaLR(o, lambda e: 1 / (1 + e)),
        lambda m, o: m.CosineAnnealingWarmRestarts(o, 4, 2),
    ],
)
def test_step_with_an_epoch_uses_pytorchs_closed_form(make):
    ours, theirs = numnet_optimizer(), torch_optimizer()
    s_ours, s_theirs = make(lr_scheduler, ours), make(torch.optim.lr_scheduler, theirs)
    epochs = np.random.default_rng(0).integers(0, 60, size=40).tolist() + [2.5, 7.25]
    with warnings.catch_warnings():  # the deprecation warnings (both sides)
        warnings.simplefilter("ignore", UserWarning)
        for epoch in epochs:
            if isinstance(epoch, float) and "Warm" not in type(s_ours).__name__:
                continue
            s_ours.step(epoch)
            s_theirs.step(epoch)
            assert ours.learning_rate == pytest.approx(
                theirs.param_groups[0]["lr"], rel=1e-12, abs=1e-300
            )


def test_warm_restarts_per_batch_with_fractional_epochs():
    ours, theirs = numnet_optimizer(), torch_optimizer()
    s_ours = lr_scheduler.CosineAnnealingWarmRestarts(ours, 2, T_mult=2)
    s_theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, 2, 2)
    for epoch in range(12):
        for batch in range(10):
            s_ours.step(epoch + batch / 10)
            s_theirs.step(epoch + batch / 10)
            assert ours.learning_rate == pytest.approx(
                theirs.param_groups[0]["lr"], rel=1e-12
            )
    assert math.isclose(s_ours.T_i, s_theirs.T_i)
