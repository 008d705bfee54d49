"""LearningRateScheduler, CSVLogger, TerminateOnNaN and LambdaCallback."""

from __future__ import annotations

import csv
import inspect
import math
import os
import sys

from numnet.callbacks.base import _HOOKS, Callback


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule``.

    Args:
        schedule: ``f(epoch, lr) -> new_lr`` or ``f(epoch) -> new_lr``
            (epoch counts from 0).
        verbose: 1 prints the new rate at each epoch.

    Example:
        >>> from numnet import callbacks
        >>> cb = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                f"LearningRateScheduler: invalid value for argument 'schedule'. "
                f"Expected a callable f(epoch, lr). Received: {schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose
        try:
            params = inspect.signature(schedule).parameters
            self._takes_lr = len(params) >= 2
        except (TypeError, ValueError):
            self._takes_lr = True

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = float(optimizer.learning_rate)
        new = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        try:
            new = float(new)
        except (TypeError, ValueError):
            raise ValueError(
                f"LearningRateScheduler: the schedule must return a float. "
                f"Received: {new!r} at epoch {epoch}"
            ) from None
        if not math.isfinite(new):
            raise ValueError(
                f"LearningRateScheduler: the schedule returned {new} at epoch {epoch}"
            )
        optimizer.learning_rate = new
        if self.verbose:
            sys.stdout.write(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate "
                f"to {new}.\n"
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class CSVLogger(Callback):
    """Stream the epoch logs to a CSV file: ``epoch,<metric>,...`` per row.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: append to an existing file (no new header) instead of
            overwriting it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename)
        self._header_written = exists and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer = csv.DictWriter(
                self._file, fieldnames=["epoch"] + self.keys, delimiter=self.sep
            )
            if not self._header_written:
                self._writer.writeheader()
        row = {"epoch": epoch}
        for key in self.keys:  # a key missing in a later epoch is written as NA
            value = logs.get(key, "NA")
            row[key] = value if isinstance(value, str) else float(value)
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            sys.stdout.write(f"Batch {batch}: Invalid loss, terminating training\n")
            self.model.stop_training = True


_NO_INDEX = ("_train_begin", "_train_end", "_test_begin", "_test_end")
_NO_INDEX += ("_predict_begin", "_predict_end")


def _with_logs(hook: str, fn):
    """Call ``fn`` Keras-style with ``(index, logs)``/``(logs)`` when it takes
    them (``on_train_begin=lambda logs: ...``), else with the arguments it takes
    (``lambda: ...``, ``lambda epoch: ...``)."""
    n_index = 0 if hook.endswith(_NO_INDEX) else 1
    if _accepts(fn, n_index + 1) is not False:  # unknown (a builtin): pass all

        def call(*args, logs=None):
            if len(args) > n_index:  # logs given positionally
                args, logs = args[:n_index], args[n_index]
            return fn(*args, logs)

        return call
    keep = n_index if _accepts(fn, n_index) else 0
    return lambda *args, logs=None: fn(*args[:keep])


def _accepts(fn, n: int) -> bool | None:
    """Whether ``fn`` takes ``n`` positional arguments (None: no signature)."""
    try:
        inspect.signature(fn).bind(*([None] * n))
    except TypeError:
        return False
    except ValueError:
        return None
    return True


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=f)``.

    Each keyword names a hook (``on_epoch_end``, ``on_train_batch_end``, ...;
    Keras's ``on_batch_end`` is accepted too) and takes the same arguments.

    Raises:
        TypeError: for an unknown hook name.
    """

    def __init__(self, **hooks):
        super().__init__()
        allowed = set(_HOOKS) | {"on_batch_begin", "on_batch_end"}
        unknown = sorted(set(hooks) - allowed)
        if unknown:
            raise TypeError(
                f"LambdaCallback: unknown hook(s) {unknown}. Expected some of "
                f"{sorted(allowed)}"
            )
        for name, fn in hooks.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(
                        f"LambdaCallback: invalid value for argument '{name}'. "
                        f"Expected a callable. Received: {fn!r}"
                    )
                setattr(self, name, _with_logs(name, fn))
