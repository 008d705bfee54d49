"""Embedding (functional and layer), Masking, and masks flowing into RNNs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.layers.helpers import run_layer_test

import numnet
import numnet.functional as F
from numnet import layers
from numnet.autograd import strict_dtypes
from numnet.functional.embedding import scatter_add_rows


def test_embedding_forward_is_a_row_gather(rng):
    w = rng.normal(size=(7, 3))
    idx = rng.integers(0, 7, size=(4, 5))
    np.testing.assert_array_equal(F.embedding(idx, w).data, w[idx])


def test_scatter_add_matches_add_at(rng):
    idx = rng.integers(0, 9, size=50)  # many repeats
    rows = rng.normal(size=(50, 4))
    expected = np.zeros((9, 4))
    np.add.at(expected, idx, rows)
    np.testing.assert_allclose(scatter_add_rows(idx, rows, 9), expected, rtol=1e-12)


def test_embedding_gradcheck_with_repeated_ids(rng):
    w = rng.normal(size=(6, 3))
    idx = np.array([[1, 1, 5], [0, 1, 5]])
    assert numnet.gradcheck(lambda ids, w: F.embedding(ids, w), [idx, w])


def test_embedding_float32_gradient(rng):
    w = numnet.tensor(rng.normal(size=(6, 3)).astype(np.float32), requires_grad=True)
    with strict_dtypes():
        (F.embedding(np.array([[2, 2, 0]]), w) ** 2).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad[[1, 3, 4, 5]], 0)


@pytest.mark.parametrize(
    "ids, message",
    [(np.array([[0, 6]]), "out of range"), (np.array([[-1, 0]]), "out of range"),
     (np.array([[0.5, 1.0]]), "integers")],
)  # fmt: skip
def test_embedding_bad_ids(ids, message):
    with pytest.raises(ValueError, match=message):
        F.embedding(ids, np.zeros((6, 2), np.float32))


def test_embedding_layer(rng):
    layer = layers.Embedding(10, 4)
    ids = rng.integers(0, 10, size=(3, 5))
    y = layer(ids)
    assert y.shape == (3, 5, 4) and y.dtype == np.float32
    w = layer.get_weights()[0]
    assert w.shape == (10, 4) and np.abs(w).max() <= 0.05  # Keras "uniform"
    assert not hasattr(y, "_keras_mask")
    (y * y).sum().backward()
    expected = np.zeros_like(w)
    np.add.at(expected, ids.reshape(-1), 2 * w[ids].reshape(-1, 4))
    np.testing.assert_allclose(layer.embeddings.grad, expected, rtol=1e-6)
    assert np.array_equal(layer(ids.astype(np.float32)).data, y.data)  # float ids


def test_embedding_gradcheck_layer(float64, rng):
    layer = layers.Embedding(5, 3)
    ids = rng.integers(0, 5, size=(2, 4))
    layer(ids)
    assert numnet.gradcheck(lambda i: layer(i), [ids], wrt=layer.trainable_weights)


def test_embedding_mask_zero_and_config(rng):
    layer = layers.Embedding(10, 4, mask_zero=True, name="emb")
    ids = np.array([[3, 1, 0, 0], [5, 2, 7, 0]])
    y = layer(ids)
    np.testing.assert_array_equal(y._keras_mask, ids != 0)
    clone = layers.Embedding.from_config(json.loads(json.dumps(layer.get_config())))
    clone(ids)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(ids).data, y.data)
    assert clone.mask_zero


def test_embedding_from_given_weights_and_frozen(rng):
    vectors = rng.normal(size=(6, 2)).astype(np.float32)
    layer = layers.Embedding(6, 2, weights=[vectors], trainable=False)
    np.testing.assert_array_equal(layer(np.array([[4]])).data[0, 0], vectors[4])
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 1
    with pytest.raises(ValueError, match="shape"):
        layers.Embedding(6, 3, weights=[vectors])


@pytest.mark.parametrize(
    "build, message",
    [(lambda: layers.Embedding(0, 3), "input_dim"),
     (lambda: layers.Embedding(4, -1), "output_dim"),
     (lambda: layers.Embedding(4, 2, mask_zero="yes"), "mask_zero"),
     (lambda: layers.Embedding(4, 2)(np.array([[4]])), "out of range"),
     (lambda: layers.Masking(mask_value="pad"), "mask_value")],
)  # fmt: skip
def test_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def _padded_steps(rng):
    x = rng.normal(size=(2, 5, 3))
    x[0, 3:] = 0.0
    x[1, 1] = 0.0  # a gap in the middle is skipped too
    return x


def test_masking_layer_contract(rng):
    # no finite differences: a padded step is a kink (any perturbation unmasks it)
    run_layer_test(lambda: layers.Masking(), (2, 5, 3), input_fn=_padded_steps,
                   expected_output_shape=(2, 5, 3), gradcheck=False)  # fmt: skip
    x = numnet.tensor(_padded_steps(rng).astype(np.float32), requires_grad=True)
    y = layers.Masking()(x)
    expected = np.ones((2, 5), bool)
    expected[0, 3:] = expected[1, 1] = False
    np.testing.assert_array_equal(y._keras_mask, expected)
    np.testing.assert_array_equal(y.data, x.data)
    g = rng.normal(size=y.shape).astype(np.float32)
    y.backward(g)
    np.testing.assert_array_equal(x.grad, g * expected[..., None])
    z = layers.Masking(mask_value=-1.0)(np.full((1, 2, 3), -1.0, np.float32))
    assert not z._keras_mask.any() and not z.data.any()


@pytest.mark.parametrize("rnn", [lambda: layers.LSTM(3), lambda: layers.GRU(3),
                                 lambda: layers.SimpleRNN(3)])  # fmt: skip
def test_padded_batch_equals_each_sequence_alone(rng, rnn):
    """Embedding(mask_zero) + RNN on a padded batch == the RNN on each unpadded row."""
    emb, layer = layers.Embedding(12, 4, mask_zero=True), rnn()
    ids = np.array([[5, 3, 9, 0, 0, 0], [7, 1, 2, 4, 8, 11], [2, 0, 0, 0, 0, 0]])
    batch = layer(emb(ids)).data
    for n, row in enumerate(ids):
        alone = layer(emb(row[row != 0][None])).data
        np.testing.assert_allclose(batch[n], alone[0], rtol=1e-5, atol=1e-6)


def test_padded_batch_bidirectional_equals_each_sequence_alone(rng):
    emb = layers.Embedding(12, 4, mask_zero=True)
    bi = layers.Bidirectional(layers.LSTM(3))
    ids = np.array([[5, 3, 9, 0, 0], [7, 1, 2, 4, 8]])
    batch = bi(emb(ids)).data
    for n, row in enumerate(ids):
        alone = bi(emb(row[row != 0][None])).data
        np.testing.assert_allclose(batch[n], alone[0], rtol=1e-5, atol=1e-6)


def test_masking_then_lstm_gradcheck(float64, rng):
    masking, lstm = layers.Masking(), layers.LSTM(2, return_sequences=True)
    x = _padded_steps(rng)
    mask = masking(x)._keras_mask
    lstm(masking(x))

    def fn(t):  # the mask is pinned (finite differences would unmask padded steps)
        return lstm(t, mask=mask)

    assert numnet.gradcheck(fn, [x], wrt=lstm.trainable_weights)
    out = lstm(masking(x)).data
    np.testing.assert_array_equal(out[0, 3:], 0)
    np.testing.assert_array_equal(out[1, 1], 0)
