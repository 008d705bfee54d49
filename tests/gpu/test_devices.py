"""Devices, moves and training on a second device, proved on the CPU.

The strict array namespace (``tests/strict_namespace.py``: NumPy behind a wall
that refuses every silent conversion) is registered as a device named
"strict", the way CuPy is registered as "cuda". Everything the GPU path does
besides the CUDA kernels themselves (moving weights, optimizer slots and
batches; refusing mixed devices; accumulating metrics on the device; saving
from and loading onto it) runs here, on every machine.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from tests.gpu.strict_device import strict_device as registered_strict_device
from tests.strict_namespace import SLIPS, STRICT, StrictArray, to_numpy

import numnet
from numnet import layers
from numnet.backend import device as device_module


@pytest.fixture(autouse=True)
def strict_device():
    """Register the strict namespace as the device "strict" (and fail on slips)."""
    with registered_strict_device() as seeds:
        yield seeds


def test_device_objects_parse_compare_and_print():
    cpu = numnet.device("cpu")
    assert cpu == numnet.device("CPU") == "cpu" and cpu.xp is np
    assert repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu"
    strict = numnet.device("strict:0")
    assert strict == numnet.device("strict") and strict != cpu
    assert repr(strict) == "device(type='strict', index=0)"
    assert strict.xp is STRICT and strict.ops.xp is STRICT
    assert len({numnet.device("strict"), strict}) == 1
    with pytest.raises(ValueError, match="unknown device type 'tpu'"):
        numnet.device("tpu")
    with pytest.raises(ValueError, match="invalid device index"):
        numnet.device("strict:x")
    with pytest.raises(TypeError, match="expected a string"):
        numnet.device(3)


@pytest.mark.skipif(
    importlib.util.find_spec("cupy") is not None, reason="CuPy is installed"
)
def test_cuda_without_cupy_names_the_gpu_extra():
    with pytest.raises(ImportError, match=r"numnet\[gpu\]"):
        numnet.device("cuda")


def test_tensor_to_moves_data_and_gradients_back():
    x = numnet.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    assert x.device == "cpu"
    y = x.to("strict")
    assert isinstance(y.data, StrictArray) and y.device == "strict"
    assert x.to("cpu") is x and y.to("strict") is y
    (y * y).sum().backward()
    assert isinstance(x.grad, np.ndarray)  # moved back to x's device
    np.testing.assert_allclose(x.grad, 2 * x.data)
    host = y.numpy()
    assert isinstance(host, np.ndarray) and host is not y.data
    np.testing.assert_array_equal(host, x.data)
    t = numnet.tensor(np.ones(3), device="strict")
    assert t.device == "strict" and t.dtype == np.float32
    assert t.cpu().device == "cpu"


def test_calling_a_device_model_moves_host_data_but_not_tensors():
    numnet.manual_seed(0)
    model = numnet.models.Sequential([layers.Dense(3, input_shape=(4,))])
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    expected = model(x).data
    model.to("strict")
    y = model(x)  # NumPy data goes where the model is, as in fit (Keras)
    assert isinstance(y.data, StrictArray)
    np.testing.assert_allclose(to_numpy(y.data), expected, rtol=1e-6)
    with pytest.raises(RuntimeError, match=r"cpu \(ndarray\) and strict"):
        model(numnet.tensor(x))  # a CPU Tensor is the caller's to move (PyTorch)
    attention = layers.MultiHeadAttention(2, 3)
    q = np.ones((1, 2, 4), np.float32)
    attention(q, q)
    attention.to("strict")
    assert attention(q, q).device == "strict"  # a NumPy value moves with the query
    with pytest.raises(RuntimeError, match=r"cpu \(ndarray\) and strict"):
        attention(q, numnet.tensor(q))  # a CPU Tensor as the value does not
    SLIPS.clear()  # the strict namespace recorded the refused raw ndarray


def test_weights_of_a_device_model_come_out_as_numpy_and_go_back_in():
    model = numnet.models.Sequential([layers.Dense(3, input_shape=(4,))])
    model.to("strict")
    host = model.get_weights()  # Keras: a list of NumPy arrays, from any device
    assert all(isinstance(w, np.ndarray) for w in host)
    model.set_weights([2 * w for w in host])
    assert all(isinstance(w.data, StrictArray) for w in model.weights)
    np.testing.assert_array_equal(to_numpy(model.weights[0].data), 2 * host[0])
    model.set_weights([w.data for w in model.weights])  # device arrays too
    with pytest.raises(ValueError, match="must match shape"):
        model.set_weights([host[0][:2], host[1]])


def test_factories_take_a_device_and_like_keeps_the_device_of_its_input():
    made = [
        numnet.zeros(2, 3, device="strict"),
        numnet.ones((2, 3), device="strict"),
        numnet.full((2, 3), 7.0, device="strict"),
        numnet.arange(6, device="strict"),
        numnet.linspace(0, 1, 6, device="strict"),
        numnet.eye(3, device="strict"),
    ]
    assert all(t.device == "strict" and isinstance(t.data, StrictArray) for t in made)
    assert made[3].dtype == np.int64 and made[4].dtype == np.float32
    np.testing.assert_array_equal(to_numpy(made[5].data), np.eye(3))
    x = numnet.tensor(np.arange(6.0).reshape(2, 3), device="strict")
    for like, value in ((numnet.zeros_like, 0), (numnet.ones_like, 1)):
        y = like(x)
        assert y.device == "strict" and y.shape == x.shape and y.dtype == x.dtype
        np.testing.assert_array_equal(to_numpy(y.data), np.full((2, 3), value))
    z = numnet.full_like(x.data, 2, dtype=np.int32)  # a raw device array works too
    assert z.device == "strict" and z.dtype == np.int32


@pytest.mark.parametrize(
    "index",
    [
        np.array([0, 2, 2]),
        np.array([True, False, True]),
        [2, 0],
        (slice(None), np.array([1, 3])),
    ],
    ids=["int-array", "bool-mask", "list", "tuple"],
)
def test_host_indices_and_0d_host_arrays_work_on_a_device_tensor(index):
    host = np.arange(12.0).reshape(3, 4)
    x = numnet.tensor(host, requires_grad=True)
    y = numnet.tensor(host, device="strict", requires_grad=True)
    (x[index] * np.array(2.0)).sum().backward()  # a 0-d host array: a number
    out = y[index] * np.array(2.0)
    assert out.device == "strict"
    out.sum().backward()
    np.testing.assert_array_equal(to_numpy(out.data), x[index].data * 2)
    np.testing.assert_array_equal(to_numpy(y.grad), x.grad)  # repeats accumulate
    assert y.tolist() == host.tolist()


def _two_input_model():
    a, b = layers.Input((3,), name="a"), layers.Input((2,), name="b")
    joined = layers.Concatenate()([layers.Dense(4, activation="tanh")(a), b])
    return numnet.models.Model([a, b], layers.Dense(2)(joined))


def test_a_multi_input_model_fits_and_predicts_on_a_device():
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((16, 3)).astype(np.float32),
          rng.standard_normal((16, 2)).astype(np.float32)]  # fmt: skip
    y = rng.standard_normal((16, 2)).astype(np.float32)
    results = []
    for where in ("cpu", "strict"):
        numnet.manual_seed(0)
        model = _two_input_model()
        model.compile("adam", "mse", device=where)
        history = model.fit(xs, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        results.append((history.history["loss"], model.predict(xs, verbose=0),
                        model(xs)))  # fmt: skip
    (loss_cpu, out_cpu, call_cpu), (loss, out, call) = results
    np.testing.assert_allclose(loss, loss_cpu, rtol=1e-5)
    np.testing.assert_allclose(out, out_cpu, rtol=1e-5, atol=1e-6)
    assert call.device == "strict"  # NumPy inputs moved to the model's device


def test_mixing_devices_in_one_op_names_both_devices():
    a = numnet.tensor(np.ones((2, 3)))
    b = numnet.tensor(np.ones((2, 3)), device="strict")
    with pytest.raises(RuntimeError, match=r"cpu \(ndarray\) and strict"):
        a + b
    SLIPS.clear()  # the strict namespace recorded the refused raw ndarray


def test_manual_seed_seeds_every_device_generator(strict_device):
    numnet.manual_seed(7)
    assert strict_device == [7]


def _dropped(x, **kwargs):
    import numnet.functional as F

    return F.dropout(x, 0.5, **kwargs).data


def test_dropout_masks_are_drawn_by_the_device_generator():
    x = numnet.tensor(np.ones((64, 32), np.float32))
    xs = x.to("strict")
    numnet.manual_seed(2)
    draws = STRICT.random.draws
    first = _dropped(xs)
    assert STRICT.random.draws == draws + 1 and isinstance(first, StrictArray)
    numnet.manual_seed(2)  # seeds the device generator too: the same mask
    np.testing.assert_array_equal(to_numpy(_dropped(xs)), to_numpy(first))
    assert not np.array_equal(to_numpy(_dropped(xs)), to_numpy(first))
    assert set(np.unique(to_numpy(first))) == {0.0, 2.0}
    numnet.manual_seed(2)
    on_cpu = _dropped(x)
    numnet.manual_seed(2)
    with numnet.config.using(random_on_device=False):  # the host's draw
        np.testing.assert_array_equal(to_numpy(_dropped(xs)), on_cpu)
    draws = STRICT.random.draws
    with_seed = _dropped(xs, rng=5)  # an explicit seed: the host's generator
    assert STRICT.random.draws == draws
    np.testing.assert_array_equal(to_numpy(with_seed), _dropped(x, rng=5))


def _data(n=96):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 6, 5)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.int64) + 2 * (x[:, 0, 1] > 0)
    return x, y


def _mlp():
    return numnet.models.Sequential(
        [
            layers.Flatten(),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.1),
            layers.Dense(4),
        ]
    )


def _lstm():
    return numnet.models.Sequential([layers.LSTM(8), layers.Dense(4)])


def _fit(factory, device, optimizer):
    x, y = _data()
    numnet.manual_seed(0)
    model = factory()
    model.compile(
        optimizer=optimizer,
        loss=numnet.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        device=device,
    )
    # the device draws the CPU's dropout masks, so that the two runs agree
    with numnet.config.using(random_on_device=False):
        history = model.fit(
            x, y, batch_size=32, epochs=3, verbose=0, validation_data=(x[:32], y[:32])
        )
    return model, history.history


@pytest.mark.parametrize("factory", [_mlp, _lstm], ids=["mlp", "lstm"])
@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: numnet.optimizers.Adam(0.01),
        lambda: numnet.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
        lambda: numnet.optimizers.RMSprop(0.01),
    ],
    ids=["adam", "sgd-nesterov", "rmsprop"],
)
def test_fit_on_a_second_device_matches_numpy(factory, optimizer):
    host_model, host = _fit(factory, None, optimizer())
    model, strict = _fit(factory, "strict", optimizer())
    assert model.device == "strict"
    assert all(isinstance(w.data, StrictArray) for w in model.weights)
    for slot in model.optimizer.variables:
        assert isinstance(slot, StrictArray)
    assert strict["loss"][-1] < strict["loss"][0]
    for key in host:
        np.testing.assert_allclose(strict[key], host[key], rtol=2e-4, atol=1e-6)
    for a, b in zip(host_model.weights, model.weights, strict=True):
        np.testing.assert_allclose(to_numpy(b.data), a.data, rtol=1e-3, atol=1e-5)


def test_evaluate_and_predict_on_a_device_return_host_values():
    model, _ = _fit(_mlp, "strict", "adam")
    x, y = _data(40)
    logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert all(isinstance(v, float) for v in logs.values())
    out = model.predict(x, batch_size=16, verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (40, 4)
    moved = model.to("cpu")
    assert moved is model and model.device == "cpu"
    np.testing.assert_allclose(model.predict(x, verbose=0), out, rtol=1e-5)


def test_model_to_moves_weights_and_optimizer_slots_both_ways():
    model, _ = _fit(_mlp, None, "adam")
    slots = [s.copy() for s in model.optimizer.variables]
    model.to("strict")
    assert all(isinstance(w.data, StrictArray) for w in model.weights)
    for before, after in zip(slots, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(to_numpy(after), before)
    x, y = _data(32)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # trains there
    model.to("cpu")
    assert all(isinstance(s, np.ndarray) for s in model.optimizer.variables)


def test_save_from_a_device_and_load_onto_either(tmp_path):
    model, _ = _fit(_mlp, "strict", "adam")
    path = tmp_path / "m.npz"
    model.save(path)
    x, _ = _data(8)
    expected = model.predict(x, verbose=0)
    on_cpu = numnet.models.load_model(path)
    assert on_cpu.device == "cpu"
    np.testing.assert_allclose(on_cpu.predict(x, verbose=0), expected, rtol=1e-6)
    on_strict = numnet.models.load_model(path, device="strict")
    assert all(isinstance(w.data, StrictArray) for w in on_strict.weights)
    assert all(isinstance(s, StrictArray) for s in on_strict.optimizer.variables)
    np.testing.assert_allclose(on_strict.predict(x, verbose=0), expected, rtol=1e-6)


def test_device_metrics_are_not_synced_at_every_batch():
    """Batch logs of a device model reach the progress bar throttled; a user
    callback reading batch logs gets every batch's exact floats."""
    seen = []

    class Record(numnet.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(logs["loss"])

    x, y = _data()
    model = _mlp()
    model.compile(
        "adam", numnet.losses.SparseCategoricalCrossentropy(from_logits=True),
        device="strict",
    )  # fmt: skip
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[Record()])
    assert len(seen) == 3 and all(isinstance(v, float) for v in seen)
    assert len(set(seen)) == 3  # a running mean: a new value at every batch
    tracker = model.metrics[0]
    assert isinstance(tracker.total, StrictArray)  # accumulated on the device


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: numnet.optimizers.Adam(0.01, amsgrad=True, clipnorm=1.0),
        lambda: numnet.optimizers.SGD(0.1, clipvalue=0.05, weight_decay=0.01),
        lambda: numnet.optimizers.RMSprop(0.01, centered=True, momentum=0.5),
        lambda: numnet.optimizers.Adagrad(0.1, global_clipnorm=2.0),
        lambda: numnet.optimizers.Nadam(0.01),
        lambda: numnet.optimizers.SGD(0.1),
        lambda: numnet.optimizers.Adamax(0.01, clipnorm=1.0),
        lambda: numnet.optimizers.Lion(0.001, weight_decay=0.01),
        lambda: numnet.optimizers.Adadelta(1.0),
        lambda: numnet.optimizers.Adam(
            0.01, use_ema=True, ema_overwrite_frequency=2, gradient_accumulation_steps=2
        ),
        lambda: numnet.optimizers.SGD(
            0.1, momentum=0.9, global_clipnorm=1.0, gradient_accumulation_steps=3
        ),
    ],
    ids=["amsgrad-clipnorm", "sgd-clipvalue-decay", "rmsprop-centered-momentum",
         "adagrad-global-clip", "nadam", "sgd-plain", "adamax-clipnorm",
         "lion-decay", "adadelta", "adam-ema-accumulate", "sgd-accumulate-clip"],
)  # fmt: skip
def test_every_optimizer_variant_runs_on_a_second_device(optimizer):
    host_model, host = _fit(_mlp, None, optimizer())
    model, strict = _fit(_mlp, "strict", optimizer())
    np.testing.assert_allclose(strict["loss"], host["loss"], rtol=2e-4, atol=1e-6)
    for a, b in zip(host_model.weights, model.weights, strict=True):
        np.testing.assert_allclose(to_numpy(b.data), a.data, rtol=1e-3, atol=1e-5)


def test_a_program_may_keep_its_own_device_attribute():
    class Net(numnet.models.Model):
        def __init__(self):
            super().__init__()
            self.device = "cuda:0"  # PyTorch habit: a plain attribute
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    net = Net()
    assert net.device == "cuda:0"
    assert layers.Dense(3).device == "cpu"


def test_a_device_with_prefetch_gets_every_batch_through_it():
    """The hook CuPy uses (pinned memory + a copy stream) sees each batch once,
    with Tensors unwrapped, and fit trains on what it yields."""
    calls = []

    def prefetch(batches, index, map_leaves):
        for part in batches:
            calls.append(index)
            yield tuple(
                map_leaves(lambda leaf: STRICT.asarray(np.asarray(leaf)), p)
                for p in part
            )

    device_module.register_device(
        device_module.DeviceKind(
            "fetching", lambda: STRICT, lambda a, i: STRICT.asarray(a),
            prefetch=prefetch,
        )
    )  # fmt: skip
    try:
        x, y = _data(64)
        model = _mlp()
        model.compile("sgd", numnet.losses.SparseCategoricalCrossentropy(True),
                      device="fetching:2")  # fmt: skip
        model.fit(numnet.tensor(x), y, batch_size=32, epochs=2, verbose=0)
        assert calls == [2, 2, 2, 2]
    finally:
        device_module.unregister_device("fetching")


@pytest.mark.skipif(
    importlib.util.find_spec("cupy") is not None, reason="CuPy is installed"
)
def test_gpu_benchmarks_without_cupy_say_why_and_fail():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--device", "cuda"],
        cwd=root, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "numnet[gpu]" in result.stdout


def test_comparing_with_a_device_name_never_loads_a_library():
    cpu = numnet.device("cpu")
    assert cpu != "cuda" and cpu != "cuda:1" and cpu == "cpu"
    assert numnet.device("strict:1") == "strict:1" != "strict"
