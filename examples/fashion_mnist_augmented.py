"""A batch-normalized CNN trained with on-the-fly augmentation on Fashion-MNIST.

Augmentation: a random horizontal flip and a random crop of the image padded by
2 pixels (a shift of up to ±2 pixels), drawn independently for every image of
every batch by numnet.data.augment, inside the DataLoader that fit consumes.
The learning rate follows a cosine decay over the whole run.

Run:  python examples/fashion_mnist_augmented.py [--epochs 12] [--device cuda]
      (--limit N trains on N images for a quick check; --no-augment for the baseline)

Result on this 2-core machine (one BLAS thread, 12 epochs): test accuracy 0.9337
(test loss 0.177) in 40.4 min; with --no-augment 0.9347 (test loss 0.260, training
accuracy 0.995) in 33.4 min. See docs/data-and-augmentation.md, "Does it pay?".
"""

from __future__ import annotations

import os
import time

import numpy as np
from example_cli import add_device_flag, make_parser
from fashion_mnist_cnn_bn import build_model, compile_model

import numnet
from numnet.data import DataLoader
from numnet.data.augment import Compose, RandomCrop, RandomFlip
from numnet.datasets import fashion_mnist


def save_augmentation_preview(x: np.ndarray, augment, path: str) -> None:
    """Top row: training images; three rows below: augmented versions."""
    from matplotlib.figure import Figure

    originals = x[:8]
    rows = [originals] + [augment(originals) for _ in range(3)]
    fig = Figure(figsize=(8.0, 4.2), dpi=100, layout="constrained")
    for r, images in enumerate(rows):
        for c, image in enumerate(images):
            ax = fig.add_subplot(len(rows), len(originals), r * len(originals) + c + 1)
            ax.imshow(image[:, :, 0], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel("original" if r == 0 else "augmented", fontsize=8)
    fig.savefig(path)


def main() -> None:
    parser = make_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--limit", type=int, default=None, help="training images")
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--preview", default="docs/images/augmentation.png")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--monitor-test",
        action="store_true",
        help="print the test accuracy after every epoch (for the curve only: the "
        "epochs are fixed, nothing is selected on the test set)",
    )
    add_device_flag(parser)
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train = x_train[: args.limit, :, :, None].astype(np.float32) / 255.0
    y_train = y_train[: args.limit].astype(np.int64)
    x_test = x_test[:, :, :, None].astype(np.float32) / 255.0

    augment = Compose(
        [RandomFlip("horizontal"), RandomCrop(28, 28, padding=2)], seed=args.seed
    )
    if args.preview:
        os.makedirs(os.path.dirname(args.preview) or ".", exist_ok=True)
        save_augmentation_preview(x_train, augment, args.preview)
    train = DataLoader(
        (x_train, y_train),
        batch_size=args.batch_size,
        shuffle=True,
        seed=args.seed,
        transform=None if args.no_augment else augment,
    )

    numnet.config.keep_freed_memory()  # allocator opt-in of training scripts (README)
    numnet.manual_seed(args.seed)
    model = build_model()  # the network of examples/fashion_mnist_cnn_bn.py
    compile_model(model, args.epochs * len(train), args.lr)
    model.to(args.device)
    model.summary()
    start = time.perf_counter()
    monitor = (x_test, y_test) if args.monitor_test else None
    model.fit(train, epochs=args.epochs, verbose=2, validation_data=monitor)
    train_time = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
    total = time.perf_counter() - start
    print(
        f"augment={not args.no_augment} epochs={args.epochs} "
        f"train images={len(x_train)}: test accuracy {accuracy:.4f}, "
        f"test loss {loss:.4f}; training {train_time / 60:.1f} min, "
        f"total {total / 60:.1f} min ({train_time / args.epochs:.0f} s/epoch)"
    )


if __name__ == "__main__":
    main()
