"""Train a small CNN on Fashion-MNIST and save every numnet.viz plot to a folder.

Saves (default folder docs/images/): history.png, filters.png, feature_maps.png,
confusion_matrix.png, misclassified.png, model.png, and decision_boundary.png
(an MLP on the course notes' planar "flower" data set).

Run:  nice -n 5 python examples/viz_gallery.py [--out docs/images] [--epochs 3]
      [--device cuda]

Measured (shared, loaded 2-core machine): 3 epochs on 12,000 images, 692 s of
training, test accuracy 0.8605; the pictures in docs/images come from that run.
"""

from __future__ import annotations

import os
import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import layers, optimizers, viz
from numnet.datasets import fashion_mnist
from numnet.models import Sequential


def small_cnn() -> Sequential:
    """Conv(32, 5x5)-BN-ReLU-Pool, Conv(64, 3x3)-BN-ReLU-Pool, Dense(128), Dense(10).

    BatchNormalization uses momentum 0.9: with Keras' default 0.99 the moving
    variance still remembers its initial value 1 after a few hundred steps
    (0.99**255 = 8%), which is large next to the true variance of the first conv
    output (~0.01) and wrecks inference after a short run like this one.
    """
    return Sequential(
        [
            layers.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 5, padding="same", use_bias=False, name="conv1"),
            layers.BatchNormalization(momentum=0.9, name="bn1"),
            layers.Activation("relu", name="relu1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, padding="same", use_bias=False, name="conv2"),
            layers.BatchNormalization(momentum=0.9, name="bn2"),
            layers.Activation("relu", name="relu2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dropout(0.3, name="dropout"),
            layers.Dense(10, activation="softmax", name="output"),
        ]
    )


def flower_data(m: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The planar two-class "flower" of the course notes (400 points)."""
    rng = np.random.default_rng(seed)
    n, a = m // 2, 4
    xs, ys = [], []
    for label in (0, 1):
        t = np.linspace(label * 3.12, (label + 1) * 3.12, n) + rng.normal(0, 0.2, n)
        r = a * np.sin(4 * t) + rng.normal(0, 0.2, n)
        xs.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        ys.append(np.full(n, label))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def flower_boundary(path: str, device="cpu") -> None:
    """Fit a one-hidden-layer tanh MLP to the flower on ``device`` and draw its
    boundary."""
    x, y = flower_data()
    numnet.manual_seed(0)
    mlp = Sequential(
        [
            layers.Dense(8, activation="tanh", input_shape=(2,)),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    mlp.compile(optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    mlp.to(device)
    mlp.fit(x, y.astype(np.float32), batch_size=400, epochs=400, verbose=0)
    viz.plot_decision_boundary(mlp, x, y, path=path)


def main(argv=None) -> None:
    parser = make_parser(__doc__)
    parser.add_argument("--out", default="docs/images")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=12000, help="training images")
    parser.add_argument("--test-limit", type=int, default=None, help="test images")
    add_device_flag(parser)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    def out(name: str) -> str:
        return os.path.join(args.out, name)

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train = x_train[: args.limit, :, :, None].astype(np.float32) / 255.0
    y_train = y_train[: args.limit]
    x_test = x_test[: args.test_limit, :, :, None].astype(np.float32) / 255.0
    y_test = y_test[: args.test_limit]

    numnet.manual_seed(0)
    model = small_cnn()
    model.compile(
        optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.to(args.device)
    start = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        batch_size=128,
        epochs=args.epochs,
        validation_split=0.1,
        verbose=2,
    )
    print(f"training: {time.perf_counter() - start:.0f} s")
    probs = model.predict(x_test, batch_size=500, verbose=0)
    print(f"test accuracy: {np.mean(probs.argmax(1) == y_test):.4f}")

    names = list(fashion_mnist.CLASS_NAMES)
    viz.plot_history(history, path=out("history.png"))
    conv1 = next(layer for layer in model.layers if layer.name == "conv1")
    viz.plot_filters(conv1, path=out("filters.png"))
    viz.plot_feature_maps(model, x_test[:1], path=out("feature_maps.png"))
    viz.plot_confusion_matrix(
        y_test, probs, names, normalize=True, path=out("confusion_matrix.png")
    )
    viz.plot_misclassified(
        x_test, y_test, probs, names, max_images=15, path=out("misclassified.png")
    )
    viz.plot_model(model, path=out("model.png"))
    flower_boundary(out("decision_boundary.png"), args.device)
    print(f"saved the gallery to {args.out}/")


if __name__ == "__main__":
    main()
