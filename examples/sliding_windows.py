"""Sliding windows, explicit and convolutional: one classifier, two ways to scan.

A small CNN with "valid" convolutions is trained on 28x28 Fashion-MNIST crops.
``numnet.vision.to_fully_convolutional`` then turns its Dense layers into
convolutions (the first into a 5x5 conv over the last 5x5x32 map, the next into
a 1x1 conv), so the same weights run on a whole canvas and return a map of class
probabilities, one per 28x28 window at stride 4 (the product of the two 2x2
poolings). The explicit loop classifies every window separately
(``numnet.vision.sliding_window_scores``). Printed: the largest difference
between the two score maps, the time of each, and how often the window on an
item's position names the item's class.

Run:  OPENBLAS_NUM_THREADS=1 nice -n 5 python examples/sliding_windows.py
      [--epochs 3] [--limit N] [--canvases 20] [--device cuda]
"""

from __future__ import annotations

import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import layers, models
from numnet.datasets import fashion_mnist
from numnet.vision import sliding_window_scores, to_fully_convolutional

STRIDE = 4  # two 2x2 max-poolings
CANVAS = (84, 112)


def build_classifier() -> models.Sequential:
    """28x28 crop -> 10 class probabilities, valid convolutions only."""
    return models.Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(16, 5, activation="relu", name="conv1"),  # 24x24
            layers.MaxPooling2D(2, name="pool1"),  # 12x12
            layers.Conv2D(32, 3, activation="relu", name="conv2"),  # 10x10
            layers.MaxPooling2D(2, name="pool2"),  # 5x5
            layers.Flatten(name="flatten"),
            layers.Dense(64, activation="relu", name="fc1"),
            layers.Dense(10, activation="softmax", name="predictions"),
        ],
        name="crop_classifier",
    )


def make_canvases(items, labels, count: int, rng):
    """Paste 4 items per canvas at window positions (multiples of the stride).

    Returns:
        canvases (count, 84, 112, 1) and a list of (canvas, row, col, label)
        with (row, col) the item's cell in the score map.
    """
    canvases = rng.uniform(0, 0.05, (count,) + CANVAS + (1,)).astype(np.float32)
    placed = []
    cells = [(r, c) for r in (0, 14) for c in (0, 10)]  # map cells, 2x2 layout
    for k in range(count):
        for j, (r, c) in enumerate(cells):
            i = (4 * k + j) % len(items)
            y, x = r * STRIDE, c * STRIDE + (j % 2) * 8
            canvases[k, y : y + 28, x : x + 28, 0] += items[i]
            placed.append((k, r, x // STRIDE, labels[i]))
    return np.clip(canvases, 0, 1), placed


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=3, help="training epochs")
    parser.add_argument("--limit", type=int, default=None, help="training images")
    parser.add_argument("--canvases", type=int, default=20, help="test canvases")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    add_device_flag(parser)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (x_tr, y_tr), (x_te, y_te) = fashion_mnist.load_data()
    x_tr, y_tr = x_tr[: args.limit], y_tr[: args.limit]
    x_train = (x_tr / np.float32(255)).astype(np.float32)[..., None]
    model = build_classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.to(args.device)
    start = time.perf_counter()
    model.fit(
        x_train,
        y_tr.astype(np.int64),
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=args.verbose,
    )
    train_seconds = time.perf_counter() - start

    fcn = to_fully_convolutional(model).to(args.device)  # scans where the loop does
    items = (x_te / np.float32(255)).astype(np.float32)
    canvases, placed = make_canvases(items, y_te, args.canvases, rng)
    fcn.predict(canvases[:1], verbose=0)  # warm-up
    start = time.perf_counter()
    conv_map = fcn.predict(canvases, batch_size=8, verbose=0)
    conv_seconds = time.perf_counter() - start
    start = time.perf_counter()
    loop_map = sliding_window_scores(model, canvases, window=28, stride=STRIDE)
    loop_seconds = time.perf_counter() - start

    difference = float(np.abs(conv_map - loop_map).max())
    hits = [conv_map[k, r, c].argmax() == label for k, r, c, label in placed]
    windows = int(np.prod(conv_map.shape[:3]))
    print(
        f"crop classifier: {model.count_params():,} parameters, trained on "
        f"{len(x_train)} crops in {train_seconds:.1f} s"
    )
    print(
        f"score map {conv_map.shape[1]}x{conv_map.shape[2]} per "
        f"{CANVAS[0]}x{CANVAS[1]} canvas, {windows} windows in all"
    )
    print(
        f"convolutional: {conv_seconds:.3f} s; explicit loop over windows: "
        f"{loop_seconds:.3f} s ({loop_seconds / conv_seconds:.1f}x slower)"
    )
    print(f"largest score difference between the two: {difference:.2e}")
    print(
        f"window on an item names its class: {np.mean(hits):.1%} of {len(hits)} items"
    )
    return {
        "difference": difference,
        "conv_seconds": conv_seconds,
        "loop_seconds": loop_seconds,
        "item_accuracy": float(np.mean(hits)),
    }


if __name__ == "__main__":
    main()
