"""A multilayer perceptron on Fashion-MNIST (flattened 28x28 images).

Dense(512) + ReLU, Dropout(0.2), Dense(256) + ReLU, Dropout(0.2), Dense(10)
softmax; Adam(1e-3), batch 128. Target: >= 0.89 test accuracy.

Run:  nice -n 5 python examples/fashion_mnist_mlp.py [--epochs 20] [--limit N]
      [--device cuda]
"""

from __future__ import annotations

import fashion_common as common

from numnet import layers, models


def build_model():
    """784 -> 512 -> 256 -> 10 with dropout."""
    return models.Sequential(
        [
            layers.Dense(512, activation="relu", input_shape=(784,)),
            layers.Dropout(0.2),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )


def main(argv=None, default_epochs: int = 20, doc: str = __doc__) -> float:
    """Train, evaluate on the 10k test images, print the report; return accuracy."""
    return common.run_example(
        "MLP", doc, build_model, argv, epochs=default_epochs, flatten=True
    )


if __name__ == "__main__":
    main()
