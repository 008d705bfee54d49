"""SwapEMAWeights and BackupAndRestore: callbacks around the training state."""

from __future__ import annotations

import contextlib
import os

from numnet.callbacks.base import Callback
from numnet.optimizers import _ema


def _ema_weights(model, owner: str):
    """The model's weights with an average, and the optimizer's slot lookup."""
    optimizer = getattr(model, "optimizer", None)
    if not getattr(optimizer, "use_ema", False):
        raise ValueError(
            f"{owner} needs an optimizer created with use_ema=True. Received: "
            f"use_ema={getattr(optimizer, 'use_ema', None)!r}"
        )
    params = [p for p in model.trainable_weights if id(p) in optimizer._index]
    return params, optimizer._slots_of


class SwapEMAWeights(Callback):
    """Evaluate (and optionally checkpoint) with the EMA of the weights (Keras 3).

    The optimizer must have ``use_ema=True``. During validation, ``evaluate``
    and ``predict`` the model holds the averaged weights; training resumes
    with its own weights afterwards. With ``swap_on_epoch=True`` the averages
    are also in the model from each epoch's end to the next epoch's start, so
    callbacks listed *after* this one (``ModelCheckpoint``) save them.

    The training weights are held by the callback while swapped out (the
    optimizer's averages are never modified), so an early stop or the
    end-of-``fit`` ``finalize_variable_values`` always see the true averages.

    Args:
        swap_on_epoch: also swap at epoch ends (see above).

    Example:
        >>> import numpy as np
        >>> from numnet import callbacks, layers, models, optimizers
        >>> model = models.Sequential([layers.Dense(1, input_shape=(2,))])
        >>> model.compile(optimizers.SGD(0.1, use_ema=True), "mse")
        >>> x, y = np.ones((8, 2), np.float32), np.ones((8, 1), np.float32)
        >>> h = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0,
        ...               callbacks=[callbacks.SwapEMAWeights()])
        >>> sorted(h.history)
        ['loss', 'val_loss']
    """

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        if not isinstance(swap_on_epoch, bool):
            raise ValueError(
                f"SwapEMAWeights: invalid value for argument 'swap_on_epoch'. "
                f"Expected True or False. Received: swap_on_epoch={swap_on_epoch!r}"
            )
        self.swap_on_epoch = swap_on_epoch
        self._held = None  # the training weights while the averages are in
        self._by = None  # the hook that swapped them in: only it swaps back

    def _swap_in(self, by: str) -> None:
        if self._held is not None:
            return
        params, slots_of = _ema_weights(self.model, "SwapEMAWeights")
        self._held = [(p, p.data.copy()) for p in params]
        self._by = by
        _ema.copy_into_weights(params, slots_of)

    def _swap_out(self, by: str) -> None:
        if self._held is None or by != self._by:
            return
        for p, value in self._held:
            p.data[...] = value
        self._held = self._by = None

    def on_epoch_begin(self, epoch, logs=None):
        """Training weights back in (after ``swap_on_epoch``)."""
        self._swap_out("epoch")

    def on_epoch_end(self, epoch, logs=None):
        """With ``swap_on_epoch``: the averages in, for the callbacks after this."""
        if self.swap_on_epoch:
            self._swap_in("epoch")

    def on_train_end(self, logs=None):
        """``fit`` has written the averages into the weights: nothing to restore."""
        self._held = self._by = None

    def on_test_begin(self, logs=None):
        """The averages in for validation and ``evaluate``."""
        self._swap_in("test")

    def on_test_end(self, logs=None):
        """The training weights back."""
        self._swap_out("test")

    def on_predict_begin(self, logs=None):
        """The averages in for ``predict``."""
        self._swap_in("predict")

    def on_predict_end(self, logs=None):
        """The training weights back."""
        self._swap_out("predict")


class BackupAndRestore(Callback):
    """Resume a ``fit`` that was interrupted, from its last backup (Keras 3).

    Every epoch (or every ``save_freq`` batches) the weights, the optimizer's
    state (step counter, slots, EMA averages, accumulated gradients) and the
    epoch reached are written to ``<backup_dir>/latest.npz``, atomically like
    ``model.save``. When ``fit`` starts with a backup present, it restores all
    of it and continues from the epoch after the last backed-up one (a
    mid-epoch backup restarts its epoch, as in Keras). A ``fit`` that ends
    normally deletes the backup (``delete_checkpoint``); one stopped by an
    exception or Ctrl-C keeps it.

    Resuming gives the same weights as an uninterrupted run when the batches
    are the same: with ``shuffle=True`` the order depends on numnet's global
    generator (``numnet.backend.set_seed``), which the backup does not hold.

    Args:
        backup_dir: a directory for the backup (created when needed; only the
            backup file is deleted, and the directory if it is then empty).
        save_freq: ``"epoch"`` or a number of batches.
        delete_checkpoint: delete the backup when ``fit`` ends normally.
    """

    FILENAME = "latest.npz"

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ValueError(
                f"BackupAndRestore: invalid value for argument 'backup_dir'. "
                f"Expected a directory path. Received: backup_dir={backup_dir!r}"
            )
        ok = save_freq == "epoch" or (
            isinstance(save_freq, int) and not isinstance(save_freq, bool)
        )
        if not ok or (save_freq != "epoch" and save_freq < 1):
            raise ValueError(
                f"BackupAndRestore: invalid value for argument 'save_freq'. "
                f"Expected 'epoch' or an int >= 1. Received: save_freq={save_freq!r}"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)
        self._epoch = 0
        self._batches = 0

    @property
    def path(self) -> str:
        """The backup file."""
        return os.path.join(self.backup_dir, self.FILENAME)

    def on_train_begin(self, logs=None):
        """Restore the backup, if any, and move fit's first epoch after it."""
        if os.path.exists(self.path):
            from numnet import _backup

            self.model._initial_epoch = _backup.restore(self.model, self.path)
        self._epoch = self.model._initial_epoch

    def on_epoch_begin(self, epoch, logs=None):
        """Remember the epoch (a batch backup restarts it)."""
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        """Back up every ``save_freq`` batches."""
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % self.save_freq == 0:
            self._save(self._epoch)

    def on_epoch_end(self, epoch, logs=None):
        """Back up the finished epoch (``save_freq="epoch"``)."""
        if self.save_freq == "epoch" and not self.model._fit_interrupted:
            self._save(epoch + 1)

    def on_train_end(self, logs=None):
        """Delete the backup after a normal end (``delete_checkpoint``)."""
        if not self.delete_checkpoint or self.model._fit_interrupted:
            return
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)
        with contextlib.suppress(OSError):  # only when empty
            os.rmdir(self.backup_dir)

    def _save(self, next_epoch: int) -> None:
        from numnet import _backup

        os.makedirs(self.backup_dir, exist_ok=True)
        _backup.write(self.model, self.path, next_epoch)
