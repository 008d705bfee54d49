"""A batch-normalized CNN on Fashion-MNIST (the BatchNormalization variant).

Four Conv(3x3, same)-BN-ReLU blocks with 32, 64, 64 and 128 channels and a
max-pool after the first, third and fourth, then Dense(256)-BN-ReLU,
Dropout(0.4) and a 10-way softmax. Convolutions and the Dense before a BN
have no bias (BN's beta replaces it). Adam with a cosine decay of the
learning rate from 2e-3 over the run, batch 128, 5,000 training images held
out for validation. Target: >= 0.925 test accuracy.

``examples/fashion_mnist_augmented.py`` trains the same network with
on-the-fly augmentation.

Run:  python examples/fashion_mnist_cnn_bn.py [--epochs 8] [--limit N] [--device cuda]
"""

from __future__ import annotations

import fashion_common as common

from numnet import layers, models, optimizers
from numnet.optimizers.schedules import CosineDecay


def conv_bn_relu(filters: int) -> list:
    """Conv 3x3 (same, no bias: BN's beta plays that role), BN, ReLU."""
    return [
        layers.Conv2D(filters, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("relu"),
    ]


def build_model() -> models.Sequential:
    """28x28x1 -> [32] pool -> [64, 64] pool -> [128] pool -> Dense(256) -> 10."""
    return models.Sequential(
        [
            layers.Input(shape=(28, 28, 1)),
            *conv_bn_relu(32),
            layers.MaxPooling2D(2),
            *conv_bn_relu(64),
            *conv_bn_relu(64),
            layers.MaxPooling2D(2),
            *conv_bn_relu(128),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(256, use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dropout(0.4),
            layers.Dense(10, activation="softmax"),
        ]
    )


def compile_model(model, steps: int, lr: float = 2e-3) -> None:
    """Adam whose learning rate decays along a cosine over ``steps`` updates."""
    schedule = CosineDecay(lr, decay_steps=max(1, steps), alpha=0.01)
    model.compile(
        optimizer=optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def main(argv=None) -> float:
    """Train, evaluate on the 10k test images, print the report; return accuracy."""
    return common.run_example(
        "CNN + BatchNormalization", __doc__, build_model, argv, epochs=8,
        compile_model=compile_model,
    )  # fmt: skip


if __name__ == "__main__":
    main()
