"""fit on DataLoaders and generators, validation inputs, Ctrl-C."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from numnet import callbacks, data, layers, models


def small_problem(rng, n=64):
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = models.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("adam", "mse")
    return x, y, model


def test_fit_on_a_data_loader(rng):
    x, y, model = small_problem(rng)
    loader = data.DataLoader((x, y), batch_size=16, shuffle=True, seed=0)
    history = model.fit(
        loader,
        epochs=3,
        verbose=0,
        validation_data=data.DataLoader((x, y), batch_size=32),
    )
    assert model.optimizer.iterations == 12
    assert len(history.history["val_loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(loader, verbose=0) == pytest.approx(
        model.evaluate(x, y, verbose=0), rel=1e-5
    )
    assert model.predict(data.DataLoader((x, y), batch_size=10), verbose=0).shape == (
        64,
        1,
    )


def test_fit_on_a_generator_needs_steps_per_epoch(rng):
    x, y, model = small_problem(rng)

    def batches():
        while True:
            for i in range(0, 64, 16):
                yield x[i : i + 16], y[i : i + 16]

    with pytest.raises(ValueError, match="'steps_per_epoch'"):
        model.fit(batches(), epochs=1, verbose=0)
    model.fit(batches(), steps_per_epoch=4, epochs=2, verbose=0)
    assert model.optimizer.iterations == 8


def test_a_generator_running_dry_warns(rng):
    x, y, model = small_problem(rng)
    gen = ((x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16))
    with pytest.warns(UserWarning, match="ran out of data after 0 of 4"):
        model.fit(gen, steps_per_epoch=4, epochs=2, verbose=0)
    assert model.optimizer.iterations == 4


def test_y_with_a_loader_and_bad_batches_are_rejected(rng):
    x, y, model = small_problem(rng)
    loader = data.DataLoader((x, y), batch_size=16)
    with pytest.raises(ValueError, match="y must be None"):
        model.fit(loader, y, verbose=0)
    with pytest.raises(ValueError, match="tuple \\(x, y\\)"):
        model.fit([[x[:4]]] and iter([x[:4]]), steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="validation_split is only supported"):
        model.fit(loader, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(x, y, validation_data=(x,), verbose=0)


def test_ctrl_c_stops_after_the_current_batch_and_keeps_the_history(rng, capsys):
    x, y, model = small_problem(rng)
    snapshot = {}

    def interrupt(batch, logs):
        if batch == 2:
            os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C
            snapshot["iterations"] = model.optimizer.iterations

    handler = signal.getsignal(signal.SIGINT)
    history = model.fit(
        x,
        y,
        batch_size=8,
        epochs=5,
        verbose=0,
        callbacks=[callbacks.LambdaCallback(on_train_batch_end=interrupt)],
    )
    assert snapshot["iterations"] == 3 and model.optimizer.iterations == 3
    assert history.epoch == [0] and len(history.history["loss"]) == 1
    assert "Training interrupted (Ctrl-C)" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is handler  # restored
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # training can go on
    assert model.optimizer.iterations == 11


def test_second_ctrl_c_raises_at_once(rng):
    x, y, model = small_problem(rng)

    def interrupt_twice(batch, logs):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        model.fit(
            x,
            y,
            batch_size=8,
            epochs=1,
            verbose=0,
            callbacks=[callbacks.LambdaCallback(on_train_batch_end=interrupt_twice)],
        )
