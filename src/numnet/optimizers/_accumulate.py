"""Gradient accumulation: apply the mean gradient of every ``steps`` calls.

Keras 3's ``gradient_accumulation_steps``: each call adds its gradients into
one accumulator per weight (a slot like the weight); the ``steps``-th call
divides the sums by ``steps`` and makes one optimizer step with them, then
zeroes the accumulators. The mean is ``(g_1 + ... + g_n) / n`` summed in call
order, so n accumulated calls equal one call with that mean gradient bit for
bit. Only applied steps count in ``iterations``; the calls of the current
window are counted here and saved with the optimizer's state.
"""

from __future__ import annotations

import numpy as np

#: the name of the accumulator slot
SLOT = "gradient_accumulator"


def check_steps(owner: str, steps):
    """None, or an int >= 2 (Keras's rule: 1 would accumulate nothing)."""
    if steps is None:
        return None
    ok = isinstance(steps, (int, np.integer)) and not isinstance(steps, bool)
    if not ok or steps < 2:
        raise ValueError(
            f"{owner}: invalid value for argument 'gradient_accumulation_steps'. "
            f"Expected an int >= 2 or None. "
            f"Received: gradient_accumulation_steps={steps!r}"
        )
    return int(steps)


class GradientAccumulation:
    """The accumulation window of one optimizer.

    Attributes:
        steps: calls per applied step.
        calls: calls made in the current window (0 .. steps - 1).
    """

    def __init__(self, steps: int):
        self.steps = steps
        self.calls = 0
        self._touched: dict[int, object] = {}  # weights given a gradient this window

    def add(self, pairs, slots_of):
        """Add this call's ``(grad, param)`` gradients.

        Returns:
            None while the window is open; on its last call the ``(mean, param)``
            pairs of every weight that got a gradient in the window (the mean is
            the accumulator itself, divided in place; :meth:`reset` zeroes it).
        """
        for g, p in pairs:
            acc = slots_of(p)[SLOT]
            acc += g
            self._touched[id(p)] = p
        self.calls += 1
        if self.calls < self.steps:
            return None
        params = list(self._touched.values())
        self.calls, self._touched = 0, {}
        means = []
        for p in params:
            acc = slots_of(p)[SLOT]
            acc /= self.steps
            means.append((acc, p))
        return means

    @staticmethod
    def reset(means) -> None:
        """Zero the accumulators after the step that used them."""
        for acc, _ in means:
            acc[...] = 0

    def restore(self, calls: int, params, slots_of) -> None:
        """Resume a window after :meth:`Optimizer.set_state`: the weights with a
        non-zero accumulator are those given a gradient so far (one host check
        per weight, at load time only)."""
        self.calls = int(calls) % self.steps
        self._touched = {
            id(p): p
            for p in params
            if self.calls and bool((slots_of(p)[SLOT] != 0).any())
        }
