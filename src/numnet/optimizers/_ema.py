"""An exponential moving average of the weights, kept as optimizer state.

Keras 3's ``use_ema``: after every applied step each weight's average moves
towards it::

    average <- m * average + (1 - m) * w     m = ema_momentum, 0 on the first step

so the first step copies the weights (there is no zero-initialisation bias to
correct). With ``ema_overwrite_frequency = k`` the averages are written into
the weights after every k-th step; ``finalize_variable_values`` writes them at
the end of ``fit``. All of it is in-place array arithmetic on the weights'
device: no host synchronisation per step.
"""

from __future__ import annotations

import math

import numpy as np

#: the name of the average slot
SLOT = "average"


def check_options(owner: str, use_ema, momentum, overwrite_frequency):
    """Validate the three EMA arguments (Keras's ranges)."""
    if not isinstance(use_ema, (bool, np.bool_)):
        raise ValueError(
            f"{owner}: invalid value for argument 'use_ema'. Expected True or "
            f"False. Received: use_ema={use_ema!r}"
        )
    ok = isinstance(momentum, (int, float, np.floating)) and not isinstance(
        momentum, bool
    )
    if not ok or not math.isfinite(momentum) or not 0.0 <= momentum <= 1.0:
        raise ValueError(
            f"{owner}: invalid value for argument 'ema_momentum'. Expected a number "
            f"in [0, 1]. Received: ema_momentum={momentum!r}"
        )
    freq = overwrite_frequency
    if freq is not None and (
        not isinstance(freq, (int, np.integer)) or isinstance(freq, bool) or freq < 1
    ):
        raise ValueError(
            f"{owner}: invalid value for argument 'ema_overwrite_frequency'. "
            f"Expected an int >= 1 or None. Received: ema_overwrite_frequency={freq!r}"
        )
    return bool(use_ema), float(momentum), None if freq is None else int(freq)


class WeightAverage:
    """The moving average of the weights of one optimizer."""

    def __init__(self, momentum: float, overwrite_frequency):
        self.momentum = momentum
        self.overwrite_frequency = overwrite_frequency

    def update(self, params, slots_of, step: int) -> None:
        """Move every average after the applied step ``step`` (0-based)."""
        m = 0.0 if step == 0 else self.momentum
        for p in params:
            average, w = slots_of(p)[SLOT], p.data
            if m == 0.0:
                average[...] = w
                continue
            average *= m
            average += w * (1.0 - m)  # m a + (1 - m) w, rounded as written
        freq = self.overwrite_frequency
        if freq and (step + 1) % freq == 0:
            copy_into_weights(params, slots_of)


def copy_into_weights(params, slots_of) -> None:
    """``w <- average`` for every weight of ``params``."""
    for p in params:
        p.data[...] = slots_of(p)[SLOT]
