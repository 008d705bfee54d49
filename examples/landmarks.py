"""Landmark regression with the course's masked loss: is there an item, and where
are its five key points?

Each 48x48 canvas holds, with probability 1/2, one Fashion-MNIST item resized to
20-32 pixels at a random position (else only noise). The landmarks of an item
are five points of its silhouette: the top-most, bottom-most, left-most and
right-most pixels and the centroid, (x, y) each divided by 48. The target is
``[pc, x1, y1, ..., x5, y5]``; an empty canvas has ``pc = 0`` and NaN ("?")
landmarks, and 10% of the landmarks of the other canvases are also marked
missing, as when a point is occluded. ``numnet.vision.LocalizationLoss``
(``num_classes=0, num_coords=10``) drops every NaN element and the landmark
terms of empty canvases.

Printed: presence accuracy and the mean landmark error in pixels on the test
canvases holding an item, and the time.

Run:  OPENBLAS_NUM_THREADS=1 nice -n 5 python examples/landmarks.py
      [--epochs 10] [--limit N] [--device cuda]
"""

from __future__ import annotations

import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import layers, models, optimizers
from numnet.datasets import fashion_mnist
from numnet.vision import LocalizationLoss

CANVAS = 48
POINTS = 5


def _resize_nearest(items: np.ndarray, size: int) -> np.ndarray:
    index = np.minimum((np.arange(size) + 0.5) * 28 / size, 27).astype(int)
    return items[:, index][:, :, index]


def _landmarks(mask: np.ndarray) -> np.ndarray:
    """(n, s, s) silhouettes -> (n, 5, 2) (x, y) points in the patch's pixels."""
    n = len(mask)
    ys, xs = np.indices(mask.shape[1:])
    big = mask.shape[1] * 4
    points = np.zeros((n, POINTS, 2))
    for p, key in enumerate((ys, -ys, xs, -xs)):  # top, bottom, left, right
        score = np.where(mask, key, big).reshape(n, -1)
        flat = score.argmin(axis=1)
        points[:, p] = np.stack([xs.ravel()[flat], ys.ravel()[flat]], 1) + 0.5
    weight = mask.reshape(n, -1).astype(float)
    weight /= np.maximum(weight.sum(axis=1, keepdims=True), 1)
    points[:, 4] = np.stack([weight @ xs.ravel(), weight @ ys.ravel()], 1) + 0.5
    return points


def synthesize(items: np.ndarray, rng, missing: float = 0.1):
    """Canvases (n, 48, 48, 1) and targets (n, 11) with NaN for unknown values."""
    n = len(items)
    items = items.astype(np.float32) / np.float32(255)
    x = rng.normal(0.0, 0.05, (n, CANVAS, CANVAS)).astype(np.float32)
    y = np.full((n, 1 + 2 * POINTS), np.nan, np.float32)
    present = rng.random(n) < 0.5
    y[:, 0] = present
    sizes = rng.integers(20, 33, n)
    for size in np.unique(sizes[present]):
        idx = np.flatnonzero(present & (sizes == size))
        patch = _resize_nearest(items[idx], int(size))
        y0, x0 = (rng.integers(0, CANVAS - size + 1, len(idx)) for _ in range(2))
        span = np.arange(size)
        rows, cols = (y0[:, None] + span)[:, :, None], (x0[:, None] + span)[:, None, :]
        x[idx[:, None, None], rows, cols] += patch
        points = _landmarks(patch > 0.1) + np.stack([x0, y0], 1)[:, None, :]
        y[idx, 1:] = (points / CANVAS).reshape(len(idx), -1)
    hidden = rng.random((n, POINTS)) < missing
    y[:, 1:][np.repeat(hidden, 2, axis=1) & present[:, None]] = np.nan
    return np.clip(x, 0, 1)[..., None], y


def build_model() -> models.Sequential:
    """Conv tower -> 11 outputs: the presence logit and 10 coordinates."""
    stack = [
        layers.Input((CANVAS, CANVAS, 1)),
        layers.Conv2D(16, 5, strides=2, padding="same", use_bias=False),  # 24x24
        layers.BatchNormalization(),
        layers.ReLU(),
    ]
    for filters in (32, 64):  # 12x12, then 6x6
        stack += [
            layers.Conv2D(filters, 3, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.MaxPooling2D(2),
        ]
    stack += [
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(1 + 2 * POINTS, name="landmarks"),
    ]
    return models.Sequential(stack, name="landmark_net")


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=10, help="training epochs")
    parser.add_argument("--limit", type=int, default=10000, help="training canvases")
    parser.add_argument("--test-limit", type=int, default=5000, help="test canvases")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    add_device_flag(parser)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (x_tr, _), (x_te, _) = fashion_mnist.load_data()
    x_train, y_train = synthesize(x_tr[: args.limit], rng)
    x_test, y_test = synthesize(x_te[: args.test_limit], rng, missing=0.0)
    model = build_model()
    loss = LocalizationLoss(num_classes=0, num_coords=2 * POINTS, coord_weight=50.0)
    model.compile(optimizers.Adam(2e-3), loss)
    model.to(args.device)
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
              verbose=args.verbose)  # fmt: skip
    seconds = time.perf_counter() - start
    pred = model.predict(x_test, batch_size=500, verbose=0)
    present = y_test[:, 0] == 1
    accuracy = float(((pred[:, 0] > 0) == present).mean())
    diff = (pred[present, 1:] - y_test[present, 1:]).reshape(-1, POINTS, 2) * CANVAS
    error = float(np.sqrt((diff**2).sum(axis=-1)).mean())
    print(f"landmark net: {model.count_params():,} parameters, {len(x_train)} "
          f"training canvases, {args.epochs} epochs, {seconds:.1f} s")  # fmt: skip
    print(f"test presence accuracy {accuracy:.4f}; mean landmark error "
          f"{error:.2f} pixels on a {CANVAS}x{CANVAS} canvas")  # fmt: skip
    return {"presence_accuracy": accuracy, "pixel_error": error, "seconds": seconds}


if __name__ == "__main__":
    main()
