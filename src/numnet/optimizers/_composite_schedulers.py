"""Schedulers of schedulers (SequentialLR, ChainedScheduler) and
ReduceLROnPlateau, which steps on a metric."""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right

from numnet.optimizers._scheduler_base import (
    _EPOCH_WARNING,
    LRScheduler,
    initial_lr,
)
from numnet.optimizers._scheduler_checks import (
    check_choice,
    check_int,
    check_optimizer,
    check_real,
    check_scheduler_list,
    one_group,
)


class _Composite(LRScheduler):
    """Saves and restores its schedulers' states under ``"_schedulers"``."""

    def state_dict(self) -> dict:
        """Its own counters and ``"_schedulers"``: each scheduler's state."""
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore :meth:`state_dict` output (see
        :meth:`LRScheduler.load_state_dict`)."""
        self._load_keys(state_dict, ("_schedulers",))
        children = state_dict["_schedulers"]
        if len(children) != len(self._schedulers):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state holds "
                f"{len(children)} schedulers; this one has {len(self._schedulers)}"
            )
        for scheduler, child in zip(self._schedulers, children, strict=True):
            scheduler.load_state_dict(child)
        super().load_state_dict(state_dict)

    def _load_value(self, key: str, value) -> None:
        if key != "_schedulers":  # loaded by each scheduler
            super()._load_value(key, value)


class SequentialLR(_Composite):
    """Hand the learning rate over from one scheduler to the next at each
    milestone (each starts afresh there: its epoch 0).

    Args:
        optimizer: the numnet optimizer of every scheduler.
        schedulers: the schedulers, in order (not ReduceLROnPlateau; a
            ChainedScheduler or SequentialLR only first).
        milestones: ``len(schedulers) - 1`` increasing epochs (integers >= 0).
        last_epoch: -1 to start.

    Example:
        >>> from numnet import optimizers
        >>> from numnet.optimizers import lr_scheduler
        >>> opt = optimizers.SGD(learning_rate=1.0)
        >>> warmup = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=4)
        >>> decay = lr_scheduler.ExponentialLR(opt, gamma=0.9)
        >>> sched = lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[4])
        >>> sched.get_last_lr()
        [0.1]
    """

    _hyper = ("_milestones",)
    _COMMON = ("last_epoch", "_last_lr")

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        owner = type(self).__name__
        self.optimizer = check_optimizer(owner, optimizer)
        self._schedulers = check_scheduler_list(owner, optimizer, schedulers)
        self._milestones = _check_milestones(owner, milestones, len(self._schedulers))
        for i, s in enumerate(self._schedulers[1:], 1):
            if isinstance(s, _Composite):  # PyTorch: NotImplementedError later
                raise ValueError(
                    f"{owner}: invalid value for argument 'schedulers[{i}]'. "
                    f"Expected a scheduler that can restart at a milestone (a "
                    f"{type(s).__name__} can only come first). Received: {s!r}"
                )
        self.last_epoch = check_int(owner, "last_epoch", last_epoch, -1) + 1
        self.base_lrs = [initial_lr(owner, optimizer, -1)]
        optimizer.learning_rate = self.base_lrs[0]
        self._undo_initial_steps(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo_initial_steps(self, scheduler) -> None:
        """Take back the construction step of every scheduler inside (PyTorch's
        ``recursive_undo``): the first one redoes it from the initial rate."""
        for s in getattr(scheduler, "_schedulers", ()):
            if hasattr(s, "_schedulers"):
                self._undo_initial_steps(s)
            else:
                s.last_epoch -= 1

    def step(self) -> None:
        """Advance one epoch in the scheduler whose turn it is."""
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


def _check_milestones(owner: str, milestones, count: int) -> list[int]:
    if not isinstance(milestones, (list, tuple)) or len(milestones) != count - 1:
        raise ValueError(
            f"{owner}: invalid value for argument 'milestones'. Expected a list of "
            f"{count - 1} epochs (one fewer than the {count} schedulers). "
            f"Received: milestones={milestones!r}"
        )
    values = [check_int(owner, "milestones", m, 0) for m in milestones]
    if values != sorted(values):
        raise ValueError(
            f"{owner}: invalid value for argument 'milestones'. Expected increasing "
            f"epochs. Received: milestones={milestones!r}"
        )
    return values


class ChainedScheduler(_Composite):
    """Step several schedulers together; their factors multiply (each one's
    chainable update starts from the rate the previous one set).

    Args:
        schedulers: the schedulers (not ReduceLROnPlateau), all of one optimizer.
        optimizer: that optimizer (default: the first scheduler's).
    """

    _COMMON = ("_last_lr",)

    def __init__(self, schedulers, optimizer=None):
        owner = type(self).__name__
        if optimizer is None and isinstance(schedulers, (list, tuple)) and schedulers:
            optimizer = getattr(schedulers[0], "optimizer", None)
        self.optimizer = check_optimizer(owner, optimizer)
        self._schedulers = check_scheduler_list(owner, optimizer, schedulers)
        self._last_lr = [self._current_lr()]

    def step(self) -> None:
        """Step every scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [self._current_lr()]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` when a metric has not improved
    for more than ``patience`` steps: ``step(metrics)`` once per epoch.

    An improvement is ``metric < best * (1 - threshold)`` (mode "min",
    threshold_mode "rel"), ``metric < best - threshold`` ("min", "abs"),
    ``metric > best * (1 + threshold)`` ("max", "rel") or
    ``metric > best + threshold`` ("max", "abs"). After a reduction, ``cooldown``
    steps pass before bad epochs count again. A reduction smaller than ``eps``
    is skipped.

    Args:
        optimizer: a numnet optimizer.
        mode: "min" or "max".
        factor: in [0, 1).
        patience: an integer >= 0.
        threshold: a number >= 0.
        threshold_mode: "rel" or "abs".
        cooldown: an integer >= 0.
        min_lr: the lowest rate, >= 0 (or a list of one).
        eps: a number >= 0.

    Example:
        >>> from numnet import optimizers
        >>> from numnet.optimizers import lr_scheduler
        >>> opt = optimizers.SGD(learning_rate=1.0)
        >>> plateau = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
        >>> for val_loss in [1.0, 0.9, 0.9, 0.9]:   # 2 bad epochs > patience
        ...     plateau.step(val_loss)
        >>> opt.learning_rate
        0.5
    """

    _hyper = (
        "factor", "default_min_lr", "min_lrs", "patience", "cooldown", "eps",
        "mode", "threshold", "threshold_mode", "mode_worse", "best",
        "cooldown_counter", "num_bad_epochs",
    )  # fmt: skip
    _COMMON = ("last_epoch", "_last_lr")

    def __init__(
        self,
        optimizer,
        mode="min",
        factor=0.1,
        patience=10,
        threshold=1e-4,
        threshold_mode="rel",
        cooldown=0,
        min_lr=0,
        eps=1e-8,
    ):
        owner = type(self).__name__
        self.optimizer = check_optimizer(owner, optimizer)
        self.mode = check_choice(owner, "mode", mode, ("min", "max"))
        self.factor = check_real(owner, "factor", factor, 0, 1, high_open=True)
        self.patience = check_int(owner, "patience", patience, 0)
        self.threshold = check_real(owner, "threshold", threshold, low=0)
        self.threshold_mode = check_choice(
            owner, "threshold_mode", threshold_mode, ("rel", "abs")
        )
        self.cooldown = check_int(owner, "cooldown", cooldown, 0)
        min_lr = check_real(owner, "min_lr", one_group(owner, "min_lr", min_lr), 0)
        self.default_min_lr, self.min_lrs = min_lr, [min_lr]
        self.eps = check_real(owner, "eps", eps, low=0)
        self.mode_worse = math.inf if self.mode == "min" else -math.inf
        self.last_epoch = 0
        self._last_lr = [self._current_lr()]
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        """True while bad epochs do not count."""
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        """Whether the metric ``a`` improves on ``best`` (see the class)."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics, epoch=None) -> None:
        """Record one epoch's ``metrics`` (a number) and reduce on a plateau."""
        current = _metric(type(self).__name__, metrics)
        if epoch is not None:
            warnings.warn(_EPOCH_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [self._current_lr()]

    def _reduce_lr(self) -> None:
        old = self._current_lr()
        new = max(old * self.factor, self.min_lrs[0])
        if old - new > self.eps:
            self._write_lr(new)


def _metric(owner: str, metrics) -> float:
    try:
        return float(metrics)
    except (TypeError, ValueError):
        raise TypeError(
            f"{owner}.step: invalid value for argument 'metrics'. Expected a "
            f"number (the monitored metric). Received: {metrics!r}"
        ) from None
