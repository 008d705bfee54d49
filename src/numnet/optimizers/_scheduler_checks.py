"""Argument checks of the PyTorch-style schedulers (Keras's error template).

Every message names the scheduler class, the argument, what was expected and
what was received.
"""

from __future__ import annotations

import math

import numpy as np

_INTS = (int, np.integer)
_REALS = (int, float, np.integer, np.floating)


def _fail(owner: str, name: str, expected: str, value):
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected {expected}. "
        f"Received: {name}={value!r}"
    )


def check_int(owner: str, name: str, value, minimum: int) -> int:
    """An integer (not a bool) >= ``minimum``."""
    if not isinstance(value, _INTS) or isinstance(value, (bool, np.bool_)):
        _fail(owner, name, f"an integer >= {minimum}", value)
    if value < minimum:
        _fail(owner, name, f"an integer >= {minimum}", value)
    return int(value)


def check_real(
    owner: str, name: str, value, low=None, high=None, low_open=False, high_open=False
) -> float:
    """A finite real number in the interval [low, high] (ends open when asked)."""
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    low_text = "-inf" if low is None else f"{low:g}"
    high_text = "inf" if high is None else f"{high:g}"
    expected = f"a finite number in {lo}{low_text}, {high_text}{hi}"
    ok = isinstance(value, _REALS) and not isinstance(value, (bool, np.bool_))
    if not ok or not math.isfinite(value):
        _fail(owner, name, expected, value)
    too_low = low is not None and (value < low or (low_open and value == low))
    too_high = high is not None and (value > high or (high_open and value == high))
    if too_low or too_high:
        _fail(owner, name, expected, value)
    return float(value)


def check_choice(owner: str, name: str, value, choices: tuple) -> str:
    """One of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        _fail(owner, name, f"one of {list(choices)}", value)
    return value


def check_bool(owner: str, name: str, value) -> bool:
    """True or False (not 1 or "yes")."""
    if not isinstance(value, (bool, np.bool_)):
        _fail(owner, name, "True or False", value)
    return bool(value)


def one_group(owner: str, name: str, value):
    """PyTorch takes a value or a list of one value per parameter group; a
    numnet optimizer has one group, so a list must hold exactly one value."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            _fail(owner, name, "one value (a numnet optimizer has one group)", value)
        return value[0]
    return value


def check_callable(owner: str, name: str, value):
    """A function ``epoch -> factor`` (or a list of one)."""
    value = one_group(owner, name, value)
    if not callable(value):
        _fail(owner, name, "a function epoch -> factor", value)
    return value


def check_optimizer(owner: str, optimizer):
    """A numnet optimizer whose learning rate is a number, not a schedule."""
    from numnet.optimizers.base import Optimizer

    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{owner}: invalid value for argument 'optimizer'. Expected a numnet "
            f"optimizer (numnet.optimizers.Optimizer). Received: "
            f"{type(optimizer).__module__}.{type(optimizer).__name__}"
        )
    if optimizer.schedule is not None:
        raise TypeError(
            f"{owner}: the optimizer's learning rate is the schedule "
            f"{type(optimizer.schedule).__name__}; a PyTorch-style scheduler sets "
            f"a number as the learning rate and cannot drive a Keras schedule. "
            f"Create the optimizer with a float learning_rate (and use only one "
            f"kind of schedule). Received: optimizer={optimizer!r}"
        )
    return optimizer


def check_lr_value(owner: str, lr, epoch, scale: float) -> float:
    """The learning rate a schedule computed: a finite number >= 0.

    A rate below 0 by rounding only (within ``1e-9 * scale``, the initial
    rate: PyTorch's LinearLR down to ``end_factor=0`` ends at -7e-18) is 0.
    """
    try:
        value = float(lr)
    except (TypeError, ValueError):
        value = None
    if value is not None and -1e-9 * scale <= value < 0:
        return 0.0
    if value is None or not math.isfinite(value) or value < 0:
        raise ValueError(
            f"{owner}: the schedule gave the learning rate {lr!r} at epoch {epoch}. "
            f"Expected a finite number >= 0"
        )
    return value


def check_scheduler_list(owner: str, optimizer, schedulers) -> list:
    """A non-empty list of schedulers of ``optimizer`` (no ReduceLROnPlateau)."""
    from numnet.optimizers._scheduler_base import LRScheduler

    if not isinstance(schedulers, (list, tuple)) or not schedulers:
        _fail(owner, "schedulers", "a non-empty list of schedulers", schedulers)
    for i, s in enumerate(schedulers):
        if not isinstance(s, LRScheduler) or type(s).__name__ == "ReduceLROnPlateau":
            _fail(
                owner,
                f"schedulers[{i}]",
                "a scheduler other than ReduceLROnPlateau (its step needs a metric)",
                s,
            )
        if s.optimizer is not optimizer:
            _fail(
                owner,
                f"schedulers[{i}]",
                "a scheduler of the same optimizer as the others",
                s,
            )
    return list(schedulers)
