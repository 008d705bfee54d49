"""The argument checks the optimizers share (Keras's error template)."""

from __future__ import annotations

import inspect
import math

import numpy as np


def _check_nonneg(
    owner: str, name: str, value, allow_none: bool = True, positive: bool = False
):
    if value is None and allow_none:
        return None
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(
        value, bool
    )
    if not ok or not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ValueError(
            f"{owner}: invalid value for argument '{name}'. Expected a {kind} "
            f"number{' or None' if allow_none else ''}. Received: {name}={value!r}"
        )
    return float(value)


def _check_learning_rate(owner: str, value) -> float:
    """A finite number >= 0 (a schedule is set without this check)."""
    ok = isinstance(value, (int, float, np.floating, np.integer))
    if not ok or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise ValueError(
            f"{owner}: invalid value for argument 'learning_rate'. "
            f"Expected a non-negative float or a schedule. "
            f"Received: learning_rate={value!r}"
        )
    return float(value)


def _check_positive(owner: str, name: str, value, allow_none: bool = True):
    """A finite number > 0: epsilon = 0 divides by zero, a clip of 0 freezes."""
    return _check_nonneg(owner, name, value, allow_none, positive=True)


def check_flag(owner: str, name: str, value) -> bool:
    """True or False only (``nesterov="yes"`` is an error, not True)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(
        f"{owner}: invalid value for argument '{name}'. Expected True or False. "
        f"Received: {name}={value!r}"
    )


def check_unit_interval(owner: str, name: str, value) -> float:
    """Validate a decay rate such as beta_1 in [0, 1)."""
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    if not ok or not 0.0 <= value < 1.0:
        raise ValueError(
            f"{owner}: invalid value for argument '{name}'. Expected a number in "
            f"[0, 1). Received: {name}={value!r}"
        )
    return float(value)


def _split_params(cls, learning_rate):
    """``(params, learning_rate)``: torch.optim's ``Adam(model.parameters())``
    passes the parameters first; the rate is then the class default."""
    if isinstance(learning_rate, (int, float, np.number)) or callable(learning_rate):
        return None, learning_rate
    if isinstance(learning_rate, (str, bytes, dict)) or learning_rate is None:
        return None, learning_rate
    try:
        params = list(learning_rate)
    except TypeError:
        return None, learning_rate
    from numnet.autograd.tensor import Tensor

    bad = [type(p).__name__ for p in params if not isinstance(p, Tensor)]
    if bad or not params:
        raise ValueError(
            f"{cls.__name__}: the first argument is either the learning rate or "
            f"a non-empty list of parameters (model.parameters()). Received a "
            f"{type(learning_rate).__name__} of {bad or 'nothing'}"
        )
    default = inspect.signature(cls.__init__).parameters.get("learning_rate")
    rate = 0.001 if default is None or default.default is default.empty else default
    return params, getattr(rate, "default", rate)
