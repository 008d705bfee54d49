"""SwapEMAWeights and BackupAndRestore."""

from __future__ import annotations

import os

import numpy as np
import pytest

import numnet
from numnet import callbacks, layers, models, optimizers


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    return x, y


def _model(optimizer):
    numnet.manual_seed(0)
    model = models.Sequential(
        [layers.Input((5,)), layers.Dense(8, activation="tanh"), layers.Dense(3)]
    )
    loss = numnet.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer, loss)
    return model


class _Record(callbacks.Callback):
    """Snapshots of the weights and the optimizer's averages at chosen hooks."""

    def __init__(self):
        super().__init__()
        self.seen = {}

    def _take(self, key):
        weights = [w.data.copy() for w in self.model.trainable_weights]
        opt = self.model.optimizer
        averages = [
            opt._slots_of(w)["average"].copy()
            for w in self.model.trainable_weights
            if id(w) in opt._index  # built at the first step
        ]
        self.seen.setdefault(key, []).append((weights, averages))

    def on_train_batch_end(self, batch, logs=None):
        self._take("batch")

    def on_test_begin(self, logs=None):
        self._take("test")

    def on_epoch_end(self, epoch, logs=None):
        self._take("epoch_end")

    def on_epoch_begin(self, epoch, logs=None):
        self._take("epoch_begin")


def _same(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def test_swap_ema_weights_validates_with_the_averages():
    x, y = _data()
    model = _model(optimizers.Adam(0.01, use_ema=True, ema_momentum=0.9))
    record = _Record()
    swap = callbacks.SwapEMAWeights()
    model.fit(x, y, batch_size=10, epochs=2, verbose=0, shuffle=False,
              validation_data=(x, y), callbacks=[swap, record])  # fmt: skip
    for k, (weights, _) in enumerate(record.seen["test"]):
        # during validation: the model holds the averages of the last batch
        last_weights, last_averages = record.seen["batch"][4 * k + 3]
        assert _same(weights, last_averages)
        assert not _same(weights, last_weights)
        # after it: the training weights are back (epoch end sees them)
        assert _same(record.seen["epoch_end"][k][0], last_weights)
    final = [w.data for w in model.trainable_weights]
    assert _same(final, record.seen["batch"][-1][1])  # fit ends with the averages


def test_swap_on_epoch_puts_the_averages_in_for_the_callbacks_after_it(tmp_path):
    x, y = _data()
    model = _model(optimizers.SGD(0.1, use_ema=True, ema_momentum=0.8))
    record = _Record()
    swap = callbacks.SwapEMAWeights(swap_on_epoch=True)
    check = callbacks.ModelCheckpoint(
        str(tmp_path / "m{epoch}.npz"), save_weights_only=True
    )
    # a predict with the same callback while the averages are in keeps them in
    peek = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: model.predict(x, verbose=0, callbacks=[swap])
    )
    model.fit(x, y, batch_size=10, epochs=3, verbose=0, shuffle=False,
              callbacks=[swap, peek, record, check])  # fmt: skip
    for k in range(3):
        weights, _ = record.seen["epoch_end"][k]
        _, averages = record.seen["batch"][4 * k + 3]
        assert _same(weights, averages)
        saved = _model(optimizers.SGD())
        saved.load_weights(str(tmp_path / f"m{k + 1}.npz"))
        assert _same([w.data for w in saved.trainable_weights], averages)
    for k in range(1, 3):  # the next epoch trains from the training weights
        weights, _ = record.seen["epoch_begin"][k]
        assert _same(weights, record.seen["batch"][4 * k - 1][0])
    assert _same([w.data for w in model.trainable_weights], record.seen["batch"][-1][1])


def test_swap_ema_weights_needs_use_ema():
    x, y = _data()
    model = _model(optimizers.Adam())
    with pytest.raises(ValueError, match="use_ema=True"):
        model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y),
                  callbacks=[callbacks.SwapEMAWeights()])  # fmt: skip
    with pytest.raises(ValueError, match="swap_on_epoch"):
        callbacks.SwapEMAWeights(swap_on_epoch="yes")


class _Crash(callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("simulated failure")


def _optimizer():
    # accumulation windows of 3 over 4 batches per epoch: a window is open at
    # every epoch end, so the backup must hold the accumulated gradients too
    return optimizers.Adam(0.01, use_ema=True, gradient_accumulation_steps=3)


def test_interrupted_then_resumed_fit_equals_an_uninterrupted_one(tmp_path):
    save_freq = "epoch"
    x, y = _data()
    fit = dict(x=x, y=y, batch_size=10, epochs=5, verbose=0, shuffle=False)
    reference = _model(_optimizer())
    reference.fit(**fit)
    backup_dir = tmp_path / "backup"
    first = _model(_optimizer())
    with pytest.raises(RuntimeError, match="simulated"):
        first.fit(**fit, callbacks=[callbacks.BackupAndRestore(backup_dir, save_freq),
                                    _Crash(epoch=3, batch=1)])  # fmt: skip
    assert os.path.exists(backup_dir / "latest.npz")
    numnet.manual_seed(123)  # a fresh process: other initial weights
    resumed = _model(_optimizer())
    history = resumed.fit(
        **fit, callbacks=[callbacks.BackupAndRestore(backup_dir, save_freq)]
    )
    assert history.epoch == [3, 4]  # epochs 0-2 were backed up
    for a, b in zip(reference.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert resumed.optimizer.iterations == reference.optimizer.iterations
    assert not backup_dir.exists()  # a normal end deletes it


def test_a_batch_backup_restarts_its_epoch_from_the_backed_up_weights(tmp_path):
    x, y = _data()
    fit = dict(x=x, y=y, batch_size=10, epochs=5, verbose=0, shuffle=False)
    first = _model(_optimizer())
    with pytest.raises(RuntimeError, match="simulated"):
        # 4 batches per epoch: the 14th batch (epoch 3, batch 1) is backed up
        first.fit(**fit, callbacks=[callbacks.BackupAndRestore(tmp_path, 2),
                                    _Crash(epoch=3, batch=1)])  # fmt: skip
    numnet.manual_seed(7)
    resumed = _model(_optimizer())
    record = _Record()
    history = resumed.fit(
        **fit, callbacks=[callbacks.BackupAndRestore(tmp_path, 2), record]
    )
    assert history.epoch == [3, 4]  # Keras: the interrupted epoch starts again
    start, averages = record.seen["epoch_begin"][0]
    assert _same(start, first.get_weights())
    assert _same(
        averages,
        [first.optimizer._slots_of(w)["average"] for w in first.trainable_weights],
    )


def test_backup_is_kept_when_asked_and_arguments_are_checked(tmp_path):
    x, y = _data()
    model = _model(optimizers.SGD(0.1))
    keep = callbacks.BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[keep])
    assert (tmp_path / "b" / "latest.npz").exists()
    again = model.fit(x, y, epochs=3, verbose=0, callbacks=[keep])
    assert again.epoch == [2]  # resumes after the two backed-up epochs
    with pytest.raises(ValueError, match="save_freq='batch'"):
        callbacks.BackupAndRestore(tmp_path, save_freq="batch")
    with pytest.raises(ValueError, match="save_freq=0"):
        callbacks.BackupAndRestore(tmp_path, save_freq=0)
    with pytest.raises(ValueError, match="backup_dir=''"):
        callbacks.BackupAndRestore("")


def test_the_backup_write_is_atomic(tmp_path, monkeypatch):
    x, y = _data()
    model = _model(optimizers.SGD(0.1))
    backup = callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[backup])
    before = (tmp_path / "latest.npz").read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(OSError, match="disk full"):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[backup])
    assert (tmp_path / "latest.npz").read_bytes() == before  # the old backup intact
    assert os.listdir(tmp_path) == ["latest.npz"]  # no temporary file left
