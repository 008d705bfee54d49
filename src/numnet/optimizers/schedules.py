"""Learning-rate schedules: ``lr = schedule(step)``, evaluated at every step.

``step`` is the optimizer's iteration count (batches, not epochs, as in Keras).
To decay per epoch, give ``decay_steps = steps_per_epoch`` and
``staircase=True``; e.g. the course notes' ``lr0 / (1 + decay_rate * epoch)`` is
``InverseTimeDecay(lr0, decay_steps=steps_per_epoch, decay_rate, staircase=True)``.

Example:
    >>> from numnet.optimizers import schedules
    >>> s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(s(0), 4), round(s(10), 4), round(s(20), 4)
    (0.1, 0.05, 0.025)
"""

from __future__ import annotations

import math

from numnet.optimizers._restart_schedules import CosineDecayRestarts, PolynomialDecay
from numnet.optimizers._schedule_base import (  # noqa: F401 (public here)
    LearningRateSchedule,
    _positive,
    _value,
)


class ExponentialDecay(LearningRateSchedule):
    """``lr0 * decay_rate ** (step / decay_steps)`` (integer division if staircase).

    Args:
        initial_learning_rate: lr0.
        decay_steps: steps per decay period.
        decay_rate: multiplier per period.
        staircase: decay in discrete jumps.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        owner = "ExponentialDecay"
        self.initial_learning_rate = _positive(
            owner, "initial_learning_rate", initial_learning_rate, True
        )
        self.decay_steps = _positive(owner, "decay_steps", decay_steps)
        self.decay_rate = _positive(owner, "decay_rate", decay_rate, True)
        self.staircase = bool(staircase)

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }


class InverseTimeDecay(ExponentialDecay):
    """``lr0 / (1 + decay_rate * step / decay_steps)`` (integer division if staircase).

    With ``decay_steps = steps_per_epoch`` and ``staircase=True`` this is the
    course notes' ``alpha = alpha0 / (1 + decay_rate * epoch_num)``.
    """

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]`` (Keras).

    Args:
        boundaries: increasing step numbers.
        values: one more value than boundaries.
    """

    def __init__(self, boundaries, values):
        boundaries, values = list(boundaries), list(values)
        if len(values) != len(boundaries) + 1 or boundaries != sorted(boundaries):
            raise ValueError(
                "PiecewiseConstantDecay: invalid arguments. Expected increasing "
                "'boundaries' and len(values) == len(boundaries) + 1. Received: "
                f"boundaries={boundaries}, values={values}"
            )
        self.boundaries = [int(b) for b in boundaries]
        self.values = [float(v) for v in values]

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values[:-1], strict=True):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {"boundaries": self.boundaries, "values": self.values}


class StepDecay(LearningRateSchedule):
    """Step decay: ``lr0 * factor ** floor(step / step_size)``.

    Args:
        initial_learning_rate: lr0.
        step_size: steps between two drops (e.g. ``10 * steps_per_epoch``).
        factor: multiplier at each drop (default 0.5).
    """

    def __init__(self, initial_learning_rate, step_size, factor=0.5):
        owner = "StepDecay"
        self.initial_learning_rate = _positive(
            owner, "initial_learning_rate", initial_learning_rate, True
        )
        self.step_size = _positive(owner, "step_size", step_size)
        self.factor = _positive(owner, "factor", factor, True)

    def __call__(self, step: int) -> float:
        return self.initial_learning_rate * self.factor ** math.floor(
            step / self.step_size
        )

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "step_size": self.step_size,
            "factor": self.factor,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay with optional linear warm-up (Keras 3's definition).

    Without warm-up: ``lr0 * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps))
    + alpha)`` with ``s = min(step, decay_steps)``. With ``warmup_target``: a
    linear ramp from lr0 to ``warmup_target`` over ``warmup_steps``, then the
    cosine decay from ``warmup_target`` over the next ``decay_steps``.

    Args:
        initial_learning_rate: lr0.
        decay_steps: length of the cosine part.
        alpha: final rate as a fraction of the starting one.
        warmup_target: rate reached at the end of the warm-up (None: no warm-up).
        warmup_steps: length of the warm-up.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        warmup_target=None,
        warmup_steps=0,
    ):
        owner = "CosineDecay"
        self.initial_learning_rate = _positive(
            owner, "initial_learning_rate", initial_learning_rate, True
        )
        self.decay_steps = _positive(owner, "decay_steps", decay_steps)
        self.alpha = _positive(owner, "alpha", alpha, True)
        self.warmup_target = (
            None
            if warmup_target is None
            else _positive(owner, "warmup_target", warmup_target, True)
        )
        self.warmup_steps = _positive(owner, "warmup_steps", warmup_steps, True)

    def _decay(self, step: float, start: float) -> float:
        fraction = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            return self._decay(step, self.initial_learning_rate)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return self.initial_learning_rate + delta * step / self.warmup_steps
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict:
        """Constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class Warmup(LearningRateSchedule):
    """Linear warm-up in front of any schedule or constant rate.

    For ``step < warmup_steps`` the rate rises linearly from
    ``initial_learning_rate`` to ``after(0)``; then it is ``after(step -
    warmup_steps)``, so the wrapped schedule starts when the warm-up ends.

    Args:
        after: a schedule or a float.
        warmup_steps: length of the ramp.
        initial_learning_rate: rate at step 0 (default 0).
    """

    def __init__(self, after, warmup_steps, initial_learning_rate=0.0):
        self.after = after
        self.warmup_steps = _positive("Warmup", "warmup_steps", warmup_steps)
        self.initial_learning_rate = _positive(
            "Warmup", "initial_learning_rate", initial_learning_rate, True
        )

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            target = _value(self.after, 0)
            delta = target - self.initial_learning_rate
            return self.initial_learning_rate + delta * step / self.warmup_steps
        return _value(self.after, step - self.warmup_steps)

    def get_config(self) -> dict:
        """Constructor arguments (a wrapped schedule is serialized)."""
        after = serialize(self.after) if callable(self.after) else self.after
        return {
            "after": after,
            "warmup_steps": self.warmup_steps,
            "initial_learning_rate": self.initial_learning_rate,
        }

    @classmethod
    def from_config(cls, config: dict) -> Warmup:
        """Create from :meth:`get_config` output."""
        config = dict(config)
        if isinstance(config["after"], dict):
            config["after"] = deserialize(config["after"])
        return cls(**config)


_SCHEDULES = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        InverseTimeDecay,
        PiecewiseConstantDecay,
        StepDecay,
        CosineDecay,
        CosineDecayRestarts,
        PolynomialDecay,
        Warmup,
    )
}


def serialize(schedule) -> dict:
    """``{"class_name": ..., "config": ...}`` for a built-in schedule.

    Raises:
        ValueError: for a custom callable, which cannot be saved as data.
    """
    name = type(schedule).__name__
    if _SCHEDULES.get(name) is not type(schedule):
        raise ValueError(
            f"schedules.serialize: only built-in schedules can be saved "
            f"({sorted(_SCHEDULES)}). Received: {schedule!r}"
        )
    return {"class_name": name, "config": schedule.get_config()}


def deserialize(config: dict) -> LearningRateSchedule:
    """Inverse of :func:`serialize`, through an allowlist of schedule classes.

    Raises:
        ValueError: for an unknown class name.
    """
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in _SCHEDULES:
        raise ValueError(
            f"schedules.deserialize: unknown schedule {name!r}. "
            f"Expected one of {sorted(_SCHEDULES)}"
        )
    return _SCHEDULES[name].from_config(config.get("config", {}))
