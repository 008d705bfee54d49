"""PolynomialDecay, CosineDecayRestarts and CosineDecay's warm-up against Keras 3's
formulas written out here, and against PyTorch's schedulers where they agree."""

from __future__ import annotations

import json
import math

import pytest

from numnet.optimizers import schedules as S


def keras_polynomial(step, lr0, decay_steps, end, power, cycle):
    # keras/src/optimizers/schedules/learning_rate_schedule.py, PolynomialDecay
    if cycle:
        multiplier = 1.0 if step == 0 else math.ceil(step / decay_steps)
        decay_steps = decay_steps * multiplier
    else:
        step = min(step, decay_steps)
    p = step / decay_steps
    return (lr0 - end) * (1 - p) ** power + end


def keras_restarts(step, lr0, first, t_mul, m_mul, alpha):
    # the same file, CosineDecayRestarts (its logarithm form, in float64)
    fraction = step / first
    if t_mul == 1.0:
        i = math.floor(fraction)
        fraction -= i
    else:
        i = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
        sum_r = (1.0 - t_mul**i) / (1.0 - t_mul)
        fraction = (fraction - sum_r) / t_mul**i
    cosine = 0.5 * m_mul**i * (1.0 + math.cos(math.pi * fraction))
    return lr0 * ((1 - alpha) * cosine + alpha)


@pytest.mark.parametrize("power", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("cycle", [False, True])
def test_polynomial_decay_is_keras_formula(power, cycle):
    s = S.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=power, cycle=cycle)
    for step in range(0, 35):
        expected = keras_polynomial(step, 0.1, 10, 0.01, power, cycle)
        assert s(step) == pytest.approx(expected, rel=1e-14, abs=0), step


def test_polynomial_decay_table():
    s = S.PolynomialDecay(1.0, 4, end_learning_rate=0.0, power=2.0)
    assert [s(i) for i in range(6)] == pytest.approx(
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    )
    c = S.PolynomialDecay(1.0, 4, end_learning_rate=0.0, cycle=True)
    # step 5: decay_steps becomes 8, so 1 - 5/8; step 8: 0; step 9: 1 - 9/12
    assert [c(0), c(4), c(5), c(8), c(9)] == pytest.approx([1.0, 0.0, 0.375, 0.0, 0.25])
    assert S.PolynomialDecay(0.1, 10)(100) == pytest.approx(0.0001)  # Keras default


@pytest.mark.parametrize(
    "args",
    [(1.0, 10, 2.0, 1.0, 0.0), (0.5, 7, 1.0, 0.8, 0.1), (2.0, 5, 3.0, 0.5, 0.05)],
)
def test_cosine_decay_restarts_is_keras_formula(args):
    s = S.CosineDecayRestarts(*args)
    lr0, first, t_mul, m_mul, alpha = args
    boundaries = {0.0}
    length, start = first, 0.0
    for _ in range(6):
        start += length
        length *= t_mul
        boundaries.add(start)
    for step in range(0, 200):
        if float(step) in boundaries:
            continue  # compared below: Keras's logarithm may floor on either side
        expected = keras_restarts(step, *args)
        assert s(step) == pytest.approx(expected, rel=1e-12, abs=1e-15), step


def test_cosine_decay_restarts_table_and_boundaries():
    s = S.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5, alpha=0.0)
    # periods [0, 10), [10, 30), [30, 70): each restart starts at m_mul**i
    assert [s(0), s(10), s(30), s(70)] == pytest.approx([1.0, 0.5, 0.25, 0.125])
    assert s(5) == pytest.approx(0.5)  # half of the first period
    assert s(20) == pytest.approx(0.25)  # half of the second
    assert s(50) == pytest.approx(0.125)
    floor = S.CosineDecayRestarts(1.0, 10, t_mul=1.0, m_mul=1.0, alpha=0.2)
    assert floor(9.999999) == pytest.approx(0.2, abs=1e-9)
    assert floor(10) == floor(20) == floor(1_000_000) == pytest.approx(1.0)
    shrinking = S.CosineDecayRestarts(1.0, 10, t_mul=0.5)  # finite total: holds
    assert math.isfinite(shrinking(10_000))


def test_polynomial_matches_torch_polynomial_lr():
    torch = pytest.importorskip("torch")
    # torch's PolynomialLR is Keras's PolynomialDecay with end_learning_rate=0 and
    # cycle=False (torch has no end rate and no cycle)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=8, power=2.0)
    ours = S.PolynomialDecay(0.1, 8, end_learning_rate=0.0, power=2.0)
    for step in range(12):
        # torch multiplies factors step by step: equal up to rounding
        assert opt.param_groups[0]["lr"] == pytest.approx(ours(step), abs=1e-12)
        opt.step()
        sched.step()


def test_restarts_match_torch_cosine_annealing_warm_restarts():
    torch = pytest.importorskip("torch")
    # torch's CosineAnnealingWarmRestarts(T_0, T_mult, eta_min) is Keras's
    # CosineDecayRestarts with m_mul=1, an integer t_mul and alpha=eta_min/lr0
    # (torch has no m_mul; its T_mult must be an integer)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.2)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        opt, T_0=5, T_mult=2, eta_min=0.02
    )
    ours = S.CosineDecayRestarts(0.2, 5, t_mul=2.0, m_mul=1.0, alpha=0.1)
    for step in range(40):
        assert opt.param_groups[0]["lr"] == pytest.approx(ours(step), abs=1e-12)
        opt.step()
        sched.step()


def test_cosine_decay_warmup_is_keras_formula():
    s = S.CosineDecay(0.0, 20, alpha=0.1, warmup_target=0.5, warmup_steps=5)
    for step in range(40):
        if step < 5:  # Keras: linear from lr0 to warmup_target
            expected = 0.5 * step / 5
        else:  # then the cosine decay from warmup_target over decay_steps
            f = min(step - 5, 20) / 20
            expected = 0.5 * (0.9 * 0.5 * (1 + math.cos(math.pi * f)) + 0.1)
        assert s(step) == pytest.approx(expected, rel=1e-14, abs=1e-16), step


@pytest.mark.parametrize(
    "schedule",
    [
        S.PolynomialDecay(0.1, 10, 0.001, power=0.5, cycle=True),
        S.CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.9, alpha=0.01),
    ],
    ids=lambda s: type(s).__name__,
)
def test_round_trips(schedule):
    clone = S.deserialize(json.loads(json.dumps(S.serialize(schedule))))
    assert type(clone) is type(schedule)
    assert clone.get_config() == schedule.get_config()
    assert [clone(i) for i in range(0, 60, 7)] == [schedule(i) for i in range(0, 60, 7)]


def test_in_an_optimizer_saved_and_loaded():
    from numnet import optimizers

    opt = optimizers.SGD(S.CosineDecayRestarts(0.1, 4))
    clone = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
    assert isinstance(clone.schedule, S.CosineDecayRestarts)
    clone.iterations = opt.iterations = 6
    assert (
        clone.learning_rate
        == opt.learning_rate
        == pytest.approx(S.CosineDecayRestarts(0.1, 4)(6))
    )


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: S.PolynomialDecay(0.1, 0), "decay_steps=0"),
        (lambda: S.PolynomialDecay(0.1, 10, power=-1), "power=-1"),
        (lambda: S.CosineDecayRestarts(0.1, -5), "first_decay_steps=-5"),
        (lambda: S.CosineDecayRestarts(0.1, 5, t_mul=0), "t_mul=0"),
        (lambda: S.CosineDecayRestarts(0.1, 5, alpha="x"), "alpha='x'"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
