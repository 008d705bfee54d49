"""The base class of the PyTorch-style schedulers (``torch.optim.lr_scheduler``).

A scheduler owns no learning rate of its own: it writes a number into
``optimizer.learning_rate`` at construction (the *initial step*, epoch 0) and at
every :meth:`LRScheduler.step`, as PyTorch writes ``param_group["lr"]``. A numnet
optimizer has one parameter group, so the lists PyTorch keeps per group
(``base_lrs``, ``get_last_lr()``) hold one value.

The updates are PyTorch's *chainable* forms: each step computes the next rate
from the optimizer's current one (``StepLR`` multiplies it by ``gamma`` at every
``step_size``-th epoch), in the same floating-point order as PyTorch, so the
rates equal PyTorch's bit for bit, several schedulers compose
(:class:`ChainedScheduler`) and a rate set by hand between steps is carried on.
``step(epoch)`` (deprecated in PyTorch) uses the closed forms.
"""

from __future__ import annotations

import copy
import warnings
import weakref

from numnet.optimizers._scheduler_checks import (
    check_int,
    check_lr_value,
    check_optimizer,
    one_group,
)

#: the learning rate each optimizer had when its first scheduler was created
#: (PyTorch's ``param_group["initial_lr"]``)
_INITIAL_LRS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

_STEP_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`: the "
    "first value of the learning-rate schedule is skipped. Call "
    "`optimizer.step()` before `lr_scheduler.step()`."
)
_EPOCH_WARNING = (
    "The epoch argument of `scheduler.step()` is deprecated (as in PyTorch); "
    "call `scheduler.step()` once per epoch (or per batch) instead."
)


def initial_lr(owner: str, optimizer, last_epoch: int) -> float:
    """The optimizer's recorded initial rate (recorded now for a new schedule)."""
    if last_epoch == -1:
        return _INITIAL_LRS.setdefault(optimizer, float(optimizer.learning_rate))
    if optimizer not in _INITIAL_LRS:
        raise ValueError(
            f"{owner}: last_epoch={last_epoch} resumes a schedule, which needs the "
            f"optimizer's initial learning rate, recorded when a scheduler was "
            f"first created on it. Create the scheduler with last_epoch=-1 and "
            f"restore it with load_state_dict(state) instead."
        )
    return _INITIAL_LRS[optimizer]


def set_initial_lr(optimizer, value: float) -> None:
    """Record ``value`` as the optimizer's initial rate (OneCycleLR does)."""
    _INITIAL_LRS[optimizer] = float(value)


def _plain(value):
    """A deep copy of ``value`` as plain Python data (lists, not tuples)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return copy.copy(value)


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


class LRScheduler:
    """Base class: sets the optimizer's learning rate at every :meth:`step`.

    A subclass implements :meth:`get_lr` (the next rate, from
    :attr:`last_epoch`, :attr:`base_lrs` and the optimizer's current rate), as
    in PyTorch; it may add ``_closed_form_lr`` for ``step(epoch)``.

    Args:
        optimizer: a numnet optimizer whose learning rate is a number (a Keras
            schedule as learning rate is a TypeError: the two kinds do not mix).
        last_epoch: -1 starts a schedule; a larger value resumes one on an
            optimizer that already had a scheduler (PyTorch's argument).

    Attributes:
        optimizer: the optimizer whose ``learning_rate`` is set.
        base_lrs: ``[initial learning rate]`` (one parameter group).
        last_epoch: the number of steps taken (0 after construction).

    Example:
        >>> from numnet import optimizers
        >>> from numnet.optimizers import lr_scheduler
        >>> opt = optimizers.SGD(learning_rate=0.1)
        >>> class Halve(lr_scheduler.LRScheduler):
        ...     def get_lr(self):
        ...         return [base / 2**self.last_epoch for base in self.base_lrs]
        >>> sched = Halve(opt)          # the initial step: epoch 0
        >>> sched.last_epoch, sched.base_lrs, opt.learning_rate
        (0, [0.1], 0.1)
    """

    #: the constructor arguments that state_dict() saves, besides the counters
    _hyper: tuple[str, ...] = ()
    _COMMON = ("base_lrs", "last_epoch", "_step_count", "_last_lr")
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        owner = type(self).__name__
        self.optimizer = check_optimizer(owner, optimizer)
        last_epoch = check_int(owner, "last_epoch", last_epoch, -1)
        self.base_lrs = [initial_lr(owner, optimizer, last_epoch)]
        self.last_epoch = last_epoch
        self._iterations_at_start = optimizer.iterations
        self._initial_step()

    def _initial_step(self) -> None:
        """The step at construction: epoch 0's rate."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rate of epoch :attr:`last_epoch` (called by :meth:`step`;
        ``get_last_lr()`` reads the current rate)."""
        raise NotImplementedError(f"{type(self).__name__}.get_lr")

    def get_last_lr(self) -> list[float]:
        """``[the learning rate set by the last step]`` (one parameter group)."""
        return list(self._last_lr)

    def step(self, epoch=None) -> None:
        """Advance one epoch (or batch) and set the optimizer's learning rate.

        Args:
            epoch: deprecated (as in PyTorch): jump to this epoch, with the
                closed form where there is one.
        """
        if self._step_count == 1 and (
            self.optimizer.iterations == self._iterations_at_start
        ):
            warnings.warn(_STEP_ORDER_WARNING, UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_WARNING, UserWarning, stacklevel=2)
            epoch = check_int(type(self).__name__, "epoch", epoch, 0)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        self._write_lr(one_group(type(self).__name__, "get_lr()", values))

    def _current_lr(self) -> float:
        """The optimizer's learning rate now (PyTorch's ``group["lr"]``)."""
        return float(self.optimizer.learning_rate)

    def _write_lr(self, lr) -> None:
        scale = max(getattr(self, "base_lrs", [0.0]))
        value = check_lr_value(
            type(self).__name__, lr, getattr(self, "last_epoch", None), scale
        )
        self.optimizer.learning_rate = value
        self._last_lr = [self._current_lr()]

    def _state_keys(self) -> tuple[str, ...]:
        return self._hyper + self._COMMON

    def state_dict(self) -> dict:
        """The schedule's arguments and counters as plain Python data (no
        functions, no optimizer); PyTorch's key names."""
        return {key: _plain(getattr(self, key)) for key in self._state_keys()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore :meth:`state_dict` output (or PyTorch's, which has extra keys
        that are ignored), and set the optimizer's learning rate to the saved
        last rate, so the next :meth:`step` continues the saved sequence.

        Raises:
            ValueError: when a key is missing or a value has the wrong type.
        """
        self._load_keys(state_dict, self._state_keys())
        self._write_lr(self._last_lr[0])

    def _load_keys(self, state_dict, keys) -> None:
        owner = type(self).__name__
        if not isinstance(state_dict, dict):
            raise ValueError(
                f"{owner}.load_state_dict: expected a dict from state_dict(). "
                f"Received: {type(state_dict).__name__}"
            )
        missing = [k for k in keys if k not in state_dict]
        if missing:
            raise ValueError(
                f"{owner}.load_state_dict: the state has no {missing} (is it the "
                f"state of another scheduler?). Received keys: {sorted(state_dict)}"
            )
        for key in keys:
            self._load_value(key, state_dict[key])

    def _load_value(self, key: str, value) -> None:
        current = getattr(self, key, None)
        if None not in (current, value) and _kind(current) != _kind(value):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: invalid value for "
                f"'{key}'. Expected a {_kind(current)} like {current!r}. "
                f"Received: {value!r}"
            )
        setattr(self, key, _plain(value))

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} last_epoch={getattr(self, 'last_epoch', None)} "
            f"last_lr={getattr(self, '_last_lr', None)}>"
        )
