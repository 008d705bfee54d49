"""Style transfer and every callback with a model that lives on a device.

Style transfer optimises the pixels on the network's device and returns the
same image as on the CPU; ``fit`` on the device runs each public callback
(checkpoints, early stopping with restored weights, learning-rate schedules,
logs) to the same history as on the CPU. The ``device`` fixture
(``tests/conftest.py``) gives "strict" everywhere and "cuda" where CuPy finds a GPU.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import numnet
from numnet import applications, callbacks, layers, models


def _feature_net():
    numnet.manual_seed(0)
    return models.Sequential(
        [
            layers.Input((12, 12, 3)),
            layers.Conv2D(4, 3, activation="relu", name="c1"),
            layers.Conv2D(4, 3, activation="relu", name="c2"),
        ]
    )


def test_style_transfer_runs_on_the_network_device(device):
    rng = np.random.default_rng(0)
    content = rng.random((12, 12, 3), dtype=np.float32)
    style = rng.random((12, 12, 3), dtype=np.float32)
    results = []
    for where in ("cpu", device):
        net = _feature_net().to(where)
        results.append(
            applications.run_style_transfer(
                net, ["c1", "c2"], content, style, content_layer="c2", steps=4, seed=1
            )
        )
    (image_cpu, history_cpu), (image, history) = results
    assert isinstance(image, np.ndarray) and image.shape == (1, 12, 12, 3)
    np.testing.assert_allclose(history["J"], history_cpu["J"], rtol=1e-4)
    np.testing.assert_allclose(image, image_cpu, rtol=1e-4, atol=1e-5)


CALLBACKS = {
    "BackupAndRestore": lambda d: callbacks.BackupAndRestore(str(d / "backup"), 3),
    "CSVLogger": lambda d: callbacks.CSVLogger(str(d / "log.csv")),
    "EarlyStopping": lambda d: callbacks.EarlyStopping(
        "val_loss", patience=1, restore_best_weights=True
    ),
    "LambdaCallback": lambda d: callbacks.LambdaCallback(
        on_batch_end=lambda batch, logs: float(logs["loss"])
    ),
    "LearningRateScheduler": lambda d: callbacks.LearningRateScheduler(
        lambda epoch, lr: lr * 0.5
    ),
    "ModelCheckpoint": lambda d: callbacks.ModelCheckpoint(
        str(d / "m_{epoch}.npz"), save_best_only=True
    ),
    "ProgbarLogger": lambda d: callbacks.ProgbarLogger(),
    "ReduceLROnPlateau": lambda d: callbacks.ReduceLROnPlateau(patience=1),
    "SwapEMAWeights": lambda d: callbacks.SwapEMAWeights(swap_on_epoch=True),
    "TensorBoard": lambda d: callbacks.TensorBoard(str(d / "logs")),
    "TerminateOnNaN": lambda d: callbacks.TerminateOnNaN(),
}


def _fit(device, callback, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((32, 6), dtype=np.float32)
    y = rng.integers(0, 3, 32)
    numnet.manual_seed(0)
    model = models.Sequential(
        [layers.Input((6,)), layers.Dense(8, activation="relu"), layers.Dense(3)]
    )
    loss = numnet.losses.SparseCategoricalCrossentropy(from_logits=True)
    # SwapEMAWeights needs an optimizer that keeps the averages
    optimizer = numnet.optimizers.Adam(use_ema=True)
    model.compile(optimizer, loss, metrics=["accuracy"], device=device)
    history = model.fit(x, y, batch_size=8, epochs=4, verbose=0,
                        validation_data=(x[:8], y[:8]), shuffle=False,
                        callbacks=[callback(tmp_path)])  # fmt: skip
    return history.history, model.get_weights()


@pytest.mark.parametrize("name", sorted(CALLBACKS))
def test_callback_in_a_device_fit_gives_the_cpu_history(name, device, tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "device").mkdir()
    history_cpu, weights_cpu = _fit("cpu", CALLBACKS[name], tmp_path / "cpu")
    history, weights = _fit(device, CALLBACKS[name], tmp_path / "device")
    assert history.keys() == history_cpu.keys()
    for key in history:
        np.testing.assert_allclose(history[key], history_cpu[key], rtol=1e-4)
    for a, b in zip(weights, weights_cpu, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_every_public_callback_has_a_case():
    public = {
        name
        for name, cls in inspect.getmembers(callbacks, inspect.isclass)
        if issubclass(cls, callbacks.Callback)
        and cls not in (callbacks.Callback, callbacks.CallbackList, callbacks.History)
    }
    assert public == set(CALLBACKS)
