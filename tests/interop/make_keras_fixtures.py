"""Write the Keras fixture files the interop tests read (needs keras 3 and torch).

Run from the repository root when the fixtures must change:

    KERAS_BACKEND=torch python tests/interop/make_keras_fixtures.py

For each small model it writes ``<name>.keras`` (Keras 3 archive),
``<name>.weights.h5`` (Keras 3 weights), ``<name>.h5`` (Keras 2 legacy model
file) and ``<name>.npz`` (an input batch ``x`` and Keras's predictions ``y``).
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers as L  # noqa: E402

HERE = Path(__file__).parent / "fixtures"


def models():
    """name -> (model, input batch)"""
    rng = np.random.default_rng(0)
    cnn = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            L.Conv2D(4, 3, activation="relu"),
            L.BatchNormalization(),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(3, activation="softmax"),
        ]
    )
    rnn = keras.Sequential(
        [
            keras.Input((5, 3)),
            L.LSTM(4, return_sequences=True),
            L.GRU(3),
            L.Dense(2),
        ]
    )
    gru_v1 = keras.Sequential(
        [
            keras.Input((5, 3)),
            L.GRU(3, reset_after=False, return_sequences=True),
            L.SimpleRNN(2),
        ]
    )
    bidir = keras.Sequential(
        [
            keras.Input((5, 3)),
            L.Bidirectional(L.LSTM(2)),
            L.Dense(1),
        ]
    )
    embed = keras.Sequential(
        [
            keras.Input((6,), dtype="int32"),
            L.Embedding(10, 4),
            L.Flatten(),
            L.Dense(2),
        ]
    )
    sep = keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            L.DepthwiseConv2D(3, padding="same"),
            L.SeparableConv2D(4, 3),
            L.LayerNormalization(),
            L.GlobalAveragePooling2D(),
            L.Dense(2),
        ]
    )
    inp = keras.Input((6,))
    a = L.Dense(4, activation="tanh")(inp)
    b = L.Dense(4)(inp)
    merged = L.Concatenate()([L.Add()([a, b]), inp])
    functional = keras.Model(inp, L.Dense(2)(merged))
    x_img = rng.normal(size=(4, 8, 8, 1)).astype("float32")
    x_seq = rng.normal(size=(4, 5, 3)).astype("float32")
    return {
        "cnn": (cnn, x_img),
        "rnn": (rnn, x_seq),
        "gru_v1": (gru_v1, x_seq),
        "bidir": (bidir, x_seq),
        "embed": (embed, rng.integers(0, 10, size=(4, 6)).astype("int32")),
        "sep": (sep, rng.normal(size=(4, 8, 8, 2)).astype("float32")),
        "functional": (functional, rng.normal(size=(4, 6)).astype("float32")),
    }


def randomize(model, rng):
    """Random weights everywhere (BN statistics too) so that layouts matter."""
    weights = [
        rng.normal(scale=0.5, size=w.shape).astype("float32")
        for w in model.get_weights()
    ]
    model.set_weights(
        [
            np.abs(w) + 0.5 if w.ndim == 1 and "variance" in v.path else w
            for w, v in zip(weights, model.weights, strict=True)
        ]
    )


def main():
    HERE.mkdir(exist_ok=True)
    rng = np.random.default_rng(1)
    for name, (model, x) in models().items():
        randomize(model, rng)
        model.save(HERE / f"{name}.keras")
        model.save_weights(HERE / f"{name}.weights.h5")
        model.save(HERE / f"{name}.h5")
        y = model.predict(x, verbose=0)
        np.savez(HERE / f"{name}.npz", x=x, y=y)
        print(name, y.shape)


if __name__ == "__main__":
    main()
