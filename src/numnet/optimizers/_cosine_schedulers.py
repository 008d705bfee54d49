"""The annealing schedulers: CosineAnnealingLR, CosineAnnealingWarmRestarts
and OneCycleLR (PyTorch's updates, in PyTorch's floating-point order)."""

from __future__ import annotations

import math

from numnet.optimizers._scheduler_base import LRScheduler, set_initial_lr
from numnet.optimizers._scheduler_checks import (
    check_bool,
    check_choice,
    check_int,
    check_optimizer,
    check_real,
    one_group,
)


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from ``lr0`` down to ``eta_min`` over ``T_max`` epochs:
    ``lr = eta_min + (lr0 - eta_min) * (1 + cos(pi * t / T_max)) / 2``.

    Past ``T_max`` the rate climbs back up (a cosine of period ``2 T_max``),
    as in PyTorch.

    Args:
        optimizer: a numnet optimizer.
        T_max: an integer >= 1: the epochs of the half period.
        eta_min: the lowest rate, >= 0.
        last_epoch: -1 to start.
    """

    _hyper = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        owner = type(self).__name__
        self.T_max = check_int(owner, "T_max", T_max, 1)
        self.eta_min = check_real(owner, "eta_min", eta_min, low=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """See the class docstring (PyTorch's recursive form of it)."""
        t, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return [self._current_lr()]
        if self._step_count == 1 and t > 0:  # resumed with last_epoch > 0
            return self._closed_form_lr()
        if (t - 1 - t_max) % (2 * t_max) == 0:  # the bottom of the cosine
            return [
                self._current_lr()
                + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                for base in self.base_lrs
            ]
        ratio = (1 + math.cos(math.pi * t / t_max)) / (
            1 + math.cos(math.pi * (t - 1) / t_max)
        )
        return [ratio * (self._current_lr() - eta_min) + eta_min]

    def _closed_form_lr(self) -> list[float]:
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (b - self.eta_min) * cosine / 2 for b in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (SGDR): periods of ``T_0``,
    ``T_0 * T_mult``, ... epochs, each from ``lr0`` down towards ``eta_min``.

    ``step(epoch)`` takes a fractional epoch (``epoch + batch / batches``) for
    per-batch annealing, as in PyTorch.

    Args:
        optimizer: a numnet optimizer.
        T_0: an integer >= 1: the epochs of the first period.
        T_mult: an integer >= 1: the growth of each period.
        eta_min: the lowest rate, >= 0.
        last_epoch: -1 to start.
    """

    _hyper = ("T_0", "T_i", "T_mult", "eta_min", "T_cur")

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        owner = type(self).__name__
        self.T_0 = self.T_i = check_int(owner, "T_0", T_0, 1)
        self.T_mult = check_int(owner, "T_mult", T_mult, 1)
        self.eta_min = check_real(owner, "eta_min", eta_min, low=0)
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """``eta_min + (lr0 - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``."""
        cosine = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (b - self.eta_min) * cosine / 2 for b in self.base_lrs]

    def step(self, epoch=None) -> None:
        """Advance one epoch, or go to ``epoch`` (a number >= 0, fractional
        for per-batch annealing)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            epoch = check_real(type(self).__name__, "epoch", epoch, low=0)
            self._go_to(epoch)
        self.last_epoch = math.floor(epoch)
        self._write_lr(self.get_lr()[0])

    def _go_to(self, epoch: float) -> None:
        """Set ``T_cur`` and ``T_i`` for a given epoch (PyTorch's arithmetic)."""
        if epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**n


def _anneal(kind: str, start: float, end: float, pct: float) -> float:
    if kind == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def _phases(total: int, pct_start: float, three_phase: bool) -> list[dict]:
    """PyTorch's phases: the step each ends at and the values it goes between."""

    def phase(end_step, start_lr, end_lr, start_m, end_m):
        return {
            "end_step": float(end_step),
            "start_lr": start_lr,
            "end_lr": end_lr,
            "start_momentum": start_m,
            "end_momentum": end_m,
        }

    up = phase(
        pct_start * total - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"
    )
    if not three_phase:
        return [
            up,
            phase(total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ]
    return [
        up,
        phase(
            2 * pct_start * total - 2,
            "max_lr",
            "initial_lr",
            "base_momentum",
            "max_momentum",
        ),
        phase(total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
    ]


class OneCycleLR(LRScheduler):
    """The 1cycle policy: from ``max_lr / div_factor`` up to ``max_lr`` in the
    first ``pct_start`` of the steps, then down to ``initial / final_div_factor``
    (``three_phase``: up, back down to the initial rate, then down to the
    minimum). Step it once per batch.

    Args:
        optimizer: a numnet optimizer.
        max_lr: the peak rate, > 0 (or a list of one).
        total_steps: an integer >= 1; or give ``epochs`` and ``steps_per_epoch``.
        epochs: an integer >= 1.
        steps_per_epoch: an integer >= 1.
        pct_start: the fraction of the steps spent rising, in [0, 1].
        anneal_strategy: "cos" or "linear".
        cycle_momentum: cycle the momentum inversely to the rate between
            ``max_momentum`` and ``base_momentum``: the optimizer's ``beta_1``
            (Adam, AdamW, Adamax, Nadam, Lion) or ``momentum`` (SGD and RMSprop
            created with momentum > 0). PyTorch switches momentum on in an SGD
            without it; numnet raises then (pass ``cycle_momentum=False``).
        base_momentum: the low momentum, in [0, 1).
        max_momentum: the high momentum, in [0, 1).
        div_factor: ``initial rate = max_lr / div_factor``, > 0.
        final_div_factor: ``minimum rate = initial rate / final_div_factor``, > 0.
        three_phase: see above.
        last_epoch: -1 to start.

    The rate set by the last step (``total_steps``) is the minimum; PyTorch
    extrapolates the last phase there (a rate no step trains with, below 0 with
    ``anneal_strategy="linear"``).

    Raises:
        ValueError: at a step past ``total_steps``.
    """

    _hyper = ("total_steps", "_schedule_phases", "_anneal_func_type", "_group")

    def __init__(
        self,
        optimizer,
        max_lr,
        total_steps=None,
        epochs=None,
        steps_per_epoch=None,
        pct_start=0.3,
        anneal_strategy="cos",
        cycle_momentum=True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
        last_epoch=-1,
    ):
        owner = type(self).__name__
        check_optimizer(owner, optimizer)
        self.total_steps = _total_steps(owner, total_steps, epochs, steps_per_epoch)
        pct_start = check_real(owner, "pct_start", pct_start, 0, 1)
        three_phase = check_bool(owner, "three_phase", three_phase)
        self._schedule_phases = _phases(self.total_steps, pct_start, three_phase)
        self._anneal_func_type = check_choice(
            owner, "anneal_strategy", anneal_strategy, ("cos", "linear")
        )
        peak = one_group(owner, "max_lr", max_lr)
        peak = check_real(owner, "max_lr", peak, 0, low_open=True)
        initial = peak / check_real(owner, "div_factor", div_factor, 0, low_open=True)
        final = check_real(
            owner, "final_div_factor", final_div_factor, 0, low_open=True
        )
        self._group = {"initial_lr": initial, "max_lr": peak, "min_lr": initial / final}
        self.cycle_momentum = check_bool(owner, "cycle_momentum", cycle_momentum)
        self._momentum_name = None
        if self.cycle_momentum:
            self._momentum_name = _momentum_name(owner, optimizer)
            for name, value in (
                ("base_momentum", base_momentum),
                ("max_momentum", max_momentum),
            ):
                value = one_group(owner, name, value)
                self._group[name] = check_real(owner, name, value, 0, 1, high_open=True)
        if last_epoch == -1:
            set_initial_lr(optimizer, initial)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The rate (and momentum) of step :attr:`last_epoch`."""
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times; the schedule has "
                f"total_steps={self.total_steps}"
            )
        start = 0.0
        for i, phase in enumerate(self._schedule_phases):
            end = phase["end_step"]
            if step <= end or i == len(self._schedule_phases) - 1:
                # a phase of no length (PyTorch divides by zero) is at its end;
                # the rate set by the last step stays at the minimum (PyTorch
                # extrapolates past it, below 0 with "linear")
                pct = min((step - start) / (end - start), 1.0) if end != start else 1.0
                break
            start = end
        if self._momentum_name is not None:
            momentum = self._value(phase, "momentum", pct)
            setattr(self.optimizer, self._momentum_name, momentum)
        return [self._value(phase, "lr", pct)]

    def _value(self, phase: dict, what: str, pct: float) -> float:
        start = self._group[phase[f"start_{what}"]]
        end = self._group[phase[f"end_{what}"]]
        return _anneal(self._anneal_func_type, start, end, pct)


def _total_steps(owner: str, total_steps, epochs, steps_per_epoch) -> int:
    if total_steps is not None:
        return check_int(owner, "total_steps", total_steps, 1)
    if epochs is None or steps_per_epoch is None:
        raise ValueError(
            f"{owner}: give total_steps, or epochs and steps_per_epoch. Received: "
            f"total_steps=None, epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}"
        )
    epochs = check_int(owner, "epochs", epochs, 1)
    return epochs * check_int(owner, "steps_per_epoch", steps_per_epoch, 1)


def _momentum_name(owner: str, optimizer) -> str:
    """The optimizer attribute OneCycleLR cycles: beta_1, or a momentum > 0."""
    if isinstance(getattr(optimizer, "beta_1", None), float):
        return "beta_1"
    if getattr(optimizer, "momentum", 0) > 0:
        return "momentum"
    raise ValueError(
        f"{owner}: cycle_momentum=True needs an optimizer with a momentum to cycle: "
        f"beta_1 (Adam, AdamW, Adamax, Nadam, Lion) or momentum > 0 (SGD, RMSprop "
        f"created with momentum=0.9, say). Pass cycle_momentum=False, or create "
        f"the optimizer with a momentum. Received: {type(optimizer).__name__} "
        f"with momentum={getattr(optimizer, 'momentum', None)!r}"
    )
