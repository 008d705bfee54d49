"""The course-notes CNN on Fashion-MNIST, verbatim: the course's model and recipe.

Conv(32, 3x3) + ReLU, MaxPool 2, Conv(64, 3x3) + ReLU, MaxPool 2, Flatten,
Dense(128) + ReLU, Dropout(0.5), Dense(10) softmax; Adam(1e-3), batch 128.
Target: >= 0.915 test accuracy after 5 epochs.

Run:  nice -n 5 python examples/fashion_mnist_cnn.py [--epochs 5] [--limit N]
"""

from __future__ import annotations

import fashion_common as common

from numnet import layers, models


def build_model():
    """The course notes' model, layer for layer."""
    return models.Sequential(
        [
            layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def main(argv=None) -> float:
    """Train, evaluate on the 10k test images, print the report; return accuracy."""
    return common.run_example("CNN", __doc__, build_model, argv, epochs=5)


if __name__ == "__main__":
    main()
