"""Learning-rate schedules against their formulas at chosen steps."""

from __future__ import annotations

import json
import math

import pytest

from numnet.optimizers import schedules as S


def test_exponential_decay():
    s = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert [s(0), s(5), s(10)] == pytest.approx([0.1, 0.1 * 0.5**0.5, 0.05])
    stairs = S.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert [stairs(9), stairs(10), stairs(25)] == pytest.approx([0.1, 0.05, 0.025])


def test_inverse_time_decay_is_the_course_formula():
    # alpha = alpha0 / (1 + decay_rate * epoch) with 100 steps per epoch
    s = S.InverseTimeDecay(0.2, decay_steps=100, decay_rate=1.0, staircase=True)
    assert [s(0), s(99), s(100), s(250)] == pytest.approx([0.2, 0.2, 0.1, 0.2 / 3])
    smooth = S.InverseTimeDecay(0.2, decay_steps=100, decay_rate=1.0)
    assert smooth(50) == pytest.approx(0.2 / 1.5)


def test_step_and_piecewise():
    s = S.StepDecay(1.0, step_size=3, factor=0.1)
    assert [s(0), s(2), s(3), s(7)] == pytest.approx([1.0, 1.0, 0.1, 0.01])
    p = S.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [p(0), p(10), p(11), p(20), p(21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    with pytest.raises(ValueError, match="len\\(values\\) == len"):
        S.PiecewiseConstantDecay([1, 2], [1.0])


def test_cosine_decay_and_its_warmup():
    s = S.CosineDecay(1.0, decay_steps=100, alpha=0.1)
    assert s(0) == pytest.approx(1.0)
    assert s(50) == pytest.approx(0.9 * 0.5 + 0.1)
    assert s(100) == s(500) == pytest.approx(0.1)
    w = S.CosineDecay(0.0, decay_steps=100, warmup_target=1.0, warmup_steps=10)
    assert [w(0), w(5), w(10)] == pytest.approx([0.0, 0.5, 1.0])
    assert w(60) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))


def test_warmup_wrapper():
    s = S.Warmup(S.ExponentialDecay(1.0, 10, 0.5), warmup_steps=4)
    assert [s(0), s(2), s(4), s(14)] == pytest.approx([0.0, 0.5, 1.0, 0.5])
    assert S.Warmup(0.3, 3, 0.1)(10) == pytest.approx(0.3)


@pytest.mark.parametrize(
    "schedule",
    [
        S.ExponentialDecay(0.1, 10, 0.9, staircase=True),
        S.InverseTimeDecay(0.1, 10, 0.5),
        S.PiecewiseConstantDecay([5], [0.1, 0.01]),
        S.StepDecay(0.1, 5),
        S.CosineDecay(0.1, 50, warmup_target=0.2, warmup_steps=5),
        S.Warmup(S.CosineDecay(0.1, 50), 5),
    ],
    ids=lambda s: type(s).__name__,
)
def test_serialize_round_trip(schedule):
    clone = S.deserialize(json.loads(json.dumps(S.serialize(schedule))))
    assert type(clone) is type(schedule)
    assert [clone(i) for i in (0, 3, 7, 60)] == [schedule(i) for i in (0, 3, 7, 60)]


def test_custom_callables_cannot_be_serialized():
    with pytest.raises(ValueError, match="only built-in schedules"):
        S.serialize(lambda step: 0.1)
    with pytest.raises(ValueError, match="unknown schedule 'Evil'"):
        S.deserialize({"class_name": "Evil"})


def test_bad_arguments():
    with pytest.raises(ValueError, match="decay_steps=0"):
        S.ExponentialDecay(0.1, 0, 0.5)
