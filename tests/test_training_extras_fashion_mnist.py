"""Gradient accumulation, EMA, SwapEMAWeights, BackupAndRestore and the new
schedules training a real model on a Fashion-MNIST subset."""

from __future__ import annotations

from tests.example_helpers import fashion_mnist_subset, needs_fashion_mnist

import numnet
from numnet import callbacks, layers, models, optimizers
from numnet.optimizers import schedules


@needs_fashion_mnist
def test_accumulation_and_ema_train_fashion_mnist_above_chance(tmp_path):
    (x, y), (x_test, y_test) = fashion_mnist_subset()
    numnet.manual_seed(0)
    model = models.Sequential(
        [layers.Input((784,)), layers.Dense(64, activation="relu"), layers.Dense(10)]
    )
    # 2 epochs of 125 batches of 32, in windows of 2: 125 applied steps
    lr = schedules.CosineDecayRestarts(0.003, first_decay_steps=50, alpha=0.1)
    optimizer = optimizers.Adam(
        lr, use_ema=True, ema_momentum=0.9, gradient_accumulation_steps=2
    )
    model.compile(
        optimizer,
        numnet.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(
        x, y, batch_size=32, epochs=2, verbose=0,
        validation_data=(x_test[:200], y_test[:200]),
        callbacks=[callbacks.SwapEMAWeights(),
                   callbacks.BackupAndRestore(tmp_path / "backup")],
    )  # fmt: skip
    assert optimizer.iterations == 125
    assert history.history["loss"][-1] < history.history["loss"][0]
    accuracy = (model.predict(x_test, verbose=0).argmax(-1) == y_test).mean()
    # chance is 0.10 on 10 balanced classes; a linear model reaches ~0.80 here, so
    # 0.70 with the averaged weights after two epochs on 4,000 images shows that
    # the accumulated steps learn and that the average is of trained weights
    assert accuracy > 0.70, accuracy
    assert not (tmp_path / "backup").exists()
