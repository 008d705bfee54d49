"""Each callback driven by scripted metric sequences on a stand-in model."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from numnet import callbacks
from numnet.optimizers import SGD, schedules


class FakeModel:
    """Weights = [epoch number reached]; records saves."""

    def __init__(self, lr=0.1):
        self.stop_training = False
        self.weights = [np.array(-1.0)]
        self.optimizer = SGD(lr)
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, path):
        self.saved.append(("model", path))

    def save_weights(self, path):
        self.saved.append(("weights", path))


def run(cbs, metric_seq, model=None, key="val_loss", extra=None):
    """Mimic fit: one epoch per value; return (model, epochs run, logs list)."""
    model = model or FakeModel()
    cb_list = callbacks.CallbackList(cbs, model=model, epochs=len(metric_seq))
    cb_list.on_train_begin()
    ran, all_logs = [], []
    for epoch, value in enumerate(metric_seq):
        cb_list.on_epoch_begin(epoch)
        model.weights = [np.array(float(epoch))]  # "training" this epoch
        logs = {key: value, **(extra or {})}
        cb_list.on_epoch_end(epoch, logs)
        ran.append(epoch)
        all_logs.append(logs)
        if model.stop_training:
            break
    cb_list.on_train_end()
    return model, ran, all_logs


def test_history_records_every_key():
    history = callbacks.History()
    run([history], [0.5, 0.4], extra={"loss": 1.0})
    assert history.history == {"val_loss": [0.5, 0.4], "loss": [1.0, 1.0]}
    assert history.epoch == [0, 1]


@pytest.mark.parametrize(
    "seq, patience, expected_epochs",
    [
        ([1.0, 0.9, 0.8, 0.7], 0, 4),  # always improving: never stops
        ([1.0, 1.1, 1.2, 0.5], 0, 2),  # patience 0: stops at the first miss
        ([1.0, 1.1, 1.2, 1.3, 1.4], 2, 3),
        ([1.0, 1.1, 0.9, 1.0, 1.0, 1.0], 2, 5),  # improvement resets the count
    ],
)
def test_early_stopping_patience(seq, patience, expected_epochs):
    es = callbacks.EarlyStopping(patience=patience)
    model, ran, _ = run([es], seq)
    assert len(ran) == expected_epochs
    assert model.stop_training == (expected_epochs < len(seq))
    assert es.stopped_epoch == (ran[-1] if model.stop_training else 0)


def test_early_stopping_min_delta_and_mode_max():
    es = callbacks.EarlyStopping(monitor="val_accuracy", min_delta=0.05, patience=2)
    assert es.mode == "max"
    _, ran, _ = run([es], [0.5, 0.52, 0.54, 0.7], key="val_accuracy")
    assert ran == [0, 1, 2]  # +0.02 steps are not improvements beyond 0.05


def test_restore_best_weights_after_early_stop():
    es = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    model, ran, _ = run([es], [1.0, 0.3, 0.5, 0.6, 0.7])
    assert ran == [0, 1, 2, 3]
    assert model.weights[0] == 1.0 and es.best_epoch == 1 and es.best == 0.3


def test_restore_best_weights_even_without_early_stop():
    es = callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    model, ran, _ = run([es], [1.0, 0.2, 0.5])
    assert len(ran) == 3 and es.stopped_epoch == 0
    assert model.weights[0] == 1.0  # Keras 3: restored at the end of training


def test_baseline_never_reached_stops_without_crashing():
    es = callbacks.EarlyStopping(patience=2, baseline=0.1, restore_best_weights=True)
    # Keras 3: improving epochs that miss the baseline do not reset the count, so
    # the first epoch without improvement stops at once.
    model, ran, _ = run([es], [1.0, 0.9, 0.8, 0.85, 0.7])
    assert ran == [0, 1, 2, 3]
    assert model.weights[0] == 2.0  # best epoch = the lowest value seen


def test_baseline_reached_resets_patience():
    es = callbacks.EarlyStopping(patience=1, baseline=0.5)
    _, ran, _ = run([es], [0.6, 0.4, 0.3, 0.2, 0.25, 0.26])
    assert ran == [0, 1, 2, 3, 4]


def test_early_stopping_missing_monitor_warns_and_continues():
    es = callbacks.EarlyStopping(monitor="val_los", patience=0)
    with pytest.warns(UserWarning, match="'val_los'.*Available metrics are: val_loss"):
        _, ran, _ = run([es], [1.0, 2.0, 3.0])
    assert len(ran) == 3


def test_start_from_epoch_ignores_warmup_epochs():
    es = callbacks.EarlyStopping(patience=0, start_from_epoch=2)
    _, ran, _ = run([es], [0.1, 0.5, 0.6, 0.7, 0.8])
    assert ran == [0, 1, 2, 3]


def test_nan_is_never_an_improvement():
    es = callbacks.EarlyStopping(patience=1)
    _, ran, _ = run([es], [math.nan, 1.0, math.nan, math.nan, 0.5])
    assert ran == [0, 1, 2] and es.best == 1.0


def test_bad_mode_and_patience():
    with pytest.raises(ValueError, match="mode='best'"):
        callbacks.EarlyStopping(mode="best")
    with pytest.raises(ValueError, match="patience=-1"):
        callbacks.EarlyStopping(patience=-1)


def test_reduce_lr_on_plateau_with_cooldown_and_min_lr():
    cb = callbacks.ReduceLROnPlateau(patience=1, factor=0.5, cooldown=2, min_lr=0.03)
    model = FakeModel(lr=0.1)
    _, _, logs = run([cb], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], model=model)
    # plateau from epoch 1: reduce at 1 (0.05), cooldown epochs 2-3 (the counter
    # reaches 0 in epoch 3, which already counts again, as in Keras), reduce at 3
    # (0.03 = min_lr), then it stays at min_lr
    assert [round(entry["learning_rate"], 6) for entry in logs] == [
        0.1,
        0.1,
        0.05,
        0.05,
        0.03,
        0.03,
        0.03,
    ]
    assert model.optimizer.learning_rate == pytest.approx(0.03)


def test_reduce_lr_keeps_rate_while_improving():
    cb = callbacks.ReduceLROnPlateau(patience=1, factor=0.5)
    model, _, _ = run([cb], [1.0, 0.5, 0.2, 0.1])
    assert model.optimizer.learning_rate == 0.1
    with pytest.raises(ValueError, match="factor=1.0"):
        callbacks.ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_refuses_a_schedule_clearly():
    cb = callbacks.ReduceLROnPlateau(patience=0)
    model = FakeModel()
    model.optimizer = SGD(schedules.StepDecay(0.1, 10))
    with pytest.raises(TypeError, match="cannot be set to a number"):
        run([cb], [1.0, 1.0], model=model)


def test_learning_rate_scheduler_both_signatures():
    model = FakeModel(lr=1.0)
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    _, _, logs = run([cb], [1.0, 1.0, 1.0], model=model)
    assert [entry["learning_rate"] for entry in logs] == [0.5, 0.25, 0.125]
    cb = callbacks.LearningRateScheduler(lambda epoch: 0.1 / (1 + epoch))
    _, _, logs = run([cb], [1.0, 1.0], model=FakeModel())
    assert [entry["learning_rate"] for entry in logs] == pytest.approx([0.1, 0.05])


def test_learning_rate_scheduler_rejects_bad_return():
    cb = callbacks.LearningRateScheduler(lambda epoch: "fast")
    with pytest.raises(ValueError, match="must return a float"):
        run([cb], [1.0])


def test_model_checkpoint_every_epoch_and_best_only():
    cb = callbacks.ModelCheckpoint("m-{epoch:02d}-{val_loss:.1f}.npz")
    model, _, _ = run([cb], [0.5, 0.7])
    assert model.saved == [("model", "m-01-0.5.npz"), ("model", "m-02-0.7.npz")]
    cb = callbacks.ModelCheckpoint(
        "best.npz", save_best_only=True, save_weights_only=True
    )
    model, _, _ = run([cb], [0.5, 0.7, 0.4, 0.4])
    assert model.saved == [("weights", "best.npz")] * 2 and cb.best == 0.4


def test_model_checkpoint_threshold_and_bad_placeholder():
    cb = callbacks.ModelCheckpoint(
        "b.npz", save_best_only=True, initial_value_threshold=0.45
    )
    model, _, _ = run([cb], [0.5, 0.4])
    assert model.saved == [("model", "b.npz")]
    cb = callbacks.ModelCheckpoint("m-{val_acc}.npz")
    with pytest.raises(KeyError, match="uses 'val_acc'"):
        run([cb], [0.5])


def test_csv_logger_writes_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    run([callbacks.CSVLogger(path)], [0.5, 0.4], extra={"loss": 1.5})
    run([callbacks.CSVLogger(path, append=True)], [0.3], extra={"loss": 1.0})
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1", "0"]
    assert [float(r["val_loss"]) for r in rows] == [0.5, 0.4, 0.3]
    assert list(rows[0]) == ["epoch", "loss", "val_loss"]


def test_csv_logger_marks_missing_keys(tmp_path):
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(path, separator=";")
    cb_list = callbacks.CallbackList([logger], model=FakeModel())
    cb_list.on_train_begin()
    cb_list.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    cb_list.on_epoch_end(1, {"loss": 0.5})
    cb_list.on_train_end()
    assert path.read_text().splitlines() == [
        "epoch;loss;val_loss",
        "0;1.0;2.0",
        "1;0.5;NA",
    ]


def test_terminate_on_nan_stops_after_the_batch(capsys):
    model = FakeModel()
    cb_list = callbacks.CallbackList([callbacks.TerminateOnNaN()], model=model)
    cb_list.on_train_batch_end(0, {"loss": 0.5})
    assert not model.stop_training
    cb_list.on_train_batch_end(1, {"loss": float("inf")})
    assert model.stop_training
    assert "Batch 1: Invalid loss" in capsys.readouterr().out


def test_lambda_callback_and_keras2_batch_alias():
    calls = []
    cb = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: calls.append(("epoch", epoch)),
        on_batch_end=lambda batch, logs: calls.append(("batch", batch)),
    )
    cb_list = callbacks.CallbackList([cb], model=FakeModel())
    assert cb_list.wants("on_train_batch_end") and not cb_list.wants("on_test_end")
    cb_list.on_train_batch_end(3, {})
    cb_list.on_epoch_end(0, {})
    assert calls == [("batch", 3), ("epoch", 0)]
    with pytest.raises(TypeError, match="unknown hook\\(s\\) \\['on_epoch_ended'\\]"):
        callbacks.LambdaCallback(on_epoch_ended=print)


def test_callback_list_rejects_non_callbacks():
    with pytest.raises(TypeError, match="Expected Callback instances"):
        callbacks.CallbackList([print])


def test_lambda_callbacks_written_for_keras_receive_logs_dicts(rng):
    """Keras passes ``logs`` (a dict, never None) to every hook, positionally."""
    from numnet import callbacks as cbs
    from numnet import layers as L
    from numnet import models as M

    seen = []
    lam = cbs.LambdaCallback(
        on_train_begin=lambda logs: seen.append(("begin", logs)),
        on_epoch_begin=lambda epoch, logs: seen.append(("epoch", logs)),
        on_train_end=lambda logs: seen.append(("end", sorted(logs))),
        on_test_begin=lambda logs: seen.append(("test", logs)),
        on_predict_end=lambda logs: seen.append(("predict", logs)),
    )
    model = M.Sequential([L.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    model.fit(x, y, epochs=1, verbose=0, callbacks=[lam])
    model.evaluate(x, y, verbose=0, callbacks=[lam])
    model.predict(x, verbose=0, callbacks=[lam])
    assert seen == [("begin", {}), ("epoch", {}), ("end", ["loss"]), ("test", {}),
                    ("predict", {})]  # fmt: skip
