"""Padding masks and device arrays meeting Tensors, on a device as on the CPU.

``Embedding(mask_zero=True)`` keeps its mask where the ids are, and recurrent
layers with ``return_sequences`` pass it on there (it was ``np.asarray`` of
the device ids: a silent copy to the host on CuPy, a refusal on "strict").
The outputs of a masked stack equal the CPU's. The ``device`` fixture
(``tests/conftest.py``) gives "strict" everywhere and "cuda" where CuPy finds a GPU.
"""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import backend, layers, models

V, T = 9, 6


def _masked_stack(recurrent):
    numnet.manual_seed(0)
    return models.Sequential(
        [
            layers.Input((T,), dtype="int64"),
            layers.Embedding(V, 4, mask_zero=True),
            recurrent,
            layers.LSTM(3),
            layers.Dense(2),
        ]
    )


STACKS = {
    "lstm": lambda: layers.LSTM(5, return_sequences=True),
    "gru": lambda: layers.GRU(5, return_sequences=True),
    "bidirectional": lambda: layers.Bidirectional(
        layers.SimpleRNN(5, return_sequences=True)
    ),
}


def _ids():
    ids = np.random.default_rng(1).integers(1, V, size=(4, T))
    ids[0, 3:] = ids[2, 1:] = 0  # padded at the end
    return ids


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_a_masked_recurrent_stack_on_a_device_matches_the_cpu(stack, device):
    ids = _ids()
    on_cpu = _masked_stack(STACKS[stack]()).predict(ids, verbose=0)
    model = _masked_stack(STACKS[stack]()).to(device)
    on_device = model.predict(ids, verbose=0)
    np.testing.assert_allclose(on_device, on_cpu, rtol=1e-5, atol=1e-6)


def test_the_mask_stays_on_the_device(device):
    embed = layers.Embedding(V, 4, mask_zero=True)
    rnn = layers.LSTM(3, return_sequences=True)
    embed(_ids()), rnn(embed(_ids()))  # build on the CPU
    embed.to(device), rnn.to(device)
    ids = numnet.device(device).put(_ids())
    with numnet.no_grad():
        for out in (embed(ids), rnn(embed(ids))):
            assert numnet.Tensor(out._keras_mask).device == numnet.device(device)
            np.testing.assert_array_equal(backend.to_host(out._keras_mask), _ids() != 0)


def test_a_device_array_times_a_tensor_is_a_tensor_there(device):
    # NumPy and CuPy defer ``array * tensor`` to Tensor.__rmul__ (its
    # ``__array_ufunc__ = None``); the strict namespace does the same
    weights = np.arange(1.0, 4.0, dtype=np.float32)
    on_device = numnet.device(device).put(weights)
    tensor = numnet.tensor(weights, device=device, requires_grad=True)
    product = on_device * tensor
    assert isinstance(product, numnet.Tensor) and product.device == tensor.device
    product.sum().backward()
    np.testing.assert_allclose(backend.to_host(tensor.grad), weights)


def _masked_heads():
    """Masked sequences through every layer that reads a mask."""
    numnet.manual_seed(0)
    ids = layers.Input((T,), dtype="int64")
    x = layers.Embedding(V, 4, mask_zero=True)(ids)
    cells = layers.RNN(layers.GRUCell(4), return_sequences=True)(x)
    attended = layers.Attention()([cells, x])
    additive = layers.AdditiveAttention()([x, cells])
    heads = layers.MultiHeadAttention(2, 3)(x, cells)
    pooled = [layers.GlobalAveragePooling1D()(t) for t in (attended, additive, heads)]
    return models.Model(ids, layers.Dense(2)(layers.Concatenate()(pooled)))


def test_every_mask_reader_on_a_device_matches_the_cpu(device):
    ids = _ids()
    on_cpu = _masked_heads().predict(ids, verbose=0)
    on_device = _masked_heads().to(device).predict(ids, verbose=0)
    np.testing.assert_allclose(on_device, on_cpu, rtol=1e-5, atol=1e-6)


def test_an_explicit_attention_mask_from_the_host_on_a_device(device):
    rng = np.random.default_rng(2)
    q, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    keep = rng.random((2, 3, 5)) > 0.3
    numnet.manual_seed(0)
    layer = layers.MultiHeadAttention(2, 3)
    on_cpu = layer(q, v, attention_mask=keep).data
    layer.to(device)
    out = layer(q, v, attention_mask=numnet.device(device).put(keep))
    np.testing.assert_allclose(backend.to_host(out.data), on_cpu, rtol=1e-5, atol=1e-6)


def test_adapt_reset_states_and_histograms_on_a_device(device, tmp_path):
    data = np.random.default_rng(3).standard_normal((20, 3)).astype(np.float32)
    norm = layers.Normalization()
    norm(data[:2])  # built on the CPU
    norm.to(device)
    norm.adapt(numnet.device(device).put(data))  # device data, device weights
    np.testing.assert_allclose(backend.to_host(norm.mean.data).ravel(),
                               data.mean(axis=0), rtol=1e-5, atol=1e-6)  # fmt: skip
    rnn = layers.LSTM(2, stateful=True)
    rnn(np.zeros((2, 4, 3), np.float32))
    rnn.to(device)
    rnn.reset_states([np.ones((2, 2)), np.zeros((2, 2))])  # host states
    assert all(numnet.Tensor(s).device == numnet.device(device) for s in rnn.states)
    rnn(numnet.device(device).put(data[:8].reshape(2, 4, 3)))  # no mixed devices
    numnet.manual_seed(0)
    model = models.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile("adam", "mse", device=device)
    board = numnet.callbacks.TensorBoard(str(tmp_path), histogram_freq=1)
    model.fit(data, data[:, :2], epochs=1, verbose=0, callbacks=[board])
    assert any(tmp_path.rglob("events.out.tfevents.*"))
