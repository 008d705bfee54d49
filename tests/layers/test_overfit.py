"""Each layer family can fit a tiny dataset exactly with plain gradient descent.

A stack of layers that cannot drive the training loss of 12-16 samples to ~0
has a bug somewhere in its forward or backward pass that the gradchecks missed
(for example a state update in the wrong place).
"""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import layers, losses


def forward(stack, x, training):
    for layer in stack:
        x = layer(x, training=training)
    return x


def fit(stack, x, y, loss, steps, lr):
    """Full-batch gradient descent written out (no optimizer module needed)."""
    history = []
    for _ in range(steps):
        for layer in stack:
            layer.zero_grad()
        value = loss(y, forward(stack, x, training=True))
        value.backward()
        history.append(value.item())
        with numnet.no_grad():
            for layer in stack:
                for w in layer.trainable_weights:
                    w.data -= lr * w.grad
    return history


def classification_data(rng, n, shape, classes):
    return rng.normal(size=(n,) + shape).astype(np.float32), rng.integers(0, classes, n)


def test_dense_stack_overfits(rng):
    x, y = classification_data(rng, 16, (6,), 3)
    stack = [layers.Dense(32, activation="tanh"), layers.Dense(3, activation="softmax")]
    history = fit(stack, x, y, losses.SparseCategoricalCrossentropy(), 300, 0.5)
    assert history[-1] < 0.05 < history[0]
    assert np.all(forward(stack, x, False).data.argmax(1) == y)


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_normalization_stack_overfits_and_predicts_in_eval_mode(rng, norm):
    x, y = classification_data(rng, 16, (6,), 3)
    x = x * 5 + 3  # badly scaled inputs: normalization has work to do
    make = {
        "batch": lambda: layers.BatchNormalization(momentum=0.5),
        "layer": lambda: layers.LayerNormalization(),
    }[norm]
    stack = [
        layers.Dense(32),
        make(),
        layers.Activation("relu"),
        layers.Dense(3, activation="softmax"),
    ]
    history = fit(stack, x, y, losses.SparseCategoricalCrossentropy(), 300, 0.2)
    assert history[-1] < 0.05 < history[0]
    # inference mode (moving statistics for BN) classifies the training set too
    assert np.all(forward(stack, x, False).data.argmax(1) == y)


def test_conv_stack_overfits(rng):
    x, y = classification_data(rng, 12, (8, 8, 1), 2)
    stack = [
        layers.Conv2D(6, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(8, 3, activation="relu"),
        layers.AveragePooling2D(pool_size=2, strides=1),
        layers.Flatten(),
        layers.Dense(2, activation="softmax"),
    ]
    history = fit(stack, x, y, losses.SparseCategoricalCrossentropy(), 200, 0.1)
    assert history[-1] < 0.05 < history[0]


def test_other_conv_layers_stack_overfits(rng):
    x, y = classification_data(rng, 10, (6, 6, 2), 2)
    stack = [
        layers.ZeroPadding2D(1),
        layers.SeparableConv2D(6, 3, depth_multiplier=2, activation="tanh"),
        layers.DepthwiseConv2D(3, padding="same", activation="tanh"),
        layers.Conv2D(8, 2, strides=2),
        layers.Conv2DTranspose(6, 2, strides=2, activation="tanh"),
        layers.UpSampling2D(),
        layers.Cropping2D(2),
        layers.GlobalMaxPooling2D(),
        layers.Dense(2, activation="softmax"),
    ]
    history = fit(stack, x, y, losses.SparseCategoricalCrossentropy(), 200, 0.2)
    assert history[-1] < 0.05 < history[0]
