"""YOLO on synthetic scenes: detect 1-4 Fashion-MNIST items on a 96x96 canvas.

Each canvas holds 1-4 Fashion-MNIST items, resized to 20-40 pixels, one per
quadrant at a random position, over Gaussian noise and clutter (faint bars and
blobs that are not objects). The ground-truth box is the tight box around the
item's pixels. Anchors are chosen by k-means on the training boxes (distance
1 - IoU); targets are YOLO grids (6x6 cells of 16 pixels, 3 anchors, 10
classes) from ``numnet.vision.encode_yolo_targets``. The detector is
``numnet.applications.yolo_small`` trained with ``numnet.vision.YoloLoss``;
decoding keeps scores >= 0.001 and applies per-class non-max suppression
(IoU 0.5), once with the best class per anchor and once with every class per
anchor. Reported on held-out canvases: VOC mAP@0.5 (target >= 0.80) and COCO
mAP@[.5:.95], and the time; a picture of detections is saved.

Run:  OPENBLAS_NUM_THREADS=1 nice -n 5 python examples/yolo_fashion.py
      [--epochs 15] [--limit N] [--plot yolo_detections.png] [--device cuda]
"""

from __future__ import annotations

import time

import numpy as np
from example_cli import add_device_flag, make_parser

import numnet
from numnet import models, optimizers
from numnet.applications import yolo_small
from numnet.datasets import fashion_mnist
from numnet.vision import (
    YoloLoss,
    coco_mean_average_precision,
    decode_yolo_output,
    encode_yolo_targets,
    kmeans_anchors,
    mean_anchor_iou,
    mean_average_precision,
)

CANVAS, GRID, ANCHORS, CLASSES = 96, 6, 3, 10
NAMES = [
    "T-shirt",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Boot",
]


def _resize_nearest(item: np.ndarray, size: int) -> np.ndarray:
    index = np.minimum((np.arange(size) + 0.5) * 28 / size, 27).astype(int)
    return item[index][:, index]


def _clutter(canvas: np.ndarray, rng) -> None:
    """Faint bars and blobs: structure that is not an object."""
    for _ in range(rng.integers(2, 6)):
        h, w = (rng.integers(2, 4), rng.integers(8, 24))[:: rng.choice([1, -1])]
        y, x = rng.integers(0, CANVAS - h), rng.integers(0, CANVAS - w)
        canvas[y : y + h, x : x + w] += rng.uniform(0.15, 0.4)


def synthesize(items, labels, count: int, rng):
    """``count`` canvases (count, 96, 96, 1) with their boxes and classes.

    Returns:
        ``(x, boxes, classes)``: boxes a list of (G_i, 4) corner boxes in [0, 1],
        classes a list of (G_i,) ints.
    """
    x = rng.normal(0.0, 0.05, (count, CANVAS, CANVAS)).astype(np.float32)
    all_boxes, all_classes, next_item = [], [], 0
    half = CANVAS // 2
    for k in range(count):
        _clutter(x[k], rng)
        quadrants = rng.permutation(4)[: rng.integers(1, 5)]
        boxes, classes = [], []
        for q in quadrants:
            i = next_item % len(items)
            next_item += 1
            size = int(rng.integers(20, 41))
            patch = _resize_nearest(items[i], size)
            y0 = (q // 2) * half + rng.integers(0, half - size + 1)
            x0 = (q % 2) * half + rng.integers(0, half - size + 1)
            x[k, y0 : y0 + size, x0 : x0 + size] += patch
            rows, cols = (
                np.flatnonzero((patch > 0.1).any(1)),
                np.flatnonzero((patch > 0.1).any(0)),
            )
            boxes.append(
                [x0 + cols[0], y0 + rows[0], x0 + cols[-1] + 1, y0 + rows[-1] + 1]
            )
            classes.append(int(labels[i]))
        all_boxes.append(np.array(boxes, np.float64) / CANVAS)
        all_classes.append(np.array(classes, np.int64))
    return np.clip(x, 0, 1)[..., None], all_boxes, all_classes


def save_picture(path, images, detections, truths, count: int = 8) -> None:
    """Draw predicted (coloured, labelled) and true (dashed white) boxes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, count // 2, figsize=(3 * count // 2, 6.4))
    colours = plt.get_cmap("tab10")
    for ax, image, (boxes, scores, classes), (true_boxes, _) in zip(
        axes.ravel(), images, detections, truths, strict=False
    ):
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        for b in true_boxes * CANVAS:
            ax.add_patch(
                plt.Rectangle(
                    b[:2], *(b[2:] - b[:2]), fill=False, ec="white", ls="--", lw=1
                )
            )
        for b, s, c in zip(boxes * CANVAS, scores, classes, strict=True):
            if s < 0.3:
                continue
            ax.add_patch(
                plt.Rectangle(b[:2], *(b[2:] - b[:2]), fill=False, ec=colours(c), lw=2)
            )
            ax.text(
                b[0],
                b[1] - 1,
                f"{NAMES[c]} {s:.2f}",
                color=colours(c),
                fontsize=7,
                va="bottom",
            )
        ax.set_axis_off()
    fig.suptitle("YOLO detections (score >= 0.3); dashed: ground truth")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def train(args, x_train, y_train, anchors):
    """Build and fit ``yolo_small``; return the model and the training seconds."""
    model = yolo_small((CANVAS, CANVAS, 1), ANCHORS, CLASSES)
    steps = args.epochs * -(-len(x_train) // args.batch_size)
    schedule = optimizers.schedules.CosineDecay(args.lr, max(steps, 1), alpha=0.05)
    model.compile(optimizers.Adam(schedule), YoloLoss(anchors, CLASSES))
    model.to(args.device)
    print(
        f"yolo_small: {model.count_params():,} parameters, {len(x_train)} "
        f"training canvases, {args.epochs} epochs"
    )
    start = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=args.verbose,
    )
    return model, time.perf_counter() - start


def main(argv=None) -> dict:
    parser = make_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=15, help="training epochs")
    parser.add_argument("--limit", type=int, default=16000, help="training canvases")
    parser.add_argument("--test-limit", type=int, default=2000, help="test canvases")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    parser.add_argument(
        "--plot",
        default="yolo_detections.png",
        help="where to save the picture ('' to skip)",
    )
    parser.add_argument("--save", default=None, help="save the trained model here")
    parser.add_argument(
        "--evaluate",
        default=None,
        help="skip training: evaluate a model saved with --save (same --seed and "
        "--limit, so the anchors and test canvases are the same)",
    )
    parser.add_argument(
        "--score-threshold",
        type=float,
        default=0.001,
        help="decoding keeps scores >= this (low, as for COCO mAP)",
    )
    add_device_flag(parser)
    args = parser.parse_args(argv)

    numnet.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (x_tr, y_tr), (x_te, y_te) = fashion_mnist.load_data()
    x_tr, x_te = x_tr / np.float32(255), x_te / np.float32(255)
    x_train, b_train, c_train = synthesize(x_tr, y_tr, args.limit, rng)
    x_test, b_test, c_test = synthesize(x_te, y_te, args.test_limit, rng)
    sizes = np.concatenate(b_train)
    anchors = kmeans_anchors(sizes[:, 2:] - sizes[:, :2], ANCHORS, seed=args.seed)
    y_train = encode_yolo_targets(b_train, c_train, GRID, anchors, CLASSES)
    print(
        f"anchors (w, h) by k-means on {len(sizes)} boxes: "
        f"{np.round(anchors * CANVAS, 1).tolist()} pixels, mean best IoU "
        f"{mean_anchor_iou(sizes[:, 2:] - sizes[:, :2], anchors):.3f}"
    )

    if args.evaluate:
        model = models.load_model(args.evaluate, compile=False).to(args.device)
        train_seconds = 0.0
        print(f"evaluating {args.evaluate} (no training)")
    else:
        model, train_seconds = train(args, x_train, y_train, anchors)
    start = time.perf_counter()
    out = model.predict(x_test, batch_size=250, verbose=0)
    detections = decode_yolo_output(
        out,
        anchors,
        score_threshold=args.score_threshold,
        iou_threshold=0.5,
        from_logits=True,
    )
    predict_seconds = time.perf_counter() - start
    multi = decode_yolo_output(
        out,
        anchors,
        score_threshold=args.score_threshold,
        iou_threshold=0.5,
        from_logits=True,
        multi_label=True,
    )
    truths = list(zip(b_test, c_test, strict=True))
    map50 = mean_average_precision(detections, truths, iou_threshold=0.5)
    coco = coco_mean_average_precision(detections, truths)
    map50_multi, per_class = mean_average_precision(multi, truths, per_class=True)
    coco_multi = coco_mean_average_precision(multi, truths)
    best = max(map50, map50_multi)
    target = "met" if best >= 0.80 else "not met"
    print(
        f"training {train_seconds / 60:.1f} min; detection of {len(x_test)} "
        f"test canvases {predict_seconds:.1f} s"
    )
    print(
        f"held-out VOC mAP@0.5: {map50:.3f} (best class per anchor), "
        f"{map50_multi:.3f} (every class per anchor); target 0.80: {target}"
    )
    print(
        f"held-out COCO mAP@[.5:.95]: {coco:.3f} (best class), {coco_multi:.3f} "
        f"(every class)"
    )
    print(
        "AP@0.5 per class (every class per anchor): "
        + ", ".join(f"{NAMES[c]} {ap:.2f}" for c, ap in per_class.items())
    )
    if args.save:
        model.save(args.save)
        print(f"model saved to {args.save}")
    if args.plot:
        save_picture(args.plot, x_test, detections, truths)
        print(f"picture of detections saved to {args.plot}")
    return {
        "map50": map50,
        "coco_map": coco,
        "map50_multi": map50_multi,
        "coco_map_multi": coco_multi,
        "train_seconds": train_seconds,
    }


if __name__ == "__main__":
    main()
