"""Every way of feeding ``fit``, ``evaluate`` and the batch methods, on a device.

Each variant (two outputs as a list or a dict, sample and class weights, a
validation split, a DataLoader, a generator, ``train_on_batch`` and its
siblings, and a dataset that already lives on the device) runs on the CPU and
on the device from the same weights and gives the same numbers. The ``device``
fixture (``tests/conftest.py``) gives "strict" everywhere and "cuda" where CuPy
finds a GPU.
"""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import data, layers, models

RNG = np.random.default_rng(0)
X = RNG.standard_normal((24, 4)).astype(np.float32)
LABELS = RNG.integers(0, 3, 24)
TARGETS = RNG.standard_normal((24, 1)).astype(np.float32)
WEIGHTS = RNG.random(24).astype(np.float32)


def _classifier(device):
    numnet.manual_seed(0)
    model = models.Sequential([layers.Input((4,)), layers.Dense(3)])
    loss = numnet.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile("adam", loss, metrics=["accuracy"], device=device)
    return model


def _two_outputs(device):
    numnet.manual_seed(0)
    inputs = layers.Input((4,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    outputs = [layers.Dense(3, name="cls")(hidden), layers.Dense(1, name="reg")(hidden)]
    model = models.Model(inputs, outputs)
    model.compile("adam", ["sparse_categorical_crossentropy", "mse"],
                  metrics=[["accuracy"], []], loss_weights=[1.0, 0.5],
                  device=device)  # fmt: skip
    return model


def _on(device, array):
    return numnet.device(device).put(array)


FIT = {"batch_size": 8, "epochs": 2, "verbose": 0, "shuffle": False}

VARIANTS = {
    "two outputs, list": lambda d: _two_outputs(d).fit(X, [LABELS, TARGETS], **FIT),
    "two outputs, dict": lambda d: _two_outputs(d).fit(
        X, {"cls": LABELS, "reg": TARGETS}, **FIT
    ),
    "sample_weight": lambda d: _classifier(d).fit(
        X, LABELS, sample_weight=WEIGHTS, **FIT
    ),
    "class_weight": lambda d: _classifier(d).fit(
        X, LABELS, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, **FIT
    ),
    "validation_split": lambda d: _classifier(d).fit(
        X, LABELS, validation_split=0.25, **FIT
    ),
    "DataLoader": lambda d: _classifier(d).fit(
        data.DataLoader((X, LABELS), batch_size=8), epochs=2, verbose=0
    ),
    "generator": lambda d: _classifier(d).fit(
        ((X[i : i + 8], LABELS[i : i + 8]) for i in range(0, 24, 8)),
        steps_per_epoch=3,
        epochs=1,
        verbose=0,
    ),
    "dataset on the device": lambda d: _classifier(d).fit(
        _on(d, X),
        _on(d, LABELS),
        validation_data=(_on(d, X), _on(d, LABELS)),
        class_weight={0: 1.0, 1: 2.0, 2: 0.5},
        **FIT,
    ),  # fmt: skip
    "dataset on the device, shuffled": lambda d: (
        numnet.manual_seed(4),
        _classifier(d).fit(_on(d, X), _on(d, LABELS), batch_size=8, verbose=0),
    )[1],
}


def _numbers(result):
    if hasattr(result, "history"):
        return result.history
    return {"values": np.ravel(result)}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_fit_variant_on_the_device_matches_the_cpu(name, device):
    on_cpu = _numbers(VARIANTS[name]("cpu"))
    on_device = _numbers(VARIANTS[name](device))
    assert on_device.keys() == on_cpu.keys()
    for key in on_cpu:
        np.testing.assert_allclose(on_device[key], on_cpu[key], rtol=1e-4, atol=1e-6)


BATCH_METHODS = {
    "train_on_batch": lambda m, x, y: m.train_on_batch(x, y, class_weight={0: 2.0}),
    "test_on_batch": lambda m, x, y: m.test_on_batch(x, y),
    "predict_on_batch": lambda m, x, y: m.predict_on_batch(x),
    "evaluate": lambda m, x, y: m.evaluate(x, y, batch_size=8, verbose=0),
    "predict": lambda m, x, y: m.predict(x, batch_size=8, verbose=0),
}


@pytest.mark.parametrize("data_on_device", [False, True], ids=["host", "device"])
@pytest.mark.parametrize("name", sorted(BATCH_METHODS))
def test_batch_method_on_the_device_matches_the_cpu(name, data_on_device, device):
    x, y = (_on(device, X), _on(device, LABELS)) if data_on_device else (X, LABELS)
    on_cpu = BATCH_METHODS[name](_classifier("cpu"), X, LABELS)
    result = BATCH_METHODS[name](_classifier(device), x, y)
    if name.startswith("predict"):
        assert isinstance(result, np.ndarray)
    np.testing.assert_allclose(np.ravel(result), np.ravel(on_cpu), rtol=1e-5, atol=1e-6)
