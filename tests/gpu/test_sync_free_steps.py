"""A training step on a device never waits for it (no host sync per batch).

``float(x)``, ``int(x)``, ``bool(x)`` or ``x.item()`` of a device array copies
it to the host and waits for every queued kernel: a batch-128 GPU step is
bound by kernel launches, so one such wait per step drains the queue the host
works ahead on. Here a full ``train_step`` (conv, pooling, batch norm, dropout,
dense, the sparse cross-entropy loss, accuracy, each optimizer) runs on the
strict test namespace (``tests/strict_namespace.py``), whose arrays record
every such conversion: none may happen but the label range check, which the
CuPy path leaves to the GPU (``numnet.backend.cupy_loss.LabelCheck``; fit
raises its error where it reads the logs). Nor may the step copy anything from
the host (dropout masks and noise are drawn with the device's generator,
``numnet.backend.draws``). Runs on the CPU.
"""

from __future__ import annotations

import sys
import traceback
import types

import numpy as np
import pytest
from tests.strict_namespace import SLIPS, STRICT, StrictArray, to_strict

import numnet
from numnet import layers as L
from numnet.models import training

#: the one host check a CPU namespace runs and the CUDA kernel replaces
ALLOWED = ("_as_int_labels",)


@pytest.fixture
def conversions(monkeypatch):
    """Every host conversion of a StrictArray, as the numnet function asking."""
    found = []
    for name in ("__bool__", "__float__", "__int__", "__index__"):
        original = getattr(StrictArray, name)

        def record(self, _original=original, _name=name):
            frames = [
                f for f in traceback.extract_stack()[:-1] if "numnet" in f.filename
            ]
            where = frames[-1].name if frames else "?"
            found.append(
                f"{_name} in {where} ({frames[-1].filename}:{frames[-1].lineno})"
            )
            return _original(self)

        monkeypatch.setattr(StrictArray, name, record)
    return found


@pytest.fixture
def copies_in(monkeypatch):
    """Every host-to-device copy (``xp.asarray`` of host data), as the numnet
    function asking."""
    found = []
    original = STRICT.asarray

    def record(obj, dtype=None, copy=None):
        if not isinstance(obj, StrictArray):
            stack = traceback.extract_stack()[:-1]
            frames = [f for f in stack if "src/numnet" in f.filename]
            found.append(
                f"{type(obj).__name__} in {frames[-1].name}" if frames else "?"
            )
        return original(obj, dtype, copy)

    # on the instance: another test's monkeypatch may have left a bound method there
    monkeypatch.setattr(STRICT, "asarray", record)
    return found


def _model(optimizer):
    model = numnet.models.Sequential(
        [
            L.Input((8, 8, 1)),
            L.Conv2D(4, 3, activation="relu"),
            L.MaxPooling2D(2),
            L.BatchNormalization(),
            L.Flatten(),
            L.Dense(16, activation="relu"),
            L.Dropout(0.2),
            L.Dense(10),
        ]
    )
    loss = numnet.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer, loss, metrics=["accuracy"])
    return model


OPTIMIZERS = {
    "adam": lambda: "adam",
    "nadam": lambda: "nadam",
    "adamax": lambda: "adamax",
    "lion": lambda: "lion",
    "adadelta": lambda: "adadelta",
    "rmsprop": lambda: "rmsprop",
    "sgd": lambda: numnet.optimizers.SGD(0.01, momentum=0.9),
    "adamw": lambda: "adamw",
    "clipnorm": lambda: numnet.optimizers.Adam(clipnorm=0.1),
    "global_clipnorm": lambda: numnet.optimizers.Adam(global_clipnorm=0.1),
}


def _built_on_the_strict_namespace(model, x, y) -> None:
    """One step on NumPy builds the weights and slots; then move them over."""
    model.train_step((x, y))
    for w in model.weights:
        w.data = to_strict(w.data)
    for slots in model.optimizer._slots:
        for key, value in slots.items():
            if isinstance(value, np.ndarray) and not key.startswith("_"):
                slots[key] = to_strict(value)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_a_train_step_converts_nothing_to_the_host(optimizer, conversions):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 10, 16)
    model = _model(OPTIMIZERS[optimizer]())
    _built_on_the_strict_namespace(model, x, y)
    SLIPS.clear()
    conversions.clear()
    for _ in range(2):
        logs = model.train_step((to_strict(x), to_strict(y)))
    assert not SLIPS, SLIPS
    assert all(isinstance(v, StrictArray) for v in logs.values()), logs
    unexpected = [c for c in conversions if c.split()[2] not in ALLOWED]
    assert not unexpected, unexpected
    assert conversions, "the recorder saw nothing: it cannot fail"


def _recurrent_model():
    return numnet.models.Sequential(
        [
            L.Input((5, 3)),
            L.LSTM(6, dropout=0.2, recurrent_dropout=0.3, return_sequences=True),
            L.GRU(6, dropout=0.1, recurrent_dropout=0.2),
            L.GaussianNoise(0.1),
            L.GaussianDropout(0.2),
            L.Dense(4),
        ]
    )


@pytest.mark.parametrize("kind", ["cnn", "recurrent"])
def test_a_train_step_copies_nothing_from_the_host(kind, copies_in):
    """Dropout, recurrent dropout and the noise layers draw on the device."""
    rng = np.random.default_rng(1)
    if kind == "cnn":
        model = _model("adam")
        x = rng.standard_normal((16, 8, 8, 1)).astype(np.float32)
    else:
        model = _recurrent_model()
        model.compile("adam", numnet.losses.SparseCategoricalCrossentropy(True))
        x = rng.standard_normal((16, 5, 3)).astype(np.float32)
    y = rng.integers(0, 4, 16)
    _built_on_the_strict_namespace(model, x, y)
    xs, ys = to_strict(x), to_strict(y)
    copies_in.clear()
    draws = STRICT.random.draws
    for _ in range(2):
        model.train_step((xs, ys))
    assert not copies_in, copies_in
    expected = 2 if kind == "cnn" else 2 * 6  # each draw of each step
    assert STRICT.random.draws - draws == expected
    with numnet.config.using(random_on_device=False):  # the host draws: copies
        model.train_step((xs, ys))
    assert len(copies_in) == expected // 2, copies_in


def test_fit_raises_the_errors_a_device_found_where_it_reads_the_logs(monkeypatch):
    def check_labels():
        raise ValueError("a label out of range, found on the GPU")

    fake = types.SimpleNamespace(check_labels=check_labels)
    monkeypatch.setitem(sys.modules, "numnet.backend.cupy_loss", fake)
    model = numnet.models.Sequential([L.Input((2,)), L.Dense(1)])
    logs = training._DeviceLogs(model, [])
    with pytest.raises(ValueError, match="found on the GPU"):
        logs.step({"loss": np.float32(1.0)})
    with pytest.raises(ValueError, match="found on the GPU"):
        logs.final()
    assert training._checked(model, {"loss": 1.0}) == {"loss": 1.0}  # on the CPU
    model.__dict__["_device"] = types.SimpleNamespace(type="cuda")
    with pytest.raises(ValueError, match="found on the GPU"):
        training._checked(model, {"loss": 1.0})


def test_python_numbers_in_ops_on_a_device_are_not_copied(copies_in):
    """``x * 0.5`` on device arrays passes 0.5 to the kernel as a scalar (a NumPy
    scalar of x's dtype), as PyTorch does, instead of copying a 0-d array: the
    arithmetic ops, maximum/minimum and where (``Function.scalar_operands``)."""
    x = numnet.tensor(to_strict(np.linspace(-1, 1, 6, dtype=np.float32)))
    x.requires_grad_()
    copies_in.clear()
    # (the sum joins each of the 6 elements)
    y = 0.5 * x + 1e-4 * (x * x).sum() - x / 4 + numnet.maximum(x, 0.25)
    y = y / 3 + np.float32(1.0) + np.array(2.0)  # NumPy scalars and 0-d arrays too
    y.sum().backward()
    assert not copies_in, copies_in
    assert isinstance(y.data, StrictArray) and y.dtype == np.float32
    assert isinstance(x.grad, StrictArray) and x.grad.dtype == np.float32
    h = np.linspace(-1, 1, 6, dtype=np.float32)
    expected = 0.5 + 6 * 2e-4 * h - 0.25 + (h > 0.25)
    np.testing.assert_allclose(STRICT.asnumpy(x.grad), expected / 3, rtol=1e-5)
