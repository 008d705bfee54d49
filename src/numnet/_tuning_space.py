"""The search space of :mod:`numnet.tuning`: distributions and their draws.

Scales such as the learning rate are sampled on a log scale
(:class:`LogUniform`); values that are not distributions stay fixed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from numnet import backend


class Distribution:
    """Base class of the search-space distributions: ``sample(rng)``."""

    def sample(self, rng: np.random.Generator):
        raise NotImplementedError


def _check_bounds(who: str, low, high, positive: bool = False) -> None:
    if not (high > low) or (positive and low <= 0):
        need = "0 < low < high" if positive else "low < high"
        raise ValueError(
            f"{who}: invalid bounds. Expected {need}. Received: low={low!r}, "
            f"high={high!r}"
        )


@dataclass(frozen=True)
class LogUniform(Distribution):
    """``10**r`` with ``r`` uniform in ``[log10 low, log10 high]``: for scales.

    Example:
        >>> import numpy as np
        >>> LogUniform(1e-4, 1.0).sample(np.random.default_rng(0)) < 1.0
        True
    """

    low: float
    high: float

    def __post_init__(self):
        _check_bounds("LogUniform", self.low, self.high, positive=True)

    def sample(self, rng):
        r = rng.uniform(math.log10(self.low), math.log10(self.high))
        return float(10.0**r)


@dataclass(frozen=True)
class Uniform(Distribution):
    """A float uniform in ``[low, high]`` (e.g. a dropout rate)."""

    low: float
    high: float

    def __post_init__(self):
        _check_bounds("Uniform", self.low, self.high)

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class IntUniform(Distribution):
    """An int uniform in ``[low, high]``, both ends included (e.g. hidden units)."""

    low: int
    high: int

    def __post_init__(self):
        _check_bounds("IntUniform", self.low, self.high + 1)

    def sample(self, rng):
        return int(rng.integers(self.low, self.high + 1))


@dataclass(frozen=True)
class Choice(Distribution):
    """One of ``values``, each equally likely (e.g. a batch size or optimizer)."""

    values: tuple

    def __init__(self, values: Sequence):
        if isinstance(values, (str, bytes)) or len(values) == 0:
            raise ValueError(
                "Choice: invalid value for argument 'values'. Expected a non-empty "
                f"sequence. Received: values={values!r}"
            )
        object.__setattr__(self, "values", tuple(values))

    def sample(self, rng):
        value = self.values[int(rng.integers(len(self.values)))]
        return value.item() if isinstance(value, np.generic) else value


def sample_configs(space: Mapping, n: int, seed=None) -> list[dict]:
    """Draw ``n`` configurations; values that are not distributions stay fixed.

    The draws depend only on ``space``, ``n`` and ``seed`` (not on training), so
    the same seed always proposes the same trials.
    """
    rng = backend.get_rng(seed)
    return [
        {
            k: v.sample(rng) if isinstance(v, Distribution) else v
            for k, v in space.items()
        }
        for _ in range(n)
    ]
