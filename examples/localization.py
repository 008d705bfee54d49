"""Single-object localization: classify a Fashion-MNIST item and box it.

Images are synthesized: each 28x28 Fashion-MNIST item is resized to a random
size between 20 and 40 pixels and pasted at a random position on a 64x64
canvas with a little background noise. The target box is the tight box around
the item's pixels, ``(x1, y1, x2, y2)`` divided by 64 (the course's
normalized box coordinates, corners format).

The model is a functional ``Model`` with one input and two outputs: a conv
tower (a stride-2 conv, then Conv-BN-ReLU-MaxPool x3) and a shared dense layer
feed a classification
head (10 logits, sparse categorical cross-entropy) and a box head (4 sigmoid
units, Huber loss). The total loss is ``class_loss + box_weight * box_loss``
(``loss_weights``), the multi-task loss of the course.

Reported: test classification accuracy, mean IoU between predicted and true
boxes (``numnet.vision.iou``), and the fraction of boxes with IoU >= 0.5.

Run:  OPENBLAS_NUM_THREADS=1 nice -n 5 python examples/localization.py
      [--epochs 8] [--limit N] [--device cuda]
"""

from __future__ import annotations

import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import layers, losses, models, optimizers
from numnet.datasets import fashion_mnist
from numnet.vision import iou

CANVAS = 64


def _resize_nearest(items: np.ndarray, size: int) -> np.ndarray:
    """(N, 28, 28) -> (N, size, size) by nearest-neighbour index maps."""
    index = np.minimum((np.arange(size) + 0.5) * items.shape[1] / size, 27).astype(int)
    return items[:, index][:, :, index]


def synthesize(items, labels, rng, size_range=(20, 40), noise=0.05):
    """Paste items on blank canvases; return images, labels and corner boxes.

    Vectorized over the images of each size (a loop over the ~20 sizes only).

    Returns:
        ``(x, y, boxes)``: float32 (N, 64, 64, 1) in [0, 1], int64 labels (N,),
        float32 boxes (N, 4) as (x1, y1, x2, y2) / 64.
    """
    n = len(items)
    items = items.astype(np.float32) / np.float32(255)
    canvas = rng.normal(0.0, noise, size=(n, CANVAS, CANVAS)).astype(np.float32)
    boxes = np.zeros((n, 4), np.float32)
    sizes = rng.integers(size_range[0], size_range[1] + 1, n)
    for size in np.unique(sizes):
        idx = np.flatnonzero(sizes == size)
        patch = _resize_nearest(items[idx], int(size))
        y0 = rng.integers(0, CANVAS - size + 1, len(idx))
        x0 = rng.integers(0, CANVAS - size + 1, len(idx))
        span = np.arange(size)
        rows = (y0[:, None] + span)[:, :, None]
        cols = (x0[:, None] + span)[:, None, :]
        canvas[idx[:, None, None], rows, cols] += patch
        boxes[idx] = _tight_boxes(patch > 0.1, x0, y0)
    x = np.clip(canvas, 0.0, 1.0)[..., None]
    return x, labels.astype(np.int64), boxes / np.float32(CANVAS)


def _tight_boxes(mask: np.ndarray, x0, y0) -> np.ndarray:
    """Pixel-corner box of the True pixels of each (size, size) mask."""
    rows, cols = mask.any(axis=2), mask.any(axis=1)
    size = mask.shape[1]
    top, left = rows.argmax(axis=1), cols.argmax(axis=1)
    bottom = size - rows[:, ::-1].argmax(axis=1)  # exclusive
    right = size - cols[:, ::-1].argmax(axis=1)
    return np.stack([x0 + left, y0 + top, x0 + right, y0 + bottom], 1)


def build_model(num_classes: int = 10) -> models.Model:
    """Conv tower -> shared dense -> {class logits, sigmoid box}.

    The first convolution (5x5, stride 2) halves the 64x64 canvas at once, so no
    full-resolution feature map is ever stored; three Conv-BN-ReLU-MaxPool
    blocks follow (32 -> 16 -> 8 -> 4), and Flatten keeps where things are.
    """
    image = layers.Input((CANVAS, CANVAS, 1), name="image")
    x = layers.Conv2D(16, 5, strides=2, padding="same", use_bias=False,
                      name="conv1")(image)  # fmt: skip
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.Activation("relu", name="relu1")(x)
    for i, filters in enumerate((32, 64, 64), start=2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False,
                          name=f"conv{i}")(x)  # fmt: skip
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.Activation("relu", name=f"relu{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name="shared")(x)
    label = layers.Dense(num_classes, name="label")(x)
    box = layers.Dense(4, activation="sigmoid", name="box")(x)
    return models.Model(image, [label, box], name="localizer")


def matched_iou(pred: np.ndarray, true: np.ndarray, chunk: int = 512) -> np.ndarray:
    """IoU of each predicted box with its own true box (diagonal of numnet's iou)."""
    parts = [
        np.diagonal(iou(pred[i : i + chunk], true[i : i + chunk]))
        for i in range(0, len(pred), chunk)
    ]
    return np.concatenate(parts)


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--limit", type=int, default=20000, help="training images")
    parser.add_argument("--test-limit", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--box-weight", type=float, default=20.0)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    add_device_flag(parser)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (x_tr, y_tr), (x_te, y_te) = fashion_mnist.load_data()
    x_train, y_train, b_train = synthesize(x_tr[: args.limit], y_tr[: args.limit], rng)
    x_test, y_test, b_test = synthesize(
        x_te[: args.test_limit], y_te[: args.test_limit], rng
    )
    model = build_model()
    steps = args.epochs * -(-len(x_train) // args.batch_size)
    model.compile(
        optimizer=optimizers.Adam(
            optimizers.schedules.CosineDecay(args.lr, max(steps, 1), alpha=0.05)
        ),
        loss={
            "label": losses.SparseCategoricalCrossentropy(from_logits=True),
            "box": "huber",
        },
        loss_weights={"label": 1.0, "box": args.box_weight},
        metrics={"label": ["accuracy"]},
    )
    model.to(args.device)
    print(f"localizer: {model.count_params():,} parameters, {len(x_train)} "
          f"training images, {args.epochs} epochs")  # fmt: skip
    start = time.perf_counter()
    model.fit(x_train, {"label": y_train, "box": b_train}, epochs=args.epochs,
              batch_size=args.batch_size, verbose=args.verbose)  # fmt: skip
    logits, boxes = model.predict(x_test, batch_size=500, verbose=0)
    accuracy = float((logits.argmax(axis=1) == y_test).mean())
    overlaps = matched_iou(boxes, b_test)
    seconds = time.perf_counter() - start
    print(f"test classification accuracy {accuracy:.4f}; mean IoU "
          f"{overlaps.mean():.3f}; IoU >= 0.5 for {(overlaps >= 0.5).mean():.1%} "
          f"of the boxes ({seconds / 60:.1f} min)")  # fmt: skip
    return {"accuracy": accuracy, "mean_iou": float(overlaps.mean()),
            "iou50": float((overlaps >= 0.5).mean()), "seconds": seconds}  # fmt: skip


if __name__ == "__main__":
    main()
