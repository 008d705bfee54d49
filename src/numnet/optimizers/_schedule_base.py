"""The schedule base class and the argument check the schedules share."""

from __future__ import annotations

import math


def _positive(owner: str, name: str, value, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if (
        not ok
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        expected = "a non-negative number" if allow_zero else "a positive number"
        raise ValueError(
            f"{owner}: invalid value for argument '{name}'. Expected {expected}. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def _value(lr, step: int) -> float:
    return float(lr(step)) if callable(lr) else float(lr)


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step) -> float`` and get_config."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        """The constructor arguments as JSON data."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        """Create the schedule from :meth:`get_config` output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"
