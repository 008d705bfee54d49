"""PolynomialDecay and CosineDecayRestarts (Keras 3's definitions)."""

from __future__ import annotations

import math

from numnet.optimizers._schedule_base import LearningRateSchedule, _positive


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate``.

    With ``s = min(step, decay_steps)``::

        lr = (lr0 - end) * (1 - s / decay_steps) ** power + end

    With ``cycle=True`` the decay restarts instead of holding ``end``:
    ``decay_steps`` is replaced by its first multiple >= ``step`` (the multiple
    is 1 at step 0), as Keras 3 does.

    Args:
        initial_learning_rate: lr0.
        decay_steps: steps to reach ``end_learning_rate``.
        end_learning_rate: the final rate (default 0.0001).
        power: the polynomial's power (1.0: linear).
        cycle: restart after ``decay_steps`` instead of holding the final rate.

    Example:
        >>> from numnet.optimizers import schedules
        >>> s = schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)
        >>> round(s(0), 4), round(s(5), 4), round(s(10), 4), round(s(20), 4)
        (0.1, 0.05, 0.0, 0.0)
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
    ):
        owner = "PolynomialDecay"
        self.initial_learning_rate = _positive(
            owner, "initial_learning_rate", initial_learning_rate, True
        )
        self.decay_steps = _positive(owner, "decay_steps", decay_steps)
        self.end_learning_rate = _positive(
            owner, "end_learning_rate", end_learning_rate, True
        )
        self.power = _positive(owner, "power", power, True)
        self.cycle = bool(cycle)

    def __call__(self, step: int) -> float:
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        fraction = 1.0 - step / decay_steps
        spread = self.initial_learning_rate - self.end_learning_rate
        return spread * fraction**self.power + self.end_learning_rate

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter).

    Period ``i`` (from 0) lasts ``first_decay_steps * t_mul**i`` steps and
    starts from ``lr0 * m_mul**i``; at the fraction ``f`` of it (Keras 3)::

        lr = lr0 * ((1 - alpha) * m_mul**i * 0.5 * (1 + cos(pi * f)) + alpha)

    (the floor ``alpha * lr0`` is not scaled by ``m_mul``). The period index is
    found by counting whole periods, not through a logarithm, so a step on a
    restart boundary always starts the new period.

    Args:
        initial_learning_rate: lr0.
        first_decay_steps: the length of the first period.
        t_mul: each period is ``t_mul`` times longer than the one before.
        m_mul: each period starts at ``m_mul`` times the previous start.
        alpha: the floor, as a fraction of lr0.

    Example:
        >>> from numnet.optimizers import schedules
        >>> s = schedules.CosineDecayRestarts(1.0, first_decay_steps=10)
        >>> round(s(0), 4), round(s(5), 4), round(s(10), 4), round(s(20), 4)
        (1.0, 0.5, 1.0, 0.5)
    """

    def __init__(
        self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0
    ):
        owner = "CosineDecayRestarts"
        self.initial_learning_rate = _positive(
            owner, "initial_learning_rate", initial_learning_rate, True
        )
        self.first_decay_steps = _positive(
            owner, "first_decay_steps", first_decay_steps
        )
        self.t_mul = _positive(owner, "t_mul", t_mul)
        self.m_mul = _positive(owner, "m_mul", m_mul, True)
        self.alpha = _positive(owner, "alpha", alpha, True)

    def _period(self, step: float) -> tuple[int, float]:
        """(index of the period holding ``step``, fraction of it completed)."""
        start, length, i = 0.0, self.first_decay_steps, 0
        if self.t_mul == 1.0:  # equal periods: no loop over a long run
            i = math.floor(step / length)
            return i, step / length - i
        # period lengths grow geometrically (t_mul >= 1), so few iterations;
        # t_mul < 1 shrinks them: a finite total, after which the last period holds
        while step >= start + length and length > 1e-12 * self.first_decay_steps:
            start, length, i = start + length, length * self.t_mul, i + 1
        return i, min((step - start) / length, 1.0)

    def __call__(self, step: int) -> float:
        i, fraction = self._period(step)
        cosine = 0.5 * self.m_mul**i * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
        }
