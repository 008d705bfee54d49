"""Sequence masks pass through layers that keep the time axis (Keras semantics)."""

from __future__ import annotations

import numpy as np

from numnet import layers


def test_mask_survives_dropout_and_dense_between_embedding_and_lstm(rng):
    tokens = np.array([[3, 5, 0, 0], [7, 1, 2, 0]])
    embed = layers.Embedding(10, 4, mask_zero=True)
    hidden = layers.Dense(6)(layers.Dropout(0.5)(embed(tokens), training=True))
    np.testing.assert_array_equal(hidden._keras_mask, tokens != 0)
    lstm = layers.LSTM(3, return_sequences=True)
    out = lstm(hidden).data
    assert np.all(out[0, 2:] == 0) and np.all(out[1, 3] == 0)


def test_layers_that_change_the_time_axis_drop_the_mask():
    x = layers.Embedding(10, 4, mask_zero=True)(np.array([[3, 0], [1, 2]]))
    assert getattr(layers.Flatten()(x), "_keras_mask", None) is None
