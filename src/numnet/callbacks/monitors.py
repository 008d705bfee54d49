"""Callbacks that watch a metric: EarlyStopping, ReduceLROnPlateau, ModelCheckpoint.

Each takes ``monitor`` (a key of the epoch logs, e.g. ``"val_loss"``) and
``mode``: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names, min
otherwise). A missing monitor warns (listing the available keys) and is skipped.
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np

from numnet.callbacks.base import Callback

_MAX_HINTS = ("acc", "auc", "precision", "recall", "f1", "iou")


def resolve_mode(owner: str, monitor: str, mode: str) -> str:
    """Return "min" or "max" for ``mode`` ("auto" looks at the metric name)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(
            f"{owner}: invalid value for argument 'mode'. Expected one of "
            f"'auto', 'min', 'max'. Received: mode={mode!r}"
        )
    if mode != "auto":
        return mode
    name = monitor.lower()
    if "loss" not in name and any(h in name for h in _MAX_HINTS):
        return "max"
    return "min"


def _monitor_value(owner: str, monitor: str, logs):
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(
            f"{owner} is conditioned on metric '{monitor}', which is not available. "
            f"Available metrics are: {', '.join(sorted(logs)) or 'none'}",
            stacklevel=3,
        )
    return value


class _Monitor(Callback):
    def __init__(self, monitor, mode, min_delta=0.0):
        super().__init__()
        self.monitor = monitor
        self.mode = resolve_mode(type(self).__name__, monitor, mode)
        self.min_delta = abs(float(min_delta))

    def _better(self, current, reference) -> bool:
        """Improvement by more than min_delta (any value beats None)."""
        if reference is None:
            return not math.isnan(current)
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def _say(self, message: str) -> None:
        if getattr(self, "verbose", 0):
            sys.stdout.write(message + "\n")


class EarlyStopping(_Monitor):
    """Stop training when ``monitor`` has stopped improving (Keras 3 semantics).

    After ``patience`` epochs without an improvement larger than ``min_delta``
    the model's ``stop_training`` is set. With ``restore_best_weights`` the
    weights of the best epoch are restored at the end of training, whether or
    not training stopped early. With a ``baseline``, the patience counter only
    resets on epochs that also beat the baseline; a baseline that is never
    reached stops training after ``patience`` epochs.

    Args:
        monitor: the log key to watch.
        min_delta: minimum change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints a message when stopping/restoring.
        mode: "auto", "min" or "max".
        baseline: a value the metric must beat.
        restore_best_weights: restore the best epoch's weights at the end.
        start_from_epoch: epochs to wait before watching (warm-up).

    Attributes:
        stopped_epoch: the epoch at which training stopped (0 if it did not).
        best: the best value seen; ``best_epoch`` its epoch.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0.0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__(monitor, mode, min_delta)
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(
                f"EarlyStopping: invalid value for argument 'patience'. Expected a "
                f"non-negative int. Received: patience={patience!r}"
            )
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = _monitor_value("EarlyStopping", self.monitor, logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            self._say(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            self._say(
                f"Restoring model weights from the end of the best epoch: "
                f"{self.best_epoch + 1}."
            )
            self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` when ``monitor`` plateaus.

    Args:
        monitor: the log key to watch.
        factor: new_lr = lr * factor (must be < 1).
        patience: epochs without improvement before reducing.
        verbose: 1 prints a message at each reduction.
        mode: "auto", "min" or "max".
        min_delta: minimum change that counts as an improvement.
        cooldown: epochs to wait after a reduction before watching again.
        min_lr: lower bound of the learning rate.
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
    ):
        super().__init__(monitor, mode, min_delta)
        if not 0 < factor < 1:
            raise ValueError(
                f"ReduceLROnPlateau: invalid value for argument 'factor'. Expected a "
                f"number in (0, 1). Received: factor={factor!r}"
            )
        self.factor, self.patience, self.verbose = float(factor), patience, verbose
        self.cooldown, self.min_lr = cooldown, float(min_lr)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = _monitor_value("ReduceLROnPlateau", self.monitor, logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current, self.best):
            self.best, self.wait = current, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old_lr = float(optimizer.learning_rate)
            if old_lr > self.min_lr:
                new_lr = max(old_lr * self.factor, self.min_lr)
                optimizer.learning_rate = new_lr
                self._say(
                    f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                    f"to {new_lr:.4g}."
                )
                self.cooldown_counter, self.wait = self.cooldown, 0


class ModelCheckpoint(_Monitor):
    """Save the model (or its weights) at the end of every epoch.

    ``filepath`` may hold format fields filled from the epoch (1-based) and the
    logs, e.g. ``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"``. Saves are atomic
    (see :mod:`numnet.saving`).

    Args:
        filepath: the file to write.
        monitor: the log key that decides "best".
        verbose: 1 prints a message at each save.
        save_best_only: only save when ``monitor`` improved.
        save_weights_only: ``model.save_weights`` instead of ``model.save``.
        mode: "auto", "min" or "max".
        initial_value_threshold: the value to beat for the first save.

    Attributes:
        best: the best monitored value so far.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode)
        self.filepath = str(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if getattr(self.model, "_fit_interrupted", False):
            self._skip(f"Epoch {epoch + 1}: training was interrupted (Ctrl-C)")
            return
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as exc:
            raise KeyError(
                f"ModelCheckpoint: the filepath {self.filepath!r} uses {exc}, which "
                f"is not a key of the epoch logs {sorted(logs)}"
            ) from None
        if self.save_best_only:
            current = _monitor_value("ModelCheckpoint", self.monitor, logs)
            if current is None or not self._better(current, self.best):
                return
            if not self._finite(epoch):
                return
            self._say(
                f"Epoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                f"{current:.5f}, saving model to {path}"
            )
            self.best = current
        elif self._finite(epoch):
            self._say(f"Epoch {epoch + 1}: saving model to {path}")
        else:
            return
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def _finite(self, epoch: int) -> bool:
        if _weights_finite(self.model):
            return True
        self._skip(f"Epoch {epoch + 1}: the weights hold NaN or inf values")
        return False

    def _skip(self, reason: str) -> None:
        """Never let a bad epoch replace a checkpoint: warn and keep the file."""
        warnings.warn(
            f"ModelCheckpoint: {reason}; the checkpoint was not saved, so the "
            f"previous file (if any) is kept",
            RuntimeWarning,
            stacklevel=3,
        )


def _weights_finite(model) -> bool:
    """One pass over the weights: True when none is NaN or inf."""
    return all(np.isfinite(w).all() for w in model.get_weights())
