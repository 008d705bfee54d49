"""The course CNN with BatchNormalization after every convolution and Dense.

Conv(32, 3x3) - BN - ReLU - MaxPool 2 - Conv(64, 3x3) - BN - ReLU - MaxPool 2 -
Flatten - Dense(128) - BN - ReLU - Dropout(0.5) - Dense(10) softmax; the
convolutions and the Dense before a BN have no bias (BN's beta replaces it).
Adam(1e-3), batch 128. Target: >= 0.925 test accuracy.

Run:  nice -n 5 python examples/fashion_mnist_cnn_bn.py [--epochs 8] [--limit N]
"""

from __future__ import annotations

import fashion_common as common

import numnet
from numnet import layers, models, optimizers


def build_model():
    """Conv/Dense blocks with BatchNormalization before the activation."""
    return models.Sequential(
        [
            layers.Conv2D(32, (3, 3), use_bias=False, input_shape=(28, 28, 1)),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(128, use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def main(argv=None) -> float:
    """Train, evaluate on the 10k test images, print the report; return accuracy."""
    args = common.parse_args(__doc__, argv, epochs=8)
    numnet.manual_seed(args.seed)
    data = common.load(args.limit)
    model = build_model()
    model.compile(
        optimizer=optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.summary()
    return common.train_and_report("CNN + BatchNormalization", model, args, data)


if __name__ == "__main__":
    main()
