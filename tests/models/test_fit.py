"""compile/fit/evaluate/predict/train_on_batch on tiny problems."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import callbacks, layers, losses, models, optimizers


def blobs(rng, n=240, d=4, classes=3):
    """Separable Gaussian blobs: x float32 (n, d), y int labels."""
    centers = rng.normal(scale=4.0, size=(classes, d))
    y = rng.integers(0, classes, n)
    x = (centers[y] + rng.normal(size=(n, d))).astype(np.float32)
    return x, y


def mlp(d=4, classes=3, hidden=16, **kw):
    return models.Sequential(
        [
            layers.Dense(hidden, activation="relu", input_shape=(d,)),
            layers.Dense(classes, activation="softmax"),
        ],
        **kw,
    )


def test_fit_learns_and_reports_history(rng):
    x, y = blobs(rng)
    model = mlp()
    model.compile(
        optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        x, y, batch_size=32, epochs=15, verbose=0, validation_split=0.25
    )
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 15 and history.epoch == list(range(15))
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9
    assert model.history is history
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9 and loss == pytest.approx(
        model.evaluate(x, y, batch_size=7, verbose=0)[0], rel=1e-5
    )


def test_epoch_metrics_are_the_mean_over_the_epoch(rng):
    x, y = blobs(rng, n=50)
    model = mlp()
    model.compile(
        optimizers.SGD(0.0), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    # lr 0: weights fixed, so the epoch loss equals evaluate's (batch-size weighted)
    loss, acc = model.evaluate(x, y, verbose=0)
    assert history.history["loss"][0] == pytest.approx(loss, rel=1e-5)
    assert history.history["accuracy"][0] == pytest.approx(acc)


def test_predict_is_batched_float32_and_deterministic(rng):
    x, _ = blobs(rng, n=70)
    model = models.Sequential(
        [layers.Dense(8, input_shape=(4,)), layers.Dropout(0.5), layers.Dense(2)]
    )
    out = model.predict(x, batch_size=16, verbose=0)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert out.shape == (70, 2)
    np.testing.assert_array_equal(out, model.predict(x, batch_size=70, verbose=0))
    np.testing.assert_array_equal(out[:5], model.predict_on_batch(x[:5]))
    assert not model.training  # modes restored


def test_train_on_batch_and_test_on_batch(rng):
    x, y = blobs(rng, n=32)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.test_on_batch(x, y)
    for _ in range(30):
        loss, acc = model.train_on_batch(x, y)
    after = model.test_on_batch(x, y, return_dict=True)
    assert set(after) == {"loss", "accuracy"}
    assert after["loss"] < before[0]
    assert model.optimizer.iterations == 30


def test_train_step_is_what_the_docstring_says(rng):
    """One fit step equals forward + loss + backward + Adam by hand."""
    x, y = blobs(rng, n=16)
    numnet.manual_seed(3)
    model = mlp()
    numnet.manual_seed(3)
    twin = mlp()
    model.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    opt = optimizers.Adam(0.01)
    loss = losses.SparseCategoricalCrossentropy()(y, twin(x, training=True))
    loss.backward()
    opt.apply(twin.trainable_weights)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_regularization_loss_is_added(rng):
    x, y = blobs(rng, n=20)
    model = models.Sequential(
        [layers.Dense(3, input_shape=(4,), kernel_regularizer="l2")]
    )
    model.compile(
        optimizers.SGD(0.0), losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    plain = losses.SparseCategoricalCrossentropy(from_logits=True)(y, model(x))
    penalty = model.regularization_loss().item()
    assert penalty > 0
    assert model.evaluate(x, y, batch_size=20, verbose=0) == pytest.approx(
        plain.item() + penalty, rel=1e-5
    )


def test_frozen_layer_is_not_updated_and_counted_non_trainable(rng):
    x, y = blobs(rng)
    model = mlp()
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(frozen, model.layers[0].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2
    text = model.summary_string()
    assert "Trainable params: 51 " in text and "Non-trainable params: 80 " in text


def test_batchnorm_statistics_move_in_fit_only(rng):
    x, y = blobs(rng)
    model = models.Sequential(
        [
            layers.Dense(8, input_shape=(4,)),
            layers.BatchNormalization(),
            layers.Dense(3),
        ]
    )
    bn = model.layers[1]
    start = [w.copy() for w in bn.get_weights()[2:]]
    model.summary(print_fn=lambda s: None)  # dry runs leave the statistics alone
    model.predict(x, verbose=0)
    for a, b in zip(start, bn.get_weights()[2:], strict=True):
        np.testing.assert_array_equal(a, b)
    model.compile("adam", losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.allclose(start[0], bn.get_weights()[2])


def test_dropout_active_in_fit_for_a_subclassed_model(rng):
    seen = []

    class Probe(layers.Layer):
        def call(self, x, training=False):
            seen.append(training)
            return x

    class Net(models.Model):
        def __init__(self):
            super().__init__()
            self.probe = Probe()
            self.out = layers.Dense(3)

        def call(self, x, training=False):
            return self.out(self.probe(x))  # no training= passed down

    x, y = blobs(rng, n=8)
    net = Net()
    net.compile("sgd", losses.SparseCategoricalCrossentropy(from_logits=True))
    net.fit(x, y, epochs=1, batch_size=8, verbose=0)
    net.predict(x, verbose=0)
    assert seen[-2:] == [True, False] and not net.probe.training


def test_initial_epoch_and_steps_per_epoch(rng):
    x, y = blobs(rng, n=100)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(
        x, y, epochs=5, initial_epoch=3, batch_size=10, steps_per_epoch=4, verbose=0
    )
    assert history.epoch == [3, 4] and model.optimizer.iterations == 8


def test_sample_and_class_weights(rng):
    x, y = blobs(rng, n=30)
    model = mlp()
    model.compile(optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    per_sample = losses.SparseCategoricalCrossentropy(reduction="none")(
        y, model(x)
    ).data
    weights = {0: 2.0, 1: 0.0, 2: 1.0}
    sw = np.array([weights[int(c)] for c in y], np.float32)
    expected = float((per_sample * sw).sum() / len(y))
    assert model.train_on_batch(x, y, class_weight=weights) == pytest.approx(
        expected, rel=1e-5
    )
    h = model.fit(x, y, sample_weight=sw, batch_size=30, verbose=0, shuffle=False)
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_stop_training_from_a_callback_ends_after_the_batch(rng):
    x, y = blobs(rng, n=100)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")

    def stop(batch, logs):
        if batch == 2:
            model.stop_training = True

    history = model.fit(
        x,
        y,
        epochs=3,
        batch_size=10,
        verbose=0,
        callbacks=[callbacks.LambdaCallback(on_train_batch_end=stop)],
    )
    assert model.optimizer.iterations == 3 and history.epoch == [0]


def test_terminate_on_nan_stops_at_the_first_bad_batch(rng, capsys):
    x, _ = blobs(rng, n=40)
    y = x[:, :1].copy()
    y[5] = np.nan
    model = models.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile("adam", "mse")
    model.check_finite_inputs = False  # NaN on purpose: fit would refuse it
    history = model.fit(
        x,
        y,
        batch_size=10,
        epochs=3,
        shuffle=False,
        verbose=0,
        callbacks=[callbacks.TerminateOnNaN()],
    )
    assert model.optimizer.iterations == 1 and history.epoch == [0]
    assert np.isnan(history.history["loss"][0])
    assert "Batch 0: Invalid loss" in capsys.readouterr().out


def test_early_stopping_in_a_real_fit_restores_the_best_weights(rng):
    x, y = blobs(rng, n=60)
    model = mlp()
    model.compile(optimizers.SGD(5.0), "sparse_categorical_crossentropy")  # diverges
    es = callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    seen = []
    keep = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(model.get_weights())
    )
    history = model.fit(x, y, epochs=30, verbose=0, callbacks=[keep, es])
    best = int(np.argmin(history.history["loss"]))
    for a, b in zip(model.get_weights(), seen[best], strict=True):
        np.testing.assert_array_equal(a, b)


def test_verbose_modes_output(rng, capsys):
    x, y = blobs(rng, n=40)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, validation_data=(x, y))  # "auto": not a TTY -> 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and len(lines) == 4
    assert lines[1].startswith("2/2 - ") and "val_accuracy" in lines[1]
    model.fit(x, y, epochs=1, verbose=1)  # bar, but no \r into a pipe
    out = capsys.readouterr().out
    assert "\r" not in out and "2/2 [====" in out
    model.evaluate(x, y)
    assert capsys.readouterr().out == ""  # auto -> 2: evaluate prints no bar


def test_multi_output_functional_model_if_available(rng):
    functional = pytest.importorskip("numnet.models.functional")
    assert functional is not None
    inputs = layers.Input((4,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    a = layers.Dense(3, name="label")(hidden)
    b = layers.Dense(1, name="score")(hidden)
    model = models.Model(inputs, [a, b])
    model.compile(
        "adam",
        loss={
            "label": losses.SparseCategoricalCrossentropy(from_logits=True),
            "score": "mse",
        },
        loss_weights={"score": 0.5},
        metrics={"label": ["accuracy"]},
    )
    x, y = blobs(rng, n=64)
    score = x[:, :1] * 0.5
    history = model.fit(x, {"label": y, "score": score}, epochs=3, verbose=0)
    assert {"loss", "label_loss", "score_loss", "label_accuracy"} <= set(
        history.history
    )
    first = history.history
    assert first["loss"][0] == pytest.approx(
        first["label_loss"][0] + 0.5 * first["score_loss"][0], rel=1e-5
    )


def test_python_lists_are_data_not_several_inputs():
    model = models.Sequential([layers.Dense(3, input_shape=(2,))])
    model.compile("sgd", losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 2]
    history = model.fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(model.train_on_batch(x, y))
    assert model.predict_on_batch([[1, 2]]).shape == (1, 3)
