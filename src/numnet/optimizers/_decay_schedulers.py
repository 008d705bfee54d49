"""The multiplicative schedulers: LambdaLR, MultiplicativeLR, StepLR,
MultiStepLR, ConstantLR, LinearLR, ExponentialLR and PolynomialLR.

Each ``get_lr`` is PyTorch's chainable update (from the optimizer's current
rate) and each ``_closed_form_lr`` PyTorch's closed form (``step(epoch)``).
``lr0`` is ``base_lrs[0]`` and ``t`` is ``last_epoch`` in the docstrings.
"""

from __future__ import annotations

from bisect import bisect_right

from numnet.optimizers._scheduler_base import LRScheduler
from numnet.optimizers._scheduler_checks import (
    check_callable,
    check_int,
    check_real,
)


class LambdaLR(LRScheduler):
    """``lr = lr0 * lr_lambda(t)``.

    Args:
        optimizer: a numnet optimizer.
        lr_lambda: a function ``epoch -> factor`` (or a list of one).
        last_epoch: -1 to start.

    ``state_dict()`` does not hold the function (PyTorch saves a callable
    object's attributes; numnet saves only plain numbers).

    Example:
        >>> from numnet import optimizers
        >>> from numnet.optimizers import lr_scheduler
        >>> opt = optimizers.SGD(learning_rate=1.0)
        >>> sched = lr_scheduler.LambdaLR(opt, lambda epoch: 0.5 ** epoch)
        >>> sched.get_last_lr()                 # epoch 0: 1.0 * 0.5 ** 0
        [1.0]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambda = check_callable(type(self).__name__, "lr_lambda", lr_lambda)
        super().__init__(optimizer, last_epoch)

    @property
    def lr_lambdas(self) -> list:
        """PyTorch's per-group list: ``[lr_lambda]``."""
        return [self.lr_lambda]

    def get_lr(self) -> list[float]:
        """See the class docstring."""
        return [base * self.lr_lambda(self.last_epoch) for base in self.base_lrs]


class MultiplicativeLR(LambdaLR):
    """``lr <- lr * lr_lambda(t)`` at every step after the first.

    Args:
        optimizer: a numnet optimizer.
        lr_lambda: a function ``epoch -> factor`` (or a list of one).
        last_epoch: -1 to start.
    """

    def get_lr(self) -> list[float]:
        """See the class docstring."""
        if self._is_initial:
            return [self._current_lr()]
        return [self._current_lr() * self.lr_lambda(self.last_epoch)]


class StepLR(LRScheduler):
    """``lr = lr0 * gamma ** (t // step_size)``.

    Args:
        optimizer: a numnet optimizer.
        step_size: an integer >= 1: the epochs between two decays.
        gamma: the factor of each decay, > 0.
        last_epoch: -1 to start.

    Example:
        >>> from numnet import optimizers
        >>> from numnet.optimizers import lr_scheduler
        >>> import numpy as np, numnet
        >>> w = numnet.Parameter(np.zeros(2, np.float32))
        >>> opt = optimizers.SGD([w])
        >>> opt.learning_rate = 1.0
        >>> sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        >>> rates = []
        >>> for epoch in range(5):
        ...     w.grad = np.ones(2, np.float32)
        ...     rates.append(opt.learning_rate)
        ...     opt.step()
        ...     sched.step()
        >>> rates
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    _hyper = ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        owner = type(self).__name__
        self.step_size = check_int(owner, "step_size", step_size, 1)
        self.gamma = check_real(owner, "gamma", gamma, low=0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """See the class docstring."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [self._current_lr()]
        return [self._current_lr() * self.gamma]

    def _closed_form_lr(self) -> list[float]:
        return [
            base * self.gamma ** (self.last_epoch // self.step_size)
            for base in self.base_lrs
        ]


class MultiStepLR(LRScheduler):
    """``lr = lr0 * gamma ** (number of milestones <= t)``.

    Args:
        optimizer: a numnet optimizer.
        milestones: epochs (integers >= 0; a repeated one decays as often).
        gamma: the factor of each decay, > 0.
        last_epoch: -1 to start.
    """

    _hyper = ("milestones", "gamma")

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        owner = type(self).__name__
        try:
            items = list(milestones)
        except TypeError:
            items = [milestones]
        self.milestones = sorted(
            check_int(owner, "milestones", m, 0) for m in _expand(items)
        )
        self.gamma = check_real(owner, "gamma", gamma, low=0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """See the class docstring."""
        count = self.milestones.count(self.last_epoch)
        if not count:
            return [self._current_lr()]
        return [self._current_lr() * self.gamma**count]

    def _closed_form_lr(self) -> list[float]:
        passed = bisect_right(self.milestones, self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]

    def load_state_dict(self, state_dict: dict) -> None:
        """See :meth:`LRScheduler.load_state_dict` (PyTorch's milestone counts,
        a dict, are read too)."""
        if isinstance(state_dict, dict) and isinstance(
            state_dict.get("milestones"), dict
        ):
            state_dict = dict(state_dict, milestones=_expand(state_dict["milestones"]))
        super().load_state_dict(state_dict)


def _expand(milestones) -> list:
    """A list of milestones from a list or from PyTorch's ``{epoch: count}``."""
    if isinstance(milestones, dict):
        return sorted(m for m, n in milestones.items() for _ in range(int(n)))
    return list(milestones)


class ConstantLR(LRScheduler):
    """``lr = lr0 * factor`` for ``t < total_iters``, then ``lr0``.

    Args:
        optimizer: a numnet optimizer.
        factor: in (0, 1] (PyTorch accepts 0 and then divides by it).
        total_iters: an integer >= 1.
        last_epoch: -1 to start.
    """

    _hyper = ("factor", "total_iters")

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        owner = type(self).__name__
        self.factor = check_real(owner, "factor", factor, 0, 1, low_open=True)
        self.total_iters = check_int(owner, "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """See the class docstring."""
        if self.last_epoch == 0:
            return [self._current_lr() * self.factor]
        if self.last_epoch != self.total_iters:
            return [self._current_lr()]
        return [self._current_lr() * (1.0 / self.factor)]

    def _closed_form_lr(self) -> list[float]:
        done = self.last_epoch >= self.total_iters
        return [
            base * (self.factor + done * (1 - self.factor)) for base in self.base_lrs
        ]


class LinearLR(LRScheduler):
    """``lr = lr0 * (start_factor + (end_factor - start_factor) *
    min(t, total_iters) / total_iters)``: a linear ramp, then constant.

    Args:
        optimizer: a numnet optimizer.
        start_factor: in (0, 1].
        end_factor: in [0, 1].
        total_iters: an integer >= 1: the epochs of the ramp.
        last_epoch: -1 to start.
    """

    _hyper = ("start_factor", "end_factor", "total_iters")

    def __init__(
        self,
        optimizer,
        start_factor=1.0 / 3,
        end_factor=1.0,
        total_iters=5,
        last_epoch=-1,
    ):
        owner = type(self).__name__
        self.start_factor = check_real(
            owner, "start_factor", start_factor, 0, 1, low_open=True
        )
        self.end_factor = check_real(owner, "end_factor", end_factor, 0, 1)
        self.total_iters = check_int(owner, "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """See the class docstring."""
        if self.last_epoch == 0:
            return [self._current_lr() * self.start_factor]
        if self._is_initial or self.last_epoch > self.total_iters:
            return [self._current_lr()]
        delta = self.end_factor - self.start_factor
        ratio = 1.0 + delta / (
            self.total_iters * self.start_factor + (self.last_epoch - 1) * delta
        )
        return [self._current_lr() * ratio]

    def _closed_form_lr(self) -> list[float]:
        done = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return [base * factor for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """``lr = lr0 * gamma ** t``.

    Args:
        optimizer: a numnet optimizer.
        gamma: the factor of each epoch, > 0.
        last_epoch: -1 to start.
    """

    _hyper = ("gamma",)

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = check_real(
            type(self).__name__, "gamma", gamma, low=0, low_open=True
        )
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """See the class docstring."""
        if self._is_initial:
            return [self._current_lr()]
        return [self._current_lr() * self.gamma]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """``lr = lr0 * (1 - min(t, total_iters) / total_iters) ** power``.

    Args:
        optimizer: a numnet optimizer.
        total_iters: an integer >= 1: the epochs until the rate reaches 0.
        power: a number >= 0.
        last_epoch: -1 to start.
    """

    _hyper = ("total_iters", "power")

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        owner = type(self).__name__
        self.total_iters = check_int(owner, "total_iters", total_iters, 1)
        self.power = check_real(owner, "power", power, low=0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """See the class docstring."""
        if self._is_initial or self.last_epoch > self.total_iters:
            return [self._current_lr()]
        decay = (
            (1.0 - self.last_epoch / self.total_iters)
            / (1.0 - (self.last_epoch - 1) / self.total_iters)
        ) ** self.power
        return [self._current_lr() * decay]

    def _closed_form_lr(self) -> list[float]:
        left = 1.0 - min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * left**self.power for base in self.base_lrs]
